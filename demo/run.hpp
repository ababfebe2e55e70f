#pragma once
// Runs the chosen scenario under the chosen strategy: one SyncSession on the World, driven poll
// by poll with a work budget, as an application's loop would drive it.

#include "progress.hpp"
#include "world.hpp"

#include <resync/report.hpp>
#include <resync/reset_request.hpp>
#include <resync/session/core.hpp>

#include <string>
#include <vector>

namespace resync_demo {

/// What the session did.
struct Run {
    std::vector<resync::ResetReport> resets;    ///< every reset, in order: completed, or waiting for the user
    std::vector<resync::ResetRequest> requests; ///< manual resets handed to the application
    std::vector<std::string> errors;            ///< what the session's error callback said
    resync::SessionState final_state = resync::SessionState::disconnected;
    bool timed_out = false;
};

/// Prepares the world, provokes the scenario's cause and syncs until the session is idle again
/// (a waiting manual reset is executed, as the application would).
Run run(World& w, ProgressView& progress);

} // namespace resync_demo
