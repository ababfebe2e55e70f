#pragma once
/// \file
/// `SyncSession<Store, Transport, ResetPolicy>`: keeps a local replica in sync with its server
/// and, when the server can no longer continue from where the replica stands, resets it as the
/// policy says - detect, guard, back up, fetch, recover, commit, notify, replay, acknowledge.

#include <resync/backup/file.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/recover/none.hpp>
#include <resync/detail/session_checks.hpp>
#include <resync/detail/staged_copy.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/quarantine.hpp>
#include <resync/report.hpp>
#include <resync/reset_commit.hpp>
#include <resync/reset_request.hpp>
#include <resync/result.hpp>
#include <resync/session_options.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace resync {

/// Where a session stands.
enum class SessionState : std::uint8_t {
    disconnected,  ///< the transport is down; local writes go on, nothing syncs
    connecting,    ///< Hello sent, waiting for the server's answer
    syncing,       ///< normal sync: uploading, downloading, integrating
    resetting,     ///< a client reset is running
    awaiting_user, ///< a manual reset waits for `execute_reset()`
    stopped,       ///< stopped on an error it cannot get past; see `last_error()`
};

constexpr std::string_view to_string(SessionState s) noexcept {
    switch (s) {
    case SessionState::disconnected: return "disconnected";
    case SessionState::connecting: return "connecting";
    case SessionState::syncing: return "syncing";
    case SessionState::resetting: return "resetting";
    case SessionState::awaiting_user: return "awaiting user";
    case SessionState::stopped: return "stopped";
    }
    return "unknown";
}

/// Progress of a long reset phase.
struct Progress {
    ResetPhase phase = ResetPhase::fetch;
    std::uint64_t done = 0;  ///< bytes (fetch) done so far
    std::uint64_t total = 0; ///< bytes (fetch) in all
};

namespace detail {

template <class S, class T, class P>
class SessionImpl {
public:
    using store_type = S;
    using transport_type = T;
    using policy_type = P;
    using operation_type = typename S::operation_type;
    using snapshot_type = typename S::snapshot_type;

    using BeforeReset = std::function<void(const ResetTrigger&, const S& store)>;
    using AfterReset = std::function<void(const snapshot_type* before, const S& after, const ResetReport&)>;
    using RequestHandler = std::function<void(const ResetRequest&)>;
    using ErrorHandler = std::function<void(std::error_code, std::string_view detail)>;
    using ProgressHandler = std::function<void(const Progress&)>;

    /// Binds a session to a store and a transport; neither is touched until the first `poll()`.
    SessionImpl(S& store, T& transport, P policy = {}, SessionOptions options = {})
        : store_(store), transport_(transport), policy_(std::move(policy)), options_(std::move(options)) {}

    SessionImpl(const SessionImpl&) = delete;
    SessionImpl& operator=(const SessionImpl&) = delete;

    // ------------------------------------------------------------------ callbacks

    /// Called before the reset's commit, with the store still untouched.
    void on_before_reset(BeforeReset f) { before_ = std::move(f); }
    /// Called after the commit with the before-state (null unless the backup policy keeps it),
    /// the store as it is now, and the report.
    void on_after_reset(AfterReset f) { after_ = std::move(f); }
    /// Called when a manual reset waits for the application (also at start, for a durable request).
    void on_reset_request(RequestHandler f) { request_ = std::move(f); }
    /// Called for every error the session meets, with words on what happened.
    void on_error(ErrorHandler f) { error_ = std::move(f); }
    /// Called as a reset downloads its fresh copy.
    void on_progress(ProgressHandler f) { progress_ = std::move(f); }

    // ------------------------------------------------------------------ driving

    /// Does a bounded amount of work and returns at once: handles up to `budget.messages`
    /// incoming messages, sends what is due, and moves a reset on by at most one step.
    SessionState poll(Budget budget = {}) {
        ++tick_;
        if (!started_) start();
        if (state_ == SessionState::stopped) return state_;
        if (!follow_connection()) return state_;
        for (std::size_t i = 0; i < budget.messages && state_ != SessionState::stopped; ++i) {
            auto message = transport_.receive();
            if (!message) break;
            std::visit([&](auto& m) { handle(m); }, *message);
        }
        // The connection may have dropped and come back while receiving: a new connection must
        // hear Hello before any request, or the server rejects it as a protocol violation.
        if (state_ == SessionState::stopped || !follow_connection()) return state_;
        drive();
        return state_;
    }

    /// Polls until the session is idle (all local changes acknowledged, caught up with the
    /// server, no reset running), waits for the user, or stops; at most `max_polls` times.
    /// Returns the state it ended in. For tests, examples and command-line tools.
    SessionState run_until_idle(std::size_t max_polls = 100000) {
        caught_up_ = false;
        for (std::size_t i = 0; i < max_polls; ++i) {
            poll();
            if (idle() || state_ == SessionState::awaiting_user || state_ == SessionState::stopped) break;
            if (!transport_.connected()) break;
        }
        return state_;
    }

    /// True when nothing is left to do: synced both ways and no reset in flight.
    bool idle() const {
        return state_ == SessionState::syncing && caught_up_ && !pull_.outstanding && !upload_.outstanding &&
               !store_.sync_state().pending_reset && !has_unsynced();
    }

