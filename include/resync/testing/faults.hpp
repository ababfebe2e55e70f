#pragma once
/// \file
/// The fault kit for durable steps, generic over any Store: a `FaultPlan` counts every durable
/// step a session takes - each write to the store and each step of a backup or staging file -
/// and makes the K-th fail (a full disk, an I/O error) or "crashes" the process before or after
/// it: from then on nothing more reaches storage or the network. `CrashingStore<S>` and
/// `CrashingTransport<T>` put a plan between a session and the real store and transport; a
/// restart is a new session over the store itself, which holds exactly what reached storage.
///
///     resync::testing::FaultPlan plan;
///     plan.crash_after(5);                                    // the 5th durable step, then nothing
///     resync::testing::CrashingStore guarded(store, plan);
///     resync::testing::CrashingTransport link(loopback, plan);
///     options.file_hook = plan.file_hook();
///     SyncSession<decltype(guarded), decltype(link), P> session(guarded, link, policy, options);
///     while (!plan.crashed() && ...) session.poll();
///     // restart: a new session over `store` (and the same backup directory)

#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace resync::testing {

/// Which durable step to fault, and how.
class FaultPlan {
public:
    /// Crashes instead of the `k`-th durable step (1-based): it does not happen, nor anything after.
    void crash_before(std::size_t k) { arm(k, Kind::crash_before, {}); }
    /// Crashes right after the `k`-th durable step: it happens, nothing after it does.
    void crash_after(std::size_t k) { arm(k, Kind::crash_after, {}); }
    /// The `k`-th durable step fails with `error` (as the OS would say a full disk or an I/O
    /// error); later steps go on normally.
    void fail_at(std::size_t k, std::error_code error) { arm(k, Kind::fail, error); }
    /// No fault: only counts (a clean run, to learn how many durable steps it takes).
    void disarm() { arm(0, Kind::none, {}); }

    /// Whether the "process" has crashed: nothing reaches storage or the network any more.
    bool crashed() const noexcept { return crashed_; }
    /// Durable steps seen (attempted) so far.
    std::size_t steps() const noexcept { return steps_; }
    /// What each durable step was, in order ("store: write_sync_state", "file: sync /x/y", ...).
    const std::vector<std::string>& log() const noexcept { return log_; }

    /// Called before a durable step: an error means it must not happen (a crash, or the planned
    /// failure). Counts the step.
    std::error_code before(std::string what) {
        if (crashed_) return crash_error();
        ++steps_;
        log_.push_back(std::move(what));
        if (steps_ != at_) return {};
        switch (kind_) {
        case Kind::crash_before: crashed_ = true; return crash_error();
        case Kind::fail: return error_;
        case Kind::crash_after: after_pending_ = true; return {};
        case Kind::none: return {};
        }
        return {};
    }
    /// Called once a durable step happened: crashes when the plan says so.
    void after() {
        if (after_pending_) {
            after_pending_ = false;
            crashed_ = true;
        }
    }

    /// The hook for `SessionOptions::file_hook`: every step of a backup or staging file counts.
    /// (A crash "after" a file step takes effect at the next durable step: nothing in between
    /// is durable.)
    FileHook file_hook() {
        return [this](FileStep step, std::string_view path) -> std::error_code {
            after();
            return before("file: " + std::string(name(step)) + " " + std::string(path));
        };
    }

private:
    enum class Kind : std::uint8_t { none, crash_before, crash_after, fail };

    void arm(std::size_t k, Kind kind, std::error_code error) {
        at_ = k;
        kind_ = kind;
        error_ = error;
        after_pending_ = false;
    }
    static std::error_code crash_error() { return std::make_error_code(std::errc::io_error); }
    static std::string_view name(FileStep s) {
        switch (s) {
        case FileStep::create_directory: return "create directory";
        case FileStep::create: return "create";
        case FileStep::write: return "write";
        case FileStep::sync: return "sync";
        case FileStep::publish: return "publish";
        case FileStep::sync_directory: return "sync directory";
        }
        return "?";
    }

