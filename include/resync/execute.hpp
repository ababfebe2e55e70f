#pragma once
/// \file
/// The execution role: `execute::Automatic` runs a reset at once; `execute::Manual` stops
/// syncing and waits for the user.

#include <resync/policy/role.hpp>

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