    // ------------------------------------------------------------------ resets

    /// The manual reset waiting for the application, if any.
    std::optional<ResetRequest> pending_request() const {
        const auto& p = store_.sync_state().pending_reset;
        if (!p || !p->awaiting_user) return std::nullopt;
        return request_from(*p);
    }

    /// Performs the waiting manual reset: discards the local state (it is in the backup file)
    /// and downloads a fresh copy. `no_reset_pending` when there is none.
    std::error_code execute_reset() {
        auto record = store_.sync_state().pending_reset;
        if (!record || !record->awaiting_user) return errc::no_reset_pending;
        record->awaiting_user = false;
        if (auto ec = write_record(*record)) return ec;
        run_.emplace();
        run_->trigger = trigger_from(*record);
        run_->mode = ResetMode::manual;
        run_->report.trigger = run_->trigger;
        run_->report.mode_requested = P::requested_mode;
        run_->report.mode_used = ResetMode::manual;
        run_->report.attempt = record->attempt;
        run_->report.backup_location = record->backup_path;
        run_->record = *record;
        account_unsynced();
        begin_fetch();
        return {};
    }

    /// A dry run: what a reset for `trigger` would do to each unsynced local operation, if the
    /// server's fresh copy were `fresh`. Touches nothing: not the store, not the pending-reset
    /// record, not the server.
    ResetPlan plan_reset(const ResetTrigger& trigger, const snapshot_type& fresh) const {
        ResetPlan plan;
        plan.trigger = trigger;
        const PendingReset record = guard(trigger);
        plan.mode = record.mode;
        plan.attempt = record.attempt;
        const auto unsynced = store_.unsynced();
        if (plan.mode == ResetMode::recover) {
            auto out = policy_.recovery().recover(store_, fresh, trigger, unsynced);
            if (out && !out->failure) {
                plan.operations = std::move(out->outcomes);
                return plan;
            }
            plan.failure = out ? out->failure->reason : out.error().message();
            plan.mode = fallback_mode;
        }
        auto discarded = recover::None{}.recover(store_, fresh, trigger, unsynced);
        plan.operations = std::move(discarded->outcomes);
        if (plan.mode == ResetMode::manual)
            for (auto& op : plan.operations) op.reason = "kept in the backup file until the application resets";
        return plan;
    }

    /// A dry run against the state this client has now, as if the server still held what the
    /// client last saw: useful before the fresh copy is known (outcomes that depend on the
    /// server's changes, such as an erase on the server, show only in the exact plan).
    ResetPlan plan_reset(const ResetTrigger& trigger) const
        requires requires(const S& s) { { s.state() } -> std::convertible_to<const snapshot_type&>; }
    {
        return plan_reset(trigger, store_.state());
    }

    SessionState state() const noexcept { return state_; }
    /// The last error met (cleared by nothing; compare with `std::error_code{}`).
    std::error_code last_error() const noexcept { return last_error_; }
    /// The report of the last reset, completed, abandoned or waiting.
    const std::optional<ResetReport>& last_report() const noexcept { return last_report_; }
    /// How many resets this session ran to their commit.
    std::size_t resets_completed() const noexcept { return resets_completed_; }

    const P& policy() const noexcept { return policy_; }
    const SessionOptions& options() const noexcept { return options_; }

private:
    using Clock = std::chrono::steady_clock;

    /// A request that is answered or sent again after `retry_after_polls`.
    struct Request {
        bool outstanding = false;
        std::uint64_t sent_at = 0;
    };

    /// A reset in flight.
    struct Run {
        ResetTrigger trigger;
        ResetMode mode = ResetMode::discard;
        ResetReport report;
        PendingReset record;
        std::vector<LocalChangeset<operation_type>> unsynced;
        std::vector<LocalChangeset<operation_type>> acknowledged; ///< probed for rollback-aware recovery
        std::vector<protocol::Probe> probes;                     ///< the server's answers
        ClientVersion integrated_by_server = 0; ///< unsynced changes up to this are already in the copy
        // fetch
        detail::StagedCopy staged;
        std::optional<protocol::FreshChunk> header; ///< position, epoch, ident of the copy being fetched
        std::uint32_t damaged_copies = 0;
        Clock::time_point phase_started = Clock::now();
    };

    // ------------------------------------------------------------------ start and hello

    /// Follows the transport's connection: false while it is down; a new connection gets a Hello.
    bool follow_connection() {
        if (!transport_.connected()) {
            if (state_ != SessionState::awaiting_user && state_ != SessionState::resetting)
                state_ = SessionState::disconnected;
            bound_ = false;
            return false;
        }
        if (transport_.connection_id() != connection_id_) {
            connection_id_ = transport_.connection_id();
            say_hello();
        }
        return true;
    }

    void start() {
        started_ = true;
        const auto& record = store_.sync_state().pending_reset;
        if (record && record->awaiting_user) {
            state_ = SessionState::awaiting_user;
            if (request_) request_(request_from(*record));
        }
    }

    void say_hello() {
        const SyncState& s = store_.sync_state();
        protocol::Hello h;
        h.ident = s.client_ident;
        h.download = s.download;
        h.upload_acked = s.upload_acked;
        h.epoch = s.epoch;
        h.schema_version = s.schema_version;
        bound_ = false;
        hello_ = {true, tick_};
        pull_ = {};
        upload_ = {};
        fresh_ = {};
        transport_.send(protocol::ClientMessage<operation_type>(h));
        if (state_ != SessionState::resetting && state_ != SessionState::awaiting_user)
            state_ = SessionState::connecting;
    }