    std::size_t at_ = 0;
    Kind kind_ = Kind::none;
    std::error_code error_;
    bool crashed_ = false;
    bool after_pending_ = false;
    std::size_t steps_ = 0;
    std::vector<std::string> log_;
};

namespace detail {
template <class S>
struct CapabilitiesOf {
    using type = capabilities<>;
};
template <class S>
    requires requires { typename S::store_capabilities; }
struct CapabilitiesOf<S> {
    using type = typename S::store_capabilities;
};
} // namespace detail

/// A Store that forwards to `S`, with every durable write going through a `FaultPlan`: a write
/// the plan refuses does not reach `S` and returns an error. Offers the capabilities `S` declares.
template <Store S>
class CrashingStore {
public:
    using store_concept = store_t;
    using model_type = model_of<S>;
    using operation_type = operation_of<S>;
    using snapshot_type = snapshot_of<S>;
    using store_capabilities = typename detail::CapabilitiesOf<S>::type;

    CrashingStore(S& inner, FaultPlan& plan) : inner_(&inner), plan_(&plan) {}

    S& inner() noexcept { return *inner_; }
    const S& inner() const noexcept { return *inner_; }

    // ---- reads pass through

    const SyncState& sync_state() const { return inner_->sync_state(); }
    std::vector<LocalChangeset<operation_type>> unsynced() const { return inner_->unsynced(); }
    snapshot_type export_snapshot() const { return inner_->export_snapshot(); }
    bool has_unsynced() const
        requires store_requirements::has_unsynced_flag<S>
    {
        return inner_->has_unsynced();
    }
    std::vector<LocalChangeset<operation_type>> unsynced(std::size_t max) const
        requires store_requirements::has_unsynced_pages<S>
    {
        return inner_->unsynced(max);
    }
    auto acknowledged_after(std::uint64_t v) const
        requires store_requirements::has_acknowledged_history<S>
    {
        return inner_->acknowledged_after(v);
    }
    decltype(auto) quarantined() const
        requires store_requirements::has_quarantine<S>
    {
        return inner_->quarantined();
    }
    decltype(auto) live_view() const
        requires store_requirements::has_live_view<S>
    {
        return inner_->live_view();
    }
    std::size_t object_count() const
        requires store_requirements::has_object_count<S>
    {
        return inner_->object_count();
    }
    std::string backup_directory() const
        requires store_requirements::has_backup_directory<S>
    {
        return inner_->backup_directory();
    }

    // ---- durable writes go through the plan

    std::error_code write_sync_state(const SyncState& s) {
        return step("store: write_sync_state", [&] { return inner_->write_sync_state(s); });
    }
    std::error_code integrate(std::span<const RemoteChangeset<operation_type>> e) {
        return step("store: integrate", [&] { return inner_->integrate(e); });
    }
    std::error_code acknowledge(ClientVersion v, std::span<const std::pair<ClientVersion, std::uint64_t>> at) {
        return step("store: acknowledge", [&] { return inner_->acknowledge(v, at); });
    }
    Result<snapshot_type> commit_reset(reset_commit_of<S>&& c) {
        return step_result("store: commit_reset", [&] { return inner_->commit_reset(std::move(c)); });
    }
    Result<DiffStats> commit_reset_diff(reset_commit_of<S>&& c)
        requires store_requirements::has_diff_commit<S>
    {
        return step_result("store: commit_reset_diff", [&] { return inner_->commit_reset_diff(std::move(c)); });
    }
    Result<DiffCommitLeftover<snapshot_type>> commit_reset_diff_leaving_leftover(reset_commit_of<S>&& c)
        requires store_requirements::has_diff_commit_leftover<S>
    {
        return step_result("store: commit_reset_diff_leaving_leftover",
                           [&] { return inner_->commit_reset_diff_leaving_leftover(std::move(c)); });
    }
    Result<DiffCommit<snapshot_type>> commit_reset_diff_keeping_before(reset_commit_of<S>&& c)
        requires store_requirements::has_diff_commit_keeping_before<S>
    {
        return step_result("store: commit_reset_diff_keeping_before",
                           [&] { return inner_->commit_reset_diff_keeping_before(std::move(c)); });
    }

