#pragma once
/// \file
/// `SyncSession<Store, Transport, ResetPolicy>`: keeps a local replica in sync with its server
/// and, when the server can no longer continue from where the replica stands, resets it as the
/// policy says - detect, guard, back up, fetch, recover, commit, notify, replay, acknowledge -
/// each step ending in a durable checkpoint (include/resync/session/).

#include <resync/backup/file.hpp>
#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/detail/cold.hpp>
#include <resync/detail/session_checks.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/recover/none.hpp>
#include <resync/report.hpp>
#include <resync/reset_request.hpp>
#include <resync/result.hpp>
#include <resync/session/core.hpp>
#include <resync/session/guard.hpp>
#include <resync/session/pipeline.hpp>
#include <resync/session/sync_loop.hpp>
#include <resync/session_options.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace resync {

namespace detail {

template <class S, class T, class P>
class SessionImpl {
public:
    using store_type = S;
    using transport_type = T;
    using policy_type = P;
    using model_type = model_of<S>;
    using operation_type = operation_of<S>;
    using snapshot_type = snapshot_of<S>;
    using Core = session::Core<S, T, P>;

    /// Binds a session to a store and a transport; neither is touched until the first `poll()`.
    SessionImpl(S& store, T& transport, P policy = {}, SessionOptions options = {});
    ~SessionImpl();

    SessionImpl(const SessionImpl&) = delete;
    SessionImpl& operator=(const SessionImpl&) = delete;

    // ------------------------------------------------------------------ callbacks

    /// Called before the reset's commit, with the store still untouched.
    void on_before_reset(typename Core::BeforeReset f) { c_.before = std::move(f); }
    /// Called after the commit with the before-state (null unless the backup policy keeps it, or
    /// after a restart), the store as it is now, and the report.
    void on_after_reset(typename Core::AfterReset f) { c_.after = std::move(f); }
    /// Called when a manual reset waits for the application (also at start, for a durable request).
    void on_reset_request(typename Core::RequestHandler f) { c_.request = std::move(f); }
    /// Called for every error the session meets, with words on what happened.
    void on_error(typename Core::ErrorHandler f) { c_.error = std::move(f); }
    /// Called as a reset downloads, decodes and recovers.
    void on_progress(typename Core::ProgressHandler f) { c_.progress = std::move(f); }

    // ------------------------------------------------------------------ driving

    /// Does a bounded amount of work and returns at once: handles up to `budget.messages`
    /// incoming messages, sends what is due, and moves a reset on by at most `budget.work`
    /// objects decoded or operations recovered (the commit is one step).
    SessionState poll(Budget budget = {});

    /// Polls until the session is idle (all local changes acknowledged, caught up with the
    /// server, no reset running), waits for the user, or stops; at most `max_polls` times.
    /// Returns the state it ended in. For tests, examples and command-line tools.
    SessionState run_until_idle(std::size_t max_polls = 100000, Budget budget = {});

    /// True when nothing is left to do: synced both ways and no reset in flight.
    bool idle() const;

    // ------------------------------------------------------------------ resets

    /// The manual reset waiting for the application, if any.
    std::optional<ResetRequest> pending_request() const;

    /// Performs the waiting manual reset: discards the local state and downloads a fresh copy.
    /// Refuses (`errc::backup_missing`, `backup_corrupt`, `backup_truncated`), touching nothing,
    /// when the backup file the request names is gone or damaged - write a new one with
    /// `renew_backup()`. Writes made since the request are kept too (the store's quarantine, or a
    /// backup file written before the commit). `no_reset_pending` when there is none.
    RESYNC_COLD std::error_code execute_reset();

    /// Writes a new backup file for the waiting manual reset (the store's state and every unsynced
    /// change as they are now), records it, and hands the application the renewed request. For a
    /// backup file that was lost or damaged, or to take in writes made while waiting.
    RESYNC_COLD std::error_code renew_backup();

    /// A dry run: what a reset for `trigger` would do to each unsynced local operation, if the
    /// server's fresh copy were `fresh`. Touches nothing: not the store, not the pending-reset
    /// record, not the server.
    ResetPlan plan_reset(const ResetTrigger& trigger, const snapshot_type& fresh) const;