    // ------------------------------------------------------------------ incoming messages

    void handle(protocol::Welcome& w) {
        hello_.outstanding = false;
        bound_ = true;
        if (state_ != SessionState::connecting) return; // a duplicate, or a reset is running
        const SyncState& s = store_.sync_state();
        if (auto trigger = detect([&] { return policy_.detection().on_welcome(s, w); })) {
            begin_reset(std::move(*trigger));
            return;
        }
        if (state_ == SessionState::stopped) return;
        // A reset was interrupted before its commit (crash, abandoned attempt) and the server no
        // longer says why: finish it, so the local state is never left half-reset.
        if (s.pending_reset && s.pending_reset->phase < ResetPhase::commit && !s.pending_reset->awaiting_user) {
            if (backoff_until_ > tick_) return;
            begin_reset(trigger_from(*s.pending_reset));
            return;
        }
        if (s.client_ident == 0 || s.epoch == 0) {
            SyncState next = s;
            next.client_ident = w.ident;
            next.epoch = w.epoch;
            next.schema_version = w.schema_version;
            if (auto ec = store_.write_sync_state(next)) return fail_soft(ec, "saving the new client ident");
        } else if (w.ident != s.client_ident) {
            return fail_soft(errc::unknown_client, "the server answered Hello for another client ident");
        }
        state_ = SessionState::syncing;
        caught_up_ = false;
    }

    void handle(protocol::Download<operation_type>& d) {
        pull_.outstanding = false;
        if (state_ != SessionState::syncing) return;
        const SyncState& s = store_.sync_state();
        if (d.ident != s.client_ident) return fail_soft(errc::unknown_client, "a download for another client");
        // Check the whole message before anything is applied.
        std::uint64_t prev = d.base.version;
        for (const auto& e : d.entries) {
            if (e.server_version <= prev || e.server_version > d.latest.version)
                return fail_soft(errc::impossible_position, "server versions out of order in a download");
            prev = e.server_version;
        }
        if (d.latest.version < d.base.version)
            return fail_soft(errc::impossible_position, "a download whose latest version is below its base");
        // Skip what was already integrated (a duplicated or delayed message); a gap means an
        // earlier download was lost: ask again.
        std::size_t first = 0;
        while (first < d.entries.size() && d.entries[first].server_version <= s.download.version) ++first;
        const std::uint64_t next = first < d.entries.size() ? d.entries[first].server_version : 0;
        if (next != 0 && next != s.download.version + 1) return;
        if (first == d.entries.size() && d.base != s.download) return; // stale
        std::span<const RemoteChangeset<operation_type>> fresh(d.entries.data() + first, d.entries.size() - first);
        if (auto ec = store_.integrate(fresh)) return fail_soft(ec, "integrating server changes");
        caught_up_ = store_.sync_state().download.version >= d.latest.version;
        if (!caught_up_) send_pull();
        else last_pull_answered_ = tick_;
    }

    void handle(protocol::UploadAck& a) {
        upload_.outstanding = false;
        if (state_ != SessionState::syncing) return;
        if (a.ident != store_.sync_state().client_ident) return fail_soft(errc::unknown_client, "an upload ack for another client");
        if (auto ec = store_.acknowledge(a.client_version, a.integrated))
            return fail_soft(ec, "the server acknowledged changes this client never made");
        // The server moved on past our cursor with these changes: the download is incomplete
        // again until it brings them back (a reset's record must not clear before that).
        for (const auto& [cv, sv] : a.integrated)
            if (sv > store_.sync_state().download.version) caught_up_ = false;
    }

    void handle(protocol::FreshChunk& c) {
        fresh_.outstanding = false;
        if (state_ != SessionState::resetting || !run_) return;
        Run& r = *run_;
        const bool new_copy = !r.header || r.header->position != c.position || r.header->new_ident != c.new_ident;
        if (new_copy) {
            if (c.offset != 0) return; // a stale piece of a copy we no longer fetch
            r.staged.clear();
            r.header = protocol::FreshChunk{c.position, c.epoch, c.schema_version, c.new_ident, c.total_bytes, 0, {}, {}};
            r.probes = std::move(c.probes);
            r.integrated_by_server = c.integrated_from_requester;
        }
        if (c.offset != r.staged.size()) return; // duplicate or out of order: the next request realigns
        if (c.bytes.empty() && r.staged.size() < c.total_bytes) {
            // The server stopped short: resume from here, up to a bound.
            if (++r.damaged_copies >= options_.max_fresh_copy_attempts)
                return abandon(ResetPhase::fetch, errc::fresh_copy_truncated, "the fresh copy kept ending early");
            return;
        }
        if (r.staged.size() + c.bytes.size() > c.total_bytes)
            return restart_fetch(errc::fresh_copy_corrupt, "the fresh copy is longer than announced");
        r.staged.append(std::move(c.bytes));
        if (progress_) progress_(Progress{ResetPhase::fetch, r.staged.size(), c.total_bytes});
        if (r.staged.size() == c.total_bytes) finish_reset();
    }