    // ---- a store that stages fresh copies itself (cap::fresh_copy_staging): reads pass
    // through, and each call that writes (one transaction of the store) is a durable step

    std::optional<FreshCopyHeader> staged_copy() const
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return inner_->staged_copy();
    }
    std::uint64_t staged_bytes() const
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return inner_->staged_bytes();
    }
    std::size_t staged_objects() const
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return inner_->staged_objects();
    }
    decltype(auto) staged_view() const
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return inner_->staged_view();
    }
    std::error_code stage_begin(const FreshCopyHeader& h)
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return step("store: stage_begin", [&] { return inner_->stage_begin(h); });
    }
    std::error_code stage_append(std::string_view bytes)
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return step("store: stage_append", [&] { return inner_->stage_append(bytes); });
    }
    Result<bool> stage_decode(std::size_t max_objects)
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return step_result("store: stage_decode", [&] { return inner_->stage_decode(max_objects); });
    }
    std::error_code stage_discard()
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return step("store: stage_discard", [&] { return inner_->stage_discard(); });
    }
    Result<DiffStats> commit_staged_reset(StagedResetCommit<operation_type>&& c, CommitKind kind)
        requires store_requirements::has_fresh_copy_staging<S>
    {
        return step_result("store: commit_staged_reset", [&] { return inner_->commit_staged_reset(std::move(c), kind); });
    }

    // ---- a store that writes its own backup files (cap::self_backup): the file steps inside
    // go through the session's file hook (FaultPlan::file_hook) like any other backup file's

    Result<BackupMade> back_up(const std::string& directory, const ResetTrigger& trigger, const FileHook* hook) const
        requires store_requirements::has_self_backup<S>
    {
        if (plan_->crashed()) return make_error_code(errc::backup_io);
        return inner_->back_up(directory, trigger, hook);
    }
    static std::error_code verify_backup(const std::string& path)
        requires store_requirements::has_self_backup<S>
    {
        return S::verify_backup(path);
    }
    static auto restore_backup(const std::string& path)
        requires store_requirements::has_self_backup<S> && requires { S::restore_backup(path); }
    {
        return S::restore_backup(path);
    }

private:
    template <class F>
    std::error_code step(std::string what, F&& f) {
        plan_->after();
        if (auto ec = plan_->before(std::move(what))) return make_error_code(errc::store_failure);
        auto ec = f();
        plan_->after();
        return ec;
    }
    template <class F>
    auto step_result(std::string what, F&& f) -> decltype(f()) {
        plan_->after();
        if (auto ec = plan_->before(std::move(what))) return make_error_code(errc::store_failure);
        auto r = f();
        plan_->after();
        return r;
    }

    S* inner_;
    FaultPlan* plan_;
};

/// A Transport that forwards to `T` until the plan crashes; then nothing is sent or received.
template <Transport T>
class CrashingTransport {
public:
    using transport_concept = transport_t;
    using operation_type = typename T::operation_type;

    CrashingTransport(T& inner, FaultPlan& plan) : inner_(&inner), plan_(&plan) {}

    T& inner() noexcept { return *inner_; }

    bool send(protocol::ClientMessage<operation_type> m) {
        if (plan_->crashed()) return false;
        return inner_->send(std::move(m));
    }
    std::optional<protocol::ServerMessage<operation_type>> receive() {
        if (plan_->crashed()) return std::nullopt;
        return inner_->receive();
    }
    bool connected() const { return !plan_->crashed() && inner_->connected(); }
    std::uint64_t connection_id() const { return inner_->connection_id(); }

private:
    T* inner_;
    FaultPlan* plan_;
};

} // namespace resync::testing