    /// A dry run against the state this client has now, as if the server still held what the
    /// client last saw: useful before the fresh copy is known (outcomes that depend on the
    /// server's changes, such as an erase on the server, show only in the exact plan). Needs a
    /// store that offers a live view (`cap::live_view`).
    ResetPlan plan_reset(const ResetTrigger& trigger) const
        requires store_requirements::offers_live_view<S>;

    SessionState state() const noexcept { return c_.state; }
    /// The last error met (cleared by nothing; compare with `std::error_code{}`).
    std::error_code last_error() const noexcept { return c_.last_error; }
    /// The report of the last reset, completed, abandoned or waiting.
    const std::optional<ResetReport>& last_report() const noexcept { return c_.last_report; }
    /// Objects that committed resets replaced and the session has not freed yet (it frees
    /// `Budget::work` of them per `poll()`; see `SessionOptions::release_replaced_state_at_once`).
    std::size_t replaced_objects_pending() const { return c_.replaced.objects(); }
    /// Frees now everything committed resets replaced that later polls would free.
    void release_replaced_state() noexcept { c_.replaced.release_all(); }

    /// How many resets this session ran to their commit.
    std::size_t resets_completed() const noexcept { return c_.resets_completed; }

    const P& policy() const noexcept { return c_.policy; }
    const SessionOptions& options() const noexcept { return c_.options; }

private:
    // ------------------------------------------------------------------ messages

    RESYNC_COLD void handle(protocol::Welcome& w);
    void handle(protocol::Download<operation_type>& d) { session::on_download(c_, d); }
    void handle(protocol::UploadAck& a) { session::on_upload_ack(c_, a); }
    void handle(protocol::FreshChunk& chunk) { session::on_fresh_chunk(c_, chunk); }

    RESYNC_COLD void handle(ServerError& e);

    // ------------------------------------------------------------------ outgoing

    void drive(const Budget& budget);

    /// Offline, a reset that has its copy goes on: decoding, recovery and the commit need no server.
    SessionState drive_offline(const Budget& budget);

    // ------------------------------------------------------------------ dry runs

    template <class Fresh>
    ResetPlan plan(const ResetTrigger& trigger, const Fresh& fresh) const;