    void handle(ServerError& e) {
        const bool fetching = fresh_.outstanding;
        const bool answers_hello = hello_.outstanding;
        hello_.outstanding = pull_.outstanding = upload_.outstanding = fresh_.outstanding = false;
        if (state_ == SessionState::resetting || state_ == SessionState::awaiting_user) {
            // An error answering our Hello binds the connection: the reset goes on. Any other
            // (a duplicate or a late answer) does not, or the fetch would go out on a connection
            // the server never bound and be refused as a protocol violation.
            if (answers_hello) bound_ = true;
            report_error(errc::server_error, "server error during a reset: " + e.message);
            // A server that refuses every fresh-copy request must not hold the reset in its
            // fetch phase forever: a refused copy counts as a failed one. (Errors answering
            // requests sent before the reset, such as a pull, do not count.)
            if (state_ == SessionState::resetting && run_ && fetching &&
                ++run_->damaged_copies >= options_.max_fresh_copy_attempts)
                abandon(ResetPhase::fetch, errc::server_error,
                        "the server kept answering the fresh-copy request with errors: " + e.message);
            return;
        }
        const SyncState& s = store_.sync_state();
        if (auto trigger = detect([&] { return policy_.detection().on_error(s, e); })) {
            begin_reset(std::move(*trigger));
            return;
        }
        if (state_ == SessionState::stopped) return;
        switch (e.action) {
        case ServerAction::none:
        case ServerAction::warning:
        case ServerAction::transient:
            report_error(errc::server_error, e.message);
            return; // requests are retried on their timers
        case ServerAction::protocol_violation:
            return stop(errc::protocol_violation, "the server says: " + e.message);
        case ServerAction::reset:
        case ServerAction::reset_no_recovery:
            return stop(errc::server_error,
                        "the server asks for a reset that this policy's detection does not handle: " + e.message);
        }
    }

    // ------------------------------------------------------------------ outgoing requests

    void drive() {
        if (state_ == SessionState::connecting) {
            // After an abandoned reset, wait out the backoff before saying Hello again.
            if (tick_ >= backoff_until_ && (!hello_.outstanding || due(hello_))) say_hello();
            return;
        }
        if (state_ == SessionState::resetting && run_) {
            if (bound_ && (!fresh_.outstanding || due(fresh_))) send_fresh_request();
            // Not bound: a reset began on an error that answered our Hello (or the Hello was
            // lost); say Hello again, or the fetch would never start.
            else if (!bound_ && (!hello_.outstanding || due(hello_))) say_hello();
            return;
        }
        if (state_ != SessionState::syncing) return;
        if (!upload_.outstanding || due(upload_)) send_upload();
        if (!pull_.outstanding ? (!caught_up_ || tick_ - last_pull_answered_ >= options_.pull_every_polls)
                               : due(pull_))
            send_pull();
        acknowledge_reset_if_done();
    }

    bool due(const Request& r) const { return tick_ - r.sent_at >= options_.retry_after_polls; }

    void send_pull() {
        const SyncState& s = store_.sync_state();
        pull_ = {true, tick_};
        transport_.send(protocol::ClientMessage<operation_type>(
            protocol::Pull{s.client_ident, s.download, options_.max_download_entries}));
    }

    void send_upload() {
        // Nothing left to upload (an ack that was lost is made good by the download that brought
        // our changesets back): nothing is outstanding either, or the session never goes idle
        // and a reset's record never clears.
        if (!has_unsynced()) {
            upload_ = {};
            return;
        }
        auto unsynced = store_.unsynced();
        const std::size_t max = policy_.replay().max_changesets_per_upload();
        if (unsynced.size() > max) unsynced.resize(max);
        const SyncState& s = store_.sync_state();
        protocol::Upload<operation_type> u;
        u.ident = s.client_ident;
        u.download = s.download;
        u.changesets = std::move(unsynced);
        upload_ = {true, tick_};
        transport_.send(protocol::ClientMessage<operation_type>(std::move(u)));
    }

    void send_fresh_request() {
        Run& r = *run_;
        protocol::FreshRequest q;
        q.ident = store_.sync_state().client_ident;
        q.offset = r.staged.size();
        if (r.header) {
            q.expected = r.header->position;
            q.reserved_ident = r.header->new_ident;
        }
        q.max_bytes = options_.fresh_chunk_bytes;
        // Asked with every request, not only the first: the server may start the copy over at
        // a newer position (it moved on meanwhile), and the answers must come from that one.
        for (const auto& cs : r.acknowledged) q.probe_versions.push_back(cs.server_version);
        fresh_ = {true, tick_};
        transport_.send(protocol::ClientMessage<operation_type>(q));
    }

    // ------------------------------------------------------------------ the reset pipeline

    template <class F>
    std::optional<ResetTrigger> detect(F&& f) {
        std::optional<ResetTrigger> t;
        if (auto ec = guarded(ResetPhase::detect, errc::policy_failure, [&] { t = f(); return std::error_code{}; }))
            stop(ec, "the detection policy failed");
        return t;
    }

