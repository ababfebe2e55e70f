#pragma once
/// \file
/// The cycle guard (DESIGN §4.3), as a pure function of the durable pending-reset record, the new
/// trigger and the session's settings: whether a trigger resumes an interrupted attempt or starts
/// a new one, in which mode, and not before when.
///
/// - A record whose attempt never reached its commit is **resumed** (a crash, a refused fetch, an
///   abandoned attempt): an interrupted attempt is not a failed one and never escalates.
/// - A record whose attempt committed, and a new trigger before the server confirmed it, is a
///   completed attempt triggered again: the next attempt counts one more, waits out a growing,
///   jittered backoff (durable: a wall-clock time in the record), and escalates only after
///   `repeats_before_escalating` repeats of the same reason: recover -> the strategy's fallback
///   -> manual. A different reason starts the escalation over; attempts keep counting, and beyond
///   `max_reset_attempts` every attempt is manual, so no reset loops forever.

#include <resync/session_options.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace resync::session {

/// What the guard needs to know of the strategy.
struct GuardModes {
    ResetMode requested = ResetMode::recover; ///< what the strategy asks for
    ResetMode fallback = ResetMode::discard;  ///< what it does when recovery fails or is forbidden
};

/// One escalation step: a recover becomes the fallback, anything else becomes manual.
constexpr ResetMode escalate(ResetMode m, const GuardModes& modes) noexcept {
    return m == ResetMode::recover ? modes.fallback : ResetMode::manual;
}

/// The wait before the `attempt`-th attempt (or the `attempt`-th retry of an abandoned one):
/// none for the first, then `backoff_base_ms` doubling per attempt up to `backoff_max_ms`,
/// scaled by `jitter` in [0, 1] to between half and all of it (so many clients reset by one
/// server do not come back in step).
constexpr std::int64_t backoff_ms(std::uint32_t attempt, const SessionOptions& o, double jitter) noexcept {
    if (attempt < 2) return 0;
    const std::uint32_t doublings = std::min<std::uint32_t>(attempt - 2, 30);
    const std::int64_t full = std::min<std::int64_t>(o.backoff_max_ms, o.backoff_base_ms << doublings);
    const double scale = 0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0);
    return static_cast<std::int64_t>(static_cast<double>(full) * scale);
}

/// Whether `record` is an attempt that stopped before its commit (to be resumed).
inline bool interrupted(const std::optional<PendingReset>& record) noexcept {
    return record && record->phase < ResetPhase::commit && !record->awaiting_user;
}

/// The record for `trigger`, given the durable `previous` one: the resumed attempt, or the next.
inline PendingReset guard(const std::optional<PendingReset>& previous, const ResetTrigger& trigger,
                          const GuardModes& modes, const SessionOptions& options, std::int64_t now_ms,
                          double jitter) {
    if (interrupted(previous)) {
        PendingReset resumed = *previous;
        // The server may have tightened its demand meanwhile (a schema change after a restore).
        resumed.recovery_allowed = resumed.recovery_allowed && trigger.recovery_allowed;
        if (resumed.mode == ResetMode::recover && !resumed.recovery_allowed) resumed.mode = modes.fallback;
        return resumed;
    }
    PendingReset next;
    next.reason = trigger.reason;
    next.recovery_allowed = trigger.recovery_allowed;
    next.server_error = trigger.server_error.code;
    next.message = trigger.server_error.message;
    next.started_at_ms = now_ms;
    next.phase = ResetPhase::guard;
    next.mode = modes.requested;
    if (previous) {
        // Attempts count every completed reset since the last one the server confirmed, whatever
        // its cause, so alternating causes cannot loop either.
        next.attempt = previous->attempt + 1;
        next.repeats = previous->reason == trigger.reason ? previous->repeats + 1 : 0;
    }
    for (std::uint32_t i = options.repeats_before_escalating; i < next.repeats; ++i)
        next.mode = escalate(next.mode, modes);
    if (next.attempt > options.max_reset_attempts) next.mode = ResetMode::manual;
    if (next.mode == ResetMode::recover && !next.recovery_allowed) next.mode = modes.fallback;
    next.not_before_ms = now_ms + backoff_ms(next.attempt, options, jitter);
    return next;
}

} // namespace resync::session