    Core c_;
};

// The members are defined out of the class, so that `extern template` (RESYNC_DECLARE_SESSION)
// keeps them out of every translation unit but the one that instantiates the session.

template <class S, class T, class P>
SessionImpl<S, T, P>::SessionImpl(S& store, T& transport, P policy, SessionOptions options)
    : c_(store, transport, std::move(policy), std::move(options)) {}

template <class S, class T, class P>
SessionImpl<S, T, P>::~SessionImpl() = default;

template <class S, class T, class P>
SessionState SessionImpl<S, T, P>::poll(Budget budget) {
    ++c_.tick;
    if (c_.replaced.pending()) [[unlikely]]
        session::release_replaced(c_, budget);
    if (!c_.started) [[unlikely]]
        session::start(c_);
    if (c_.state == SessionState::stopped) [[unlikely]]
        return c_.state;
    if (!session::follow_connection(c_)) [[unlikely]]
        return drive_offline(budget);
    for (std::size_t i = 0; i < budget.messages && c_.state != SessionState::stopped; ++i) {
        auto message = c_.transport.receive();
        if (!message) break;
        // Steady sync receives downloads: handled without the visit's indirect call.
        if (auto* d = std::get_if<protocol::Download<operation_type>>(&*message)) [[likely]]
            handle(*d);
        else
            std::visit([&](auto& m) { handle(m); }, *message);
    }
    // The connection may have dropped and come back while receiving: a new connection
    // must hear Hello before any request, or the server rejects it as a protocol violation.
    if (c_.state == SessionState::stopped) [[unlikely]]
        return c_.state;
    if (!session::follow_connection(c_)) [[unlikely]]
        return drive_offline(budget);
    drive(budget);
    return c_.state;
}

template <class S, class T, class P>
SessionState SessionImpl<S, T, P>::run_until_idle(std::size_t max_polls, Budget budget) {
    c_.caught_up = false;
    for (std::size_t i = 0; i < max_polls; ++i) {
        poll(budget);
        if (idle() || c_.state == SessionState::awaiting_user || c_.state == SessionState::stopped) break;
        // Offline, only a reset that has its copy can go on.
        if (!c_.transport.connected() && !(c_.run && c_.run->stage >= session::Stage::decode)) break;
    }
    return c_.state;
}

template <class S, class T, class P>
bool SessionImpl<S, T, P>::idle() const {
    return c_.state == SessionState::syncing && c_.caught_up && !c_.pull.outstanding && !c_.upload.outstanding &&
           !c_.store.sync_state().pending_reset && !c_.has_unsynced();
}

template <class S, class T, class P>
std::optional<ResetRequest> SessionImpl<S, T, P>::pending_request() const {
    const auto& p = c_.store.sync_state().pending_reset;
    if (!p || !p->awaiting_user) return std::nullopt;
    return session::request_from(*p);
}

template <class S, class T, class P>
std::error_code SessionImpl<S, T, P>::execute_reset() {
    auto record = c_.store.sync_state().pending_reset;
    if (!record || !record->awaiting_user) return errc::no_reset_pending;
    if (c_.run) return errc::reset_in_progress;
    if (record->backup_keeps_unsynced) {
        if constexpr (store_requirements::backs_itself_up<S>) {
            // A file the store wrote itself (a database copy): the store checks it.
            if (auto ec = S::verify_backup(record->backup_path)) return ec;
        } else {
            auto backup = restore_backup<model_type>(record->backup_path);
            if (!backup) return backup.error();
        }
    }
    record->awaiting_user = false;
    record->mode = ResetMode::manual;
    record->phase = ResetPhase::backup;
    if (auto ec = c_.write_record(record)) return ec;
    session::run_attempt(c_, *record, session::trigger_from(*record), false);
    return {};
}

template <class S, class T, class P>
std::error_code SessionImpl<S, T, P>::renew_backup() {
    auto record = c_.store.sync_state().pending_reset;
    if (!record || !record->awaiting_user) return errc::no_reset_pending;
    auto made = session::backup_file(c_, session::trigger_from(*record));
    if (!made) return made.error();
    record->backup_path = made->location;
    record->backup_keeps_unsynced = made->keeps_unsynced;
    record->backed_up_upto = made->covers_upto;
    if (auto ec = c_.write_record(record)) return ec;
    if (c_.request) c_.request(session::request_from(*record));
    return {};
}

template <class S, class T, class P>
ResetPlan SessionImpl<S, T, P>::plan_reset(const ResetTrigger& trigger, const snapshot_type& fresh) const {
    return plan(trigger, fresh);
}

template <class S, class T, class P>
ResetPlan SessionImpl<S, T, P>::plan_reset(const ResetTrigger& trigger) const
    requires store_requirements::offers_live_view<S>
{
    return plan(trigger, c_.store.live_view());
}

template <class S, class T, class P>
void SessionImpl<S, T, P>::handle(protocol::Welcome& w) {
    if (auto trigger = session::on_welcome(c_, w)) session::begin_reset(c_, std::move(*trigger));
}

template <class S, class T, class P>
void SessionImpl<S, T, P>::handle(ServerError& e) {
    const bool fetching = c_.fresh.outstanding;
    const bool answers_hello = c_.hello.outstanding;
    c_.hello.outstanding = c_.pull.outstanding = c_.upload.outstanding = c_.fresh.outstanding = false;
    if (c_.state == SessionState::resetting || c_.state == SessionState::awaiting_user) {
        // An error answering our Hello binds the connection: the reset goes on. Any other (a
        // duplicate or a late answer) does not, or the fetch would go out on a connection the
        // server never bound and be refused as a protocol violation. (An error that starts a
        // reset leaves the connection unbound: the reset says Hello again first.) A protocol
        // violation means the server never bound it (an injected or a stale error answered
        // the Hello in its place): say Hello again.
        if (e.action == ServerAction::protocol_violation) c_.bound = false;
        else if (answers_hello) c_.bound = true;
        c_.report_error(errc::server_error, "server error during a reset: " + e.message);
        // A server that refuses every fresh-copy request must not hold the reset in its
        // fetch phase forever: a refused copy counts as a failed one.
        if (c_.run && fetching && ++c_.run->damaged_copies >= c_.options.max_fresh_copy_attempts)
            session::abandon(c_, session::StepFailure{ResetPhase::fetch, make_error_code(errc::server_error),
                                                      "the server kept answering the fresh-copy request with errors: " +
                                                          e.message});
        return;
    }
    const SyncState& s = c_.store.sync_state();
    if (auto trigger = session::detect(c_, [&] { return c_.policy.detection().on_error(s, e); })) {
        session::begin_reset(c_, std::move(*trigger));
        return;
    }
    if (c_.state == SessionState::stopped) return;
    switch (e.action) {
    case ServerAction::none:
    case ServerAction::warning:
    case ServerAction::transient:
        c_.report_error(errc::server_error, e.message);
        return; // requests are retried on their timers
    case ServerAction::protocol_violation:
        return c_.stop(errc::protocol_violation, "the server says: " + e.message);
    case ServerAction::reset:
    case ServerAction::reset_no_recovery:
        return c_.stop(errc::server_error,
                       "the server asks for a reset that this policy's detection does not handle: " + e.message);
    }
}

template <class S, class T, class P>
void SessionImpl<S, T, P>::drive(const Budget& budget) {
    if (c_.state == SessionState::syncing) [[likely]]
        return session::drive_sync(c_);
    if (c_.state == SessionState::connecting) {
        if (c_.tick >= c_.hello_not_before && (!c_.hello.outstanding || c_.due(c_.hello))) session::say_hello(c_);
        return;
    }
    if (c_.state == SessionState::resetting && c_.run) session::drive_reset(c_, budget);
}

template <class S, class T, class P>
SessionState SessionImpl<S, T, P>::drive_offline(const Budget& budget) {
    if (c_.state == SessionState::resetting && c_.run && c_.run->stage >= session::Stage::decode)
        session::drive_reset(c_, budget);
    return c_.state;
}

template <class S, class T, class P>
template <class Fresh>
ResetPlan SessionImpl<S, T, P>::plan(const ResetTrigger& trigger, const Fresh& fresh) const {
    ResetPlan plan;
    plan.trigger = trigger;
    const PendingReset record = session::guard(c_.store.sync_state().pending_reset, trigger,
                                               session::guard_modes<P>(), c_.options, c_.now_ms(), 1.0);
    plan.mode = record.mode;
    plan.attempt = record.attempt;
    const auto unsynced = c_.store.unsynced();
    if (plan.mode == ResetMode::recover) {
        auto out = c_.policy.recovery().recover(c_.store, fresh, trigger, unsynced);
        if (out && !out->failure) {
            plan.operations = std::move(out->outcomes);
            session::describe_outcomes<model_type, operation_type>(plan.operations, unsynced);
            return plan;
        }
        plan.failure = out ? out->failure->reason : out.error().message();
        plan.mode = P::fallback_type::mode;
    }
    auto discarded = recover::None{}.recover(c_.store, fresh, trigger, unsynced);
    plan.operations = std::move(discarded->outcomes);
    if (plan.mode == ResetMode::manual)
        for (auto& op : plan.operations) op.reason = "kept in the backup file until the application resets";
    session::describe_outcomes<model_type, operation_type>(plan.operations, unsynced);
    return plan;
}

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

/// Declares, in a header, that one translation unit instantiates the session
/// `SyncSession<Store, Transport, ResetPolicy>` (with RESYNC_INSTANTIATE_SESSION): every other
/// translation unit that includes the header uses it without compiling it again.
///
///     // my_session.hpp
///     using MySession = resync::SyncSession<MyStore, MyTransport, resync::doc::RecoverOrDiscard>;
///     RESYNC_DECLARE_SESSION(MyStore, MyTransport, resync::doc::RecoverOrDiscard)
///     // my_session.cpp, one translation unit
///     RESYNC_INSTANTIATE_SESSION(MyStore, MyTransport, resync::doc::RecoverOrDiscard)
///
/// Each argument is one type (name a type with commas in it by an alias first). Written out, it
/// is `extern template class` of `resync::SyncSession<...>` and of the class it inherits from.
#define RESYNC_DECLARE_SESSION(Store, Transport, ResetPolicy)                                         \
    extern template class resync::detail::SessionImpl<Store, Transport, ResetPolicy>;                 \
    extern template class resync::SyncSession<Store, Transport, ResetPolicy>;

/// Instantiates, in the one translation unit that compiles it, a session declared with
/// RESYNC_DECLARE_SESSION.
#define RESYNC_INSTANTIATE_SESSION(Store, Transport, ResetPolicy)                                     \
    template class resync::detail::SessionImpl<Store, Transport, ResetPolicy>;                        \
    template class resync::SyncSession<Store, Transport, ResetPolicy>;