    /// Runs `f`, turning an exception (when exceptions are on) into `fallback` with its words.
    template <class F>
    std::error_code guarded(ResetPhase phase, errc fallback, F&& f) {
#if defined(__cpp_exceptions)
        try {
            return f();
        } catch (const std::exception& e) {
            guard_detail_ = std::string(to_string(phase)) + ": " + e.what();
            return fallback;
        } catch (...) {
            guard_detail_ = std::string(to_string(phase)) + ": an exception of unknown type";
            return fallback;
        }
#else
        (void)phase;
        (void)fallback;
        return f();
#endif
    }

    void begin_reset(ResetTrigger trigger) {
        run_.emplace();
        Run& r = *run_;
        r.trigger = std::move(trigger);
        r.report.trigger = r.trigger;
        r.report.mode_requested = P::requested_mode;
        account_unsynced();

        // Phase 2 - guard: the record is committed alone, before any reset work.
        begin_phase(ResetPhase::guard);
        r.record = guard(r.trigger);
        r.mode = r.record.mode;
        r.report.mode_used = r.mode;
        r.report.attempt = r.record.attempt;
        if (auto ec = write_record(r.record)) return abandon(ResetPhase::guard, ec, "writing the pending-reset record");
        end_phase(ResetPhase::guard);

        // Phase 3 - backup: nothing is touched before the backup is durable.
        begin_phase(ResetPhase::backup);
        std::string location;
        if (auto ec = guarded(ResetPhase::backup, errc::policy_failure, [&] { return backup(location); }))
            return abandon(ResetPhase::backup, ec, "making the backup");
        r.report.backup_location = location;
        r.record.phase = ResetPhase::backup;
        r.record.backup_path = location;
        if (r.mode == ResetMode::manual) {
            end_phase(ResetPhase::backup);
            return await_user();
        }
        if (auto ec = write_record(r.record)) return abandon(ResetPhase::backup, ec, "writing the pending-reset record");
        end_phase(ResetPhase::backup);
        begin_fetch();
    }

    /// Stops a reset that is (or fell back to) manual: the record says so durably, the session
    /// waits, and the application's handler gets the request.
    void await_user() {
        Run& r = *run_;
        r.record.awaiting_user = true;
        r.record.mode = r.mode = r.report.mode_used = ResetMode::manual;
        if (auto ec = write_record(r.record)) return abandon(ResetPhase::backup, ec, "writing the pending-reset record");
        r.report.outcome = ResetOutcome::awaiting_user;
        last_report_ = r.report;
        const ResetRequest request{r.trigger, r.record.backup_path, r.record.attempt};
        run_.reset();
        state_ = SessionState::awaiting_user;
        if (request_) request_(request);
    }

    /// The cycle guard (DESIGN §4.3): the same cause again escalates recover -> discard ->
    /// manual; a different cause starts over.
    PendingReset guard(const ResetTrigger& t) const {
        PendingReset next;
        next.reason = t.reason;
        next.server_error = t.server_error.code;
        next.message = t.server_error.message;
        next.started_at_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        next.phase = ResetPhase::guard;
        next.mode = P::requested_mode;
        const auto& previous = store_.sync_state().pending_reset;
        if (previous) {
            // Attempts count every reset since the last one the server confirmed, whatever its
            // cause, so alternating causes cannot loop either.
            next.attempt = previous->attempt + 1;
            if (previous->reason == t.reason) next.mode = escalate(previous->mode);
        }
        if (next.attempt > options_.max_reset_attempts) next.mode = ResetMode::manual;
        if (next.mode == ResetMode::recover && !t.recovery_allowed) next.mode = fallback_mode;
        return next;
    }

    /// What the strategy does when recovery fails or is not allowed.
    static constexpr ResetMode fallback_mode = P::fallback_type::mode;

    /// A failed recover becomes the fallback; a failed discard becomes manual.
    static constexpr ResetMode escalate(ResetMode m) noexcept {
        return m == ResetMode::recover ? fallback_mode : ResetMode::manual;
    }

    std::error_code backup(std::string& location) {
        using B = typename P::backup_type;
        // A manual reset needs a durable backup; a policy whose own backup is not a file gets
        // one in `manual_backup_directory` (document-model stores).
        if constexpr (!std::is_same_v<B, backup::File> &&
                      std::is_same_v<snapshot_type, doc::State> && std::is_same_v<operation_type, doc::Operation>) {
            if (run_->mode == ResetMode::manual) {
                auto path = backup::File{options_.manual_backup_directory}.backup(store_, run_->trigger);
                if (!path) return path.error();
                location = std::move(*path);
                return {};
            }
        }
        auto where = policy_.backup().backup(store_, run_->trigger);
        if (!where) return where.error();
        location = std::move(*where);
        return {};
    }

    void begin_fetch() {
        begin_phase(ResetPhase::fetch);
        if constexpr (requires(const S& s) { s.acknowledged_after(std::uint64_t{0}); })
            if (wants_lost_acknowledged(*run_)) run_->acknowledged = store_.acknowledged_after(0);
        state_ = SessionState::resetting;
        run_->staged.clear();
        run_->header.reset();
        fresh_ = {};
        if (bound_) send_fresh_request();
    }

    void restart_fetch(errc why, std::string_view detail) {
        Run& r = *run_;
        if (++r.damaged_copies >= options_.max_fresh_copy_attempts)
            return abandon(ResetPhase::fetch, why, std::string(detail));
        report_error(why, detail);
        r.staged.clear();
        r.header.reset();
        fresh_ = {};
    }

