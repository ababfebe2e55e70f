#pragma once
/// \file
/// The execution role (`execute::Automatic` runs a reset at once; `execute::Manual` stops
/// syncing and waits for the user) and the fallback role (`fallback::Discard`,
/// `fallback::Manual`: what happens when recovery fails or is not allowed).

#include <resync/policy/role.hpp>
#include <resync/sync_state.hpp>

namespace resync::execute {

/// Runs the reset as soon as it is detected.
struct Automatic {
    using resync_role = role::execution;
    static constexpr bool waits_for_user = false;
};

/// After the backup, stops syncing and hands a `ResetRequest` to the session's reset-request
/// handler; the reset runs when the user calls `execute_reset()`, now or after a restart.
struct Manual {
    using resync_role = role::execution;
    static constexpr bool waits_for_user = true;
};

} // namespace resync::execute

namespace resync::fallback {

/// When recovery fails or the server forbids it, discard the local changes in the same attempt
/// (they stay in the backup and the report). (Realm: RecoverOrDiscard.)
struct Discard {
    using resync_role = role::fallback;
    static constexpr ResetMode mode = ResetMode::discard;
};

/// When recovery fails or the server forbids it, write a durable backup file and wait for the
/// user, as `Manual` does. (Realm: Recover.)
struct Manual {
    using resync_role = role::fallback;
    static constexpr ResetMode mode = ResetMode::manual;
};

} // namespace resync::fallback
