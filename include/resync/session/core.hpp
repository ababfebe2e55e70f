#pragma once
/// \file
/// `session::Core<S, T, P>`: what the sync loop and the steps of the reset pipeline share - the
/// store, the transport, the policy, the options, the callbacks, where the session stands, and
/// the reset attempt in flight (`Run`) - with the few helpers every step uses: the durable
/// pending-reset record, errors, phase timing, progress, and abandoning an attempt.
///
/// The pipeline's steps, each in its own header: session/guard.hpp (detect + guard),
/// backup_step.hpp, fetch_step.hpp, recover_step.hpp (decode + recover), commit_step.hpp (commit +
/// notify), sync_loop.hpp (replay + acknowledge run in normal sync), pipeline.hpp (the driver).

#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/discard/deferred_release.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/report.hpp>
#include <resync/reset_request.hpp>
#include <resync/session/decoding.hpp>
#include <resync/session/guard.hpp>
#include <resync/session/recovery_run.hpp>
#include <resync/session/staging.hpp>
#include <resync/session/store_staging.hpp>
#include <resync/session_options.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
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

/// The steps of a reset that report progress.
enum class ProgressStep : std::uint8_t {
    download = 1, ///< the fresh copy arrives (bytes)
    decode,       ///< the staged copy is decoded (bytes read back)
    recover,      ///< local operations are recovered onto it (operations)
};

constexpr std::string_view to_string(ProgressStep s) noexcept {
    switch (s) {
    case ProgressStep::download: return "download";
    case ProgressStep::decode: return "decode";
    case ProgressStep::recover: return "recover";
    }
    return "unknown";
}

/// Progress of a long step of a reset.
struct Progress {
    ResetPhase phase = ResetPhase::fetch; ///< the pipeline phase it belongs to
    ProgressStep step = ProgressStep::download;
    std::uint64_t done = 0;    ///< bytes (download, decode) or operations (recover) done so far
    std::uint64_t total = 0;   ///< in all
    std::uint64_t objects = 0; ///< decode: objects decoded so far
};

namespace session {

/// Where a reset attempt stands in this process (its durable checkpoint is the record's phase).
enum class Stage : std::uint8_t {
    waiting,  ///< for the backoff to pass (or for the connection)
    backup,   ///< to make the backup
    fetch,    ///< downloading the fresh copy into staging
    decode,   ///< decoding the staged copy, in slices
    recover,  ///< recovering local changes onto it, in slices
    commit,   ///< the one atomic commit, then notify
};

/// A request that is answered or sent again after `retry_after_polls`.
struct Request {
    bool outstanding = false;
    std::uint64_t sent_at = 0;
    /// What it asked for, so that only its own answer settles it - not the late answer to an
    /// earlier copy (a retry, or a request sent before a stale answer cleared it): a Pull's
    /// cursor version, an Upload's last client version. Were a late answer to settle a newer
    /// request, the session would send that one again at once, and every later request would go
    /// out twice from then on - under load, retries compound into many such chains.
    std::uint64_t asked = 0;
};

/// Adds `changesets` to the report's count of local changes not yet acknowledged.
template <class Op>
void count_unsynced(ResetReport& report, const std::vector<LocalChangeset<Op>>& changesets) {
    report.unsynced_changesets += changesets.size();
    for (const auto& cs : changesets) report.unsynced_operations += cs.ops.size();
}

/// A reset attempt in flight.
template <class S, class P>
struct Run {
    using Op = operation_of<S>;
    using Snap = snapshot_of<S>;
    using Clock = std::chrono::steady_clock;

    ResetTrigger trigger;
    PendingReset record;  ///< the durable record, as last written
    ResetReport report;
    Stage stage = Stage::waiting;
    Staging staging;
    std::uint32_t damaged_copies = 0;            ///< damaged or refused copies in this try
    std::vector<LocalChangeset<Op>> acknowledged;///< retained acknowledged changesets, asked about
    std::vector<LocalChangeset<Op>> unsynced;    ///< unsynced changesets accounted so far
    std::vector<LocalChangeset<Op>> lost;        ///< acknowledged changesets the server no longer has
    std::vector<OperationOutcome> already_there; ///< unsynced changes the copy already holds
    Decoding<model_of<S>> decoding;
    std::uint64_t decoded_bytes = 0;             ///< staged bytes read back into the decoder
    std::optional<fresh_of<S>> fresh;            ///< the decoded copy (or the store's view of its staged copy)
    RecoveryRun<P, S, fresh_of<S>> recovery;
    bool recovery_threw = false;
    std::optional<Recovered<Op>> recovered;
    ClientVersion accounted_upto = 0;            ///< the newest unsynced change taken into this attempt
    Clock::time_point phase_started = Clock::now();
};

/// What every part of a session shares.
template <class S, class T, class P>
struct Core {
    using Op = operation_of<S>;
    using Snap = snapshot_of<S>;
    using Clock = std::chrono::steady_clock;

    using BeforeReset = std::function<void(const ResetTrigger&, const S& store)>;
    using AfterReset = std::function<void(const Snap* before, const S& after, const ResetReport&)>;
    using RequestHandler = std::function<void(const ResetRequest&)>;
    using ErrorHandler = std::function<void(std::error_code, std::string_view detail)>;
    using ProgressHandler = std::function<void(const Progress&)>;