    /// Decodes the staged pieces, releasing each as it is decoded when the store can; otherwise
    /// joined (releasing each piece once copied) for `decode_snapshot`.
    Result<snapshot_type> decode_fresh_copy(std::vector<std::string>&& pieces) const {
        if constexpr (store_requirements::decodes_snapshot_pieces<S>) {
            return store_.decode_snapshot_pieces(std::move(pieces));
        } else {
            const std::string whole = detail::StagedCopy::join(std::move(pieces));
            return store_.decode_snapshot(whole);
        }
    }

    void finish_reset() {
        Run& r = *run_;
        const auto copy_bytes = r.staged.size();
        auto fresh = decode_fresh_copy(r.staged.take());
        if (!fresh) return restart_fetch(errc::fresh_copy_corrupt, "the fresh copy failed its integrity check");
        r.report.fresh_copy_bytes = copy_bytes;
        end_phase(ResetPhase::fetch);

        // Phase 5 - recover, on the staged copy only. The application may have written while the
        // copy was fetched (the store is untouched until the commit, so its unsynced changes only
        // grew): take them all now, or the commit would drop the newer ones unreported.
        account_unsynced();
        begin_phase(ResetPhase::recover);
        // Changes the server integrated although their acknowledgement was lost are already in
        // this copy (same epoch, same ident): replaying them would apply them twice.
        std::vector<OperationOutcome> already_there;
        if (r.header && r.integrated_by_server != 0 && r.header->epoch == store_.sync_state().epoch) {
            std::erase_if(r.unsynced, [&](const LocalChangeset<operation_type>& cs) {
                if (cs.client_version > r.integrated_by_server) return false;
                for (std::size_t i = 0; i < cs.ops.size(); ++i)
                    already_there.push_back({cs.client_version, i, OperationFate::recovered,
                                             "already on the server (its acknowledgement was lost)"});
                return true;
            });
        }
        std::optional<Recovered<operation_type>> recovered;
        auto recover_with = [&](const auto& recovery, const std::vector<LocalChangeset<operation_type>>& local) {
            return guarded(ResetPhase::recover, errc::recovery_failed, [&]() -> std::error_code {
                auto out = recovery.recover(store_, *fresh, r.trigger, local);
                if (!out) return out.error();
                recovered = std::move(*out);
                return recovered->failure ? (recovered->failure_code ? recovered->failure_code
                                                                     : make_error_code(errc::recovery_failed))
                                          : std::error_code{};
            });
        };
        std::vector<LocalChangeset<operation_type>> local;
        if (r.mode == ResetMode::recover) {
            local = lost_acknowledged(r);
            r.report.lost_acknowledged = local.size();
            local.insert(local.end(), r.unsynced.begin(), r.unsynced.end());
        }
        std::error_code ec = r.mode == ResetMode::recover ? recover_with(policy_.recovery(), local)
                                                           : recover_with(recover::None{}, r.unsynced);
        if (ec && r.mode == ResetMode::recover) {
            // Recovery failed: the strategy's fallback runs in this same attempt, and the report
            // says which operation failed and why.
            std::string why = "recovery failed";
            if (recovered && recovered->failure)
                why += " at v" + std::to_string(recovered->failure->client_version) + "#" +
                       std::to_string(recovered->failure->index) + ": " + recovered->failure->reason;
            // A recovery policy that threw: its words, which must not linger into a later report.
            if (!guard_detail_.empty()) why += " (" + std::exchange(guard_detail_, std::string()) + ")";
            r.report.detail = why;
            report_error(ec, why);
            r.report.lost_acknowledged = 0;
            if constexpr (fallback_mode == ResetMode::manual) {
                end_phase(ResetPhase::recover);
                std::string location;
                r.mode = ResetMode::manual;
                if (auto e = guarded(ResetPhase::backup, errc::policy_failure, [&] { return backup(location); }))
                    return abandon(ResetPhase::backup, e, "making the backup for the manual fallback");
                r.report.backup_location = r.record.backup_path = location;
                return await_user();
            }
            r.mode = r.record.mode = r.report.mode_used = ResetMode::discard;
            // All that recovery was given is discarded and reported, the acknowledged changes a
            // restored server lost included: none may vanish from the report.
            ec = recover_with(recover::None{}, local);
        }
        if (ec) return abandon(ResetPhase::recover, ec, "recovering local changes");
        r.report.operations = std::move(already_there);
        r.report.operations.insert(r.report.operations.end(), std::make_move_iterator(recovered->outcomes.begin()),
                                   std::make_move_iterator(recovered->outcomes.end()));
        auto quarantine = quarantine_dropped(r, local);
        auto history = policy_.replay().prepare(std::move(recovered->history));
        end_phase(ResetPhase::recover);

        // Notify before: the store is still untouched.
        if (before_) {
            if (auto e = guarded(ResetPhase::notify, errc::callback_failed, [&] { before_(r.trigger, store_); return std::error_code{}; }))
                return abandon(ResetPhase::notify, e, "the before-reset callback");
        }

        // Phase 6 - the one atomic commit.
        begin_phase(ResetPhase::commit);
        std::optional<snapshot_type> before_copy;
        using D = typename P::discard_type;
        // The before-state comes back from the commit when the policy can hand it back without a
        // copy (Replace moves it aside, Diff on a store that keeps it); otherwise copy it now.
        constexpr bool commit_keeps_before = discard_requirements::commits_keeping_before<D, S>;
        if constexpr (P::backup_type::keeps_before_state && !commit_keeps_before)
            before_copy = store_.export_snapshot();
        r.report.objects_before = object_count(store_);
        ResetCommit<snapshot_type, operation_type> commit{std::move(*fresh), std::move(history), SyncState{},
                                                          std::move(quarantine)};
        commit.sync_state.client_ident = r.header->new_ident;
        commit.sync_state.download = r.header->position;
        commit.sync_state.upload_acked = 0;
        commit.sync_state.epoch = r.header->epoch;
        commit.sync_state.schema_version = r.header->schema_version;
        r.record.phase = ResetPhase::commit;
        commit.sync_state.pending_reset = r.record;
        std::optional<DiscardOutcome<snapshot_type>> outcome;
        if (auto e = guarded(ResetPhase::commit, errc::store_failure, [&]() -> std::error_code {
                auto out = [&] {
                    if constexpr (P::backup_type::keeps_before_state && commit_keeps_before)
                        return policy_.discard().commit_keeping_before(store_, std::move(commit));
                    else
                        return policy_.discard().commit(store_, std::move(commit));
                }();
                if (!out) return out.error();
                outcome = std::move(*out);
                return {};
            }))
            return abandon(ResetPhase::commit, e, "committing the reset");
        end_phase(ResetPhase::commit);
        ++resets_completed_;
        r.report.objects_after = object_count(store_);
        r.report.diff = outcome->diff;
        if (!before_copy && P::backup_type::keeps_before_state && outcome->before)
            before_copy = std::move(outcome->before);

        // Phase 7 - notify after. The commit stands whatever the callback does.
        begin_phase(ResetPhase::notify);
        r.report.outcome = ResetOutcome::completed;
        if (after_) {
            if (auto e = guarded(ResetPhase::notify, errc::callback_failed,
                                 [&] { after_(before_copy ? &*before_copy : nullptr, store_, r.report); return std::error_code{}; }))
                report_error(e, "the after-reset callback failed; the reset itself is committed");
        }
        end_phase(ResetPhase::notify);
        last_report_ = std::move(r.report);
        run_.reset();

        // Phases 8 and 9 - replay and acknowledge run in normal sync under the new ident: the
        // record clears once the upload is acknowledged and the download is complete.
        state_ = SessionState::connecting;
        say_hello();
    }

