#pragma once
/// \file
/// The reset pipeline's driver: starts an attempt on a trigger (phases 1 and 2: detect, then the
/// cycle guard commits the pending-reset record alone, before any other work), resumes an
/// interrupted one from its durable checkpoint, moves the attempt through its steps - backup,
/// fetch, decode and recover in slices, commit and notify - a bounded amount per `poll()`, and
/// abandons a failed try (retried after a backoff; after `max_abandoned_tries`, manual).

#include <resync/error.hpp>
#include <resync/reset_request.hpp>
#include <resync/session/backup_step.hpp>
#include <resync/session/commit_step.hpp>
#include <resync/session/core.hpp>
#include <resync/session/fetch_step.hpp>
#include <resync/session/guard.hpp>
#include <resync/session/recover_step.hpp>
#include <resync/session/sync_loop.hpp>
#include <resync/session_options.hpp>

#include <optional>
#include <string>
#include <utility>

namespace resync::session {

/// The trigger a durable record stands for (after a restart, the server's words are gone).
inline ResetTrigger trigger_from(const PendingReset& p) {
    ResetTrigger t;
    t.reason = p.reason;
    t.recovery_allowed = p.recovery_allowed;
    t.server_error.code = p.server_error;
    t.server_error.message = p.message;
    return t;
}

inline ResetRequest request_from(const PendingReset& p) { return ResetRequest{trigger_from(p), p.backup_path, p.attempt}; }

/// The modes the guard chooses between, from the strategy.
template <class P>
constexpr GuardModes guard_modes() {
    return GuardModes{P::requested_mode, P::fallback_type::mode};
}

/// Makes `record` the running attempt, at the stage its checkpoint says it reached.
template <class S, class T, class P>
void run_attempt(Core<S, T, P>& c, const PendingReset& record, ResetTrigger trigger, bool resumed) {
    c.run.emplace();
    auto& r = *c.run;
    r.trigger = std::move(trigger);
    r.record = record;
    r.report.trigger = r.trigger;
    r.report.mode_requested = P::requested_mode;
    r.report.mode_used = record.mode;
    r.report.attempt = record.attempt;
    r.report.resumed = resumed;
    r.report.backup_location = record.backup_path;
    r.stage = Stage::waiting;
    c.state = SessionState::resetting;
}

/// Phases 1 and 2: a trigger starts a new attempt - its record committed alone, before any reset
/// work - or resumes the interrupted one. Ignored while an attempt runs or a manual reset waits.
template <class S, class T, class P>
void begin_reset(Core<S, T, P>& c, ResetTrigger trigger) {
    if (c.run || c.state == SessionState::awaiting_user) return;
    const auto& previous = c.store.sync_state().pending_reset;
    if (previous && previous->awaiting_user) return;
    const bool resuming = interrupted(previous);
    PendingReset record = guard(previous, trigger, guard_modes<P>(), c.options, c.now_ms(), c.jitter());
    if (!resuming || !(record == *previous)) {
        c.begin_phase();
        if (auto ec = c.write_record(record)) {
            // Nothing was written: the reset is tried again on the next trigger.
            c.report_error(ec, "writing the pending-reset record");
            c.state = SessionState::connecting;
            c.hello = {};
            c.bound = false;
            c.hello_not_before = c.tick + c.options.retry_after_polls;
            return;
        }
    }
    run_attempt(c, record, std::move(trigger), resuming);
}

/// Ends a try that failed before its commit. The local data is untouched; the record is kept, so
/// the attempt is retried after a backoff - not escalated: a failed try is not a completed
/// attempt. After `max_abandoned_tries` failed tries, the attempt waits for the application.
/// A fatal failure (the application must change something) stops the session instead.
template <class S, class T, class P>
void abandon(Core<S, T, P>& c, StepFailure failure) {
    if (!c.run) return;
    auto& r = *c.run;
    r.report.outcome = ResetOutcome::abandoned;
    r.report.error = failure.error;
    r.report.failed_phase = failure.phase;
    r.report.detail = c.guard_detail.empty() ? failure.detail : failure.detail + " (" + c.guard_detail + ")";
    c.guard_detail.clear();
    c.last_report = r.report;
    c.report_error(failure.error, r.report.detail);
    PendingReset record = r.record;
    const ResetTrigger trigger = r.trigger;
    r.staging.sync();
    c.run.reset();
    if (failure.fatal) {
        c.stop(failure.error, failure.detail);
        return;
    }
    ++record.failures;
    record.not_before_ms = c.now_ms() + backoff_ms(record.failures + 1, c.options, c.jitter());
    if (auto ec = c.write_record(record)) {
        c.report_error(ec, "writing the pending-reset record");
        c.state = SessionState::connecting;
        c.hello = {};
        c.bound = false;
        c.hello_not_before = c.tick + c.options.retry_after_polls;
        return;
    }
    run_attempt(c, record, trigger, true);
    if (record.failures >= c.options.max_abandoned_tries) {
        // Tried enough: the application decides, with everything in a durable backup file.
        auto& again = *c.run;
        again.record.mode = ResetMode::manual;
        if (!again.record.backup_keeps_unsynced)
            if (auto ec = write_backup_file(c)) {
                c.run.reset();
                return c.stop(ec, "the reset kept failing, and its backup for a manual reset could not be written");
            }
        if (auto ec = await_user(c)) c.stop(ec, "writing the pending-reset record");
    }
}

/// Moves the running attempt on by a bounded amount of work.
template <class S, class T, class P>
void drive_reset(Core<S, T, P>& c, const Budget& budget) {
    for (int moves = 0; c.run && moves < 8; ++moves) {
        auto& r = *c.run;
        switch (r.stage) {
        case Stage::waiting:
            // The backoff is wall-clock time kept in the record, so it outlasts a restart.
            if (c.now_ms() < r.record.not_before_ms) return;
            r.stage = r.record.phase < ResetPhase::backup ? Stage::backup : Stage::fetch;
            if (r.stage == Stage::fetch) begin_fetch(c);
            continue;
        case Stage::backup:
            if (auto ec = backup_step(c)) return abandon(c, failure(ResetPhase::backup, ec, "making the backup"));
            if (r.record.mode == ResetMode::manual) {
                if (auto ec = await_user(c)) abandon(c, StepFailure{ResetPhase::backup, ec, "writing the pending-reset record"});
                return;
            }
            begin_fetch(c);
            continue;
        case Stage::fetch:
            // Pieces arrive as messages (`on_fresh_chunk`); a request goes out when due.
            if (c.bound && (!c.fresh.outstanding || c.due(c.fresh))) request_fresh_copy(c);
            else if (!c.bound && (!c.hello.outstanding || c.due(c.hello))) say_hello(c);
            return;
        case Stage::decode:
            if (auto failed = decode_step(c, budget.work)) return abandon(c, std::move(*failed));
            return;
        case Stage::recover:
            recover_step(c, budget.work);
            return;
        case Stage::commit: {
            bool committed = false;
            if (auto failed = commit_step(c, committed)) return abandon(c, std::move(*failed));
            if (committed) {
                // Phases 8 and 9 run in normal sync under the new ident.
                c.state = SessionState::connecting;
                say_hello(c);
            }
            return;
        }
        }
    }
}

/// A piece of the fresh copy arrived.
template <class S, class T, class P>
void on_fresh_chunk(Core<S, T, P>& c, protocol::FreshChunk& chunk) {
    c.fresh.outstanding = false;
    if (c.state != SessionState::resetting || !c.run || c.run->stage != Stage::fetch) return;
    if (auto failed = stage_chunk(c, chunk)) abandon(c, std::move(*failed));
}

/// At the first poll: a durable record left by an earlier process is taken up - a manual reset
/// still waiting, an attempt interrupted before its commit (resumed from its checkpoint), or a
/// committed one whose after-reset callback never ran (it runs now, without the before-state).
template <class S, class T, class P>
void start(Core<S, T, P>& c) {
    c.started = true;
    const auto record = c.store.sync_state().pending_reset;
    if (!record) return;
    if (record->awaiting_user) {
        c.state = SessionState::awaiting_user;
        if (c.request) c.request(request_from(*record));
        return;
    }
    if (interrupted(record)) {
        run_attempt(c, *record, trigger_from(*record), true);
        return;
    }
    if (record->phase == ResetPhase::commit) {
        ResetReport report;
        report.trigger = trigger_from(*record);
        report.mode_requested = P::requested_mode;
        report.mode_used = record->mode;
        report.attempt = record->attempt;
        report.outcome = ResetOutcome::completed;
        report.resumed = true;
        report.backup_location = record->backup_path;
        report.detail = "the reset was committed before a restart; its after-reset callback runs now";
        if (c.after) {
            if (auto e = c.guarded(ResetPhase::notify, errc::callback_failed, [&] {
                    c.after(nullptr, c.store, report);
                    return std::error_code{};
                }))
                c.report_error(e, "the after-reset callback failed; the reset itself is committed");
        }
        PendingReset notified = *record;
        notified.phase = ResetPhase::notify;
        if (auto e = c.write_record(notified)) c.report_error(e, "recording that the after-reset callback ran");
        c.last_report = std::move(report);
    }
}

} // namespace resync::session