    Core(S& s, T& t, P p, SessionOptions o)
        : store(s), transport(t), policy(std::move(p)), options(std::move(o)),
          rng(options.seed ? options.seed : std::random_device{}()) {}

    S& store;
    T& transport;
    [[no_unique_address]] P policy;
    SessionOptions options;

    BeforeReset before;
    AfterReset after;
    RequestHandler request;
    ErrorHandler error;
    ProgressHandler progress;

    SessionState state = SessionState::disconnected;
    bool started = false;
    bool bound = false;     ///< the server answered this connection's Hello
    bool caught_up = false; ///< the last download reached the server's latest version
    std::uint64_t tick = 0;
    std::uint64_t connection_id = 0;
    std::uint64_t last_pull_answered = 0;
    std::uint64_t hello_not_before = 0; ///< tick before which no Hello is said (a record write failed)
    Request hello, pull, upload, fresh;
    std::optional<Run<S, P>> run;
    discard::DeferredRelease<model_of<S>> replaced; ///< what committed resets replaced, freed over later polls
    std::string guard_detail; ///< words from a policy or callback that threw
    std::error_code last_error;
    std::optional<ResetReport> last_report;
    std::size_t resets_completed = 0;
    std::mt19937_64 rng;

    // ------------------------------------------------------------------ time

    std::int64_t now_ms() const {
        if (options.clock) return options.clock();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
    bool due(const Request& r) const {
        if constexpr (declares_transport_capability<T, cap::answers_every_request>) return false;
        else return tick - r.sent_at >= options.retry_after_polls;
    }

    // ------------------------------------------------------------------ the durable record

    /// Writes `record` as the pending-reset record, alone (`std::nullopt` clears it).
    std::error_code write_record(const std::optional<PendingReset>& record) {
        SyncState s = store.sync_state();
        s.pending_reset = record;
        return guarded(ResetPhase::guard, errc::store_failure, [&] { return store.write_sync_state(s); });
    }

    /// Writes the running attempt's record (its checkpoint).
    std::error_code checkpoint() { return write_record(run->record); }

    // ------------------------------------------------------------------ errors

    /// Runs `f`, turning an exception (when exceptions are on) into `fallback`, its words kept.
    template <class F>
    std::error_code guarded(ResetPhase phase, errc fallback, F&& f) {
#if defined(__cpp_exceptions)
        try {
            return f();
        } catch (const std::exception& e) {
            guard_detail = std::string(to_string(phase)) + ": " + e.what();
            return fallback;
        } catch (...) {
            guard_detail = std::string(to_string(phase)) + ": an exception of unknown type";
            return fallback;
        }
#else
        (void)phase;
        (void)fallback;
        return f();
#endif
    }

    void report_error(std::error_code ec, std::string_view detail) {
        last_error = ec;
        if (error) error(ec, detail);
    }
    void stop(std::error_code ec, std::string detail) {
        report_error(ec, detail);
        state = SessionState::stopped;
    }

    // ------------------------------------------------------------------ reports and progress

    void begin_phase() {
        if (run) run->phase_started = Clock::now();
    }
    void end_phase(ResetPhase p) {
        if (run) run->report.phase_time[static_cast<std::size_t>(p) - 1] += Clock::now() - run->phase_started;
    }
    void tell_progress(ResetPhase phase, ProgressStep step, std::uint64_t done, std::uint64_t total,
                       std::uint64_t objects = 0) {
        if (progress) progress(Progress{phase, step, done, total, objects});
    }

    /// Objects in the live store, when it can say cheaply.
    std::optional<std::size_t> object_count() const {
        if constexpr (store_requirements::counts_objects<S>) {
            return store.object_count();
        } else if constexpr (store_requirements::lends_live_snapshot<S>) {
            return model_of<S>::object_count(store.live_view());
        } else {
            return std::nullopt;
        }
    }

    /// Where backup and staging files go: the options' directory, else the store's, else none.
    std::string backup_directory() const {
        if (!options.backup_directory.empty()) return options.backup_directory;
        if constexpr (store_requirements::names_backup_directory<S>) return std::string(store.backup_directory());
        return {};
    }
    const FileHook* file_hook() const { return options.file_hook ? &options.file_hook : nullptr; }

    /// The report entry for operation `i` of `cs`.
    static OperationOutcome outcome(const LocalChangeset<Op>& cs, std::size_t i, OperationFate fate, std::string reason) {
        return OperationOutcome{cs.client_version, i, fate, std::move(reason),
                                describe_operation<model_of<S>>(cs.ops[i])};
    }

    // ------------------------------------------------------------------ unsynced changes

    /// Asked on every poll: the store's own answer when it has one (no copy of the changesets).
    bool has_unsynced() const {
        if constexpr (store_requirements::reports_unsynced<S>) return store.has_unsynced();
        else return !store.unsynced().empty();
    }

    /// The oldest unsynced changesets, at most `max` (without copying the rest when the store can).
    std::vector<LocalChangeset<Op>> unsynced_upto(std::size_t max) const {
        if constexpr (store_requirements::pages_unsynced<S>) {
            return store.unsynced(max);
        } else {
            auto all = store.unsynced();
            if (all.size() > max) all.resize(max);
            return all;
        }
    }
};

} // namespace session
} // namespace resync