    void acknowledge_reset_if_done() {
        const auto& record = store_.sync_state().pending_reset;
        if (!record || record->phase < ResetPhase::commit) return;
        if (!caught_up_ || upload_.outstanding || has_unsynced()) return;
        SyncState s = store_.sync_state();
        s.pending_reset.reset();
        if (auto ec = store_.write_sync_state(s)) fail_soft(ec, "clearing the pending-reset record");
    }

    void abandon(ResetPhase phase, std::error_code ec, std::string detail) {
        if (run_) {
            Run& r = *run_;
            r.report.outcome = ResetOutcome::abandoned;
            r.report.error = ec;
            r.report.failed_phase = phase;
            r.report.detail = guard_detail_.empty() ? std::move(detail) : detail + " (" + guard_detail_ + ")";
            last_report_ = std::move(r.report);
            run_.reset();
        }
        guard_detail_.clear();
        report_error(ec, last_report_ ? last_report_->detail : detail);
        // Try again later, after a backoff that doubles per attempt; the durable record makes the
        // next attempt escalate, so this cannot loop.
        const auto& record = store_.sync_state().pending_reset;
        const std::uint32_t attempt = record ? record->attempt : 1;
        backoff_until_ = tick_ + (std::uint64_t{options_.backoff_polls} << std::min<std::uint32_t>(attempt, 16));
        state_ = SessionState::connecting;
        hello_ = {};
        bound_ = false;
        fresh_ = {};
    }

    // ------------------------------------------------------------------ rollback-aware recovery

    /// Whether this reset recovers acknowledged changes a rolled-back server lost (DESIGN §4.4):
    /// the recovery policy asks for it, the store keeps acknowledged history, and the server
    /// may have gone back within the same epoch: a rollback, a divergence, or a server that no
    /// longer knows the client (restored to a backup from before the client registered). The
    /// probes tell what it really lost; `lost_acknowledged` ignores another epoch.
    bool wants_lost_acknowledged(const Run& r) const {
        if constexpr (requires { P::recovery_type::includes_lost_acknowledged; } &&
                      requires(const S& s) { s.acknowledged_after(std::uint64_t{0}); }) {
            if (!P::recovery_type::includes_lost_acknowledged || r.mode != ResetMode::recover) return false;
            return r.trigger.reason == ResetReason::server_rollback ||
                   r.trigger.reason == ResetReason::diverging_history ||
                   r.trigger.reason == ResetReason::client_unknown;
        } else {
            return false;
        }
    }

    /// The acknowledged changesets the fresh copy's server no longer has: no entry at their
    /// server version, or another client's there.
    std::vector<LocalChangeset<operation_type>> lost_acknowledged(const Run& r) const {
        std::vector<LocalChangeset<operation_type>> lost;
        if (r.acknowledged.empty() || !r.header || r.header->epoch != store_.sync_state().epoch) return lost;
        const ClientIdent ident = store_.sync_state().client_ident;
        for (const auto& cs : r.acknowledged) {
            for (const auto& p : r.probes) {
                if (p.version != cs.server_version) continue;
                // A compacted version counts as still there; a server-side write (origin 0) at
                // this version means the server lost ours.
                const bool mine = p.present && (p.compacted || (p.origin == ident && p.client_version == cs.client_version));
                if (!mine) lost.push_back(cs);
                break;
            }
        }
        return lost;
    }

    /// Dropped operations are kept in the store's quarantine when it has one.
    std::vector<QuarantinedOperation<operation_type>>
    quarantine_dropped(Run& r, const std::vector<LocalChangeset<operation_type>>& local) {
        std::vector<QuarantinedOperation<operation_type>> kept;
        if constexpr (requires(const S& s) { s.quarantined(); }) {
            const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
            for (auto& outcome : r.report.operations) {
                if (outcome.fate != OperationFate::dropped) continue;
                for (const auto& cs : local) {
                    if (cs.client_version != outcome.client_version || outcome.index >= cs.ops.size()) continue;
                    kept.push_back({cs.client_version, outcome.index, cs.ops[outcome.index], outcome.reason,
                                    r.trigger.reason, at});
                    outcome.fate = OperationFate::quarantined;
                    break;
                }
            }
        } else {
            (void)r;
            (void)local;
        }
        return kept;
    }

    // ------------------------------------------------------------------ helpers

    // Asked on every poll: the store's own answer when it has one (no copy of the changesets).
    bool has_unsynced() const {
        if constexpr (store_requirements::reports_unsynced<S>) {
            return store_.has_unsynced();
        } else {
            return !store_.unsynced().empty();
        }
    }

    void account_unsynced() {
        Run& r = *run_;
        r.unsynced = store_.unsynced();
        r.report.unsynced_changesets = r.unsynced.size();
        r.report.unsynced_operations = 0;
        for (const auto& cs : r.unsynced) r.report.unsynced_operations += cs.ops.size();
    }

    std::error_code write_record(const PendingReset& record) {
        SyncState s = store_.sync_state();
        s.pending_reset = record;
        return guarded(ResetPhase::guard, errc::store_failure, [&] { return store_.write_sync_state(s); });
    }

    static ResetTrigger trigger_from(const PendingReset& p) {
        ResetTrigger t;
        t.reason = p.reason;
        t.recovery_allowed = p.mode == ResetMode::recover;
        t.server_error.code = p.server_error;
        t.server_error.message = p.message;
        return t;
    }

    static ResetRequest request_from(const PendingReset& p) { return ResetRequest{trigger_from(p), p.backup_path, p.attempt}; }

    static std::size_t object_count(const S& store) {
        if constexpr (requires { store.state().object_count(); })
            return store.state().object_count();
        else
            return 0;
    }

    void begin_phase(ResetPhase) {
        if (run_) run_->phase_started = Clock::now();
    }
    void end_phase(ResetPhase p) {
        if (run_) run_->report.phase_time[static_cast<std::size_t>(p) - 1] += Clock::now() - run_->phase_started;
    }

    void report_error(std::error_code ec, std::string_view detail) {
        last_error_ = ec;
        if (error_) error_(ec, detail);
    }
    /// An error that leaves the store untouched and the session running.
    void fail_soft(std::error_code ec, std::string_view detail) { report_error(ec, detail); }
    void stop(std::error_code ec, std::string detail) {
        report_error(ec, detail);
        state_ = SessionState::stopped;
    }

    S& store_;
    T& transport_;
    [[no_unique_address]] P policy_;
    SessionOptions options_;

    SessionState state_ = SessionState::disconnected;
    bool started_ = false;
    bool bound_ = false;
    bool caught_up_ = false;
    std::uint64_t tick_ = 0;
    std::uint64_t connection_id_ = 0;
    std::uint64_t last_pull_answered_ = 0;
    std::uint64_t backoff_until_ = 0;
    Request hello_, pull_, upload_, fresh_;
    std::optional<Run> run_;
    std::string guard_detail_;
    std::error_code last_error_;
    std::optional<ResetReport> last_report_;
    std::size_t resets_completed_ = 0;

    BeforeReset before_;
    AfterReset after_;
    RequestHandler request_;
    ErrorHandler error_;
    ProgressHandler progress_;
};

} // namespace detail

/// A sync session for `Store`, over `Transport`, resetting as `ResetPolicy` says.
///
/// Requirements are checked here, one `static_assert` per missing piece, in words that name it
/// (see docs/concepts.md). Use from one thread at a time; sessions on different threads are
/// independent (no global state, no hidden threads).
template <class Store, class Transport, class ResetPolicy>
class SyncSession
    : public std::conditional_t<detail::check_session<Store, Transport, ResetPolicy>(),
                                detail::SessionImpl<Store, Transport, ResetPolicy>, detail::InvalidSession> {
    using base = std::conditional_t<detail::check_session<Store, Transport, ResetPolicy>(),
                                    detail::SessionImpl<Store, Transport, ResetPolicy>, detail::InvalidSession>;

public:
    using base::base;
};

} // namespace resync
