#pragma once
/// \file
/// `ResetRequest`: what a manual reset hands the application.

#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <cstdint>
#include <string>

namespace resync {

/// A reset waiting for the application's decision. The session has stopped syncing; the local
/// data and the unsynced changes are untouched and also saved in `backup_path`. Call the
/// session's `execute_reset()` to discard them and download a fresh copy - now, or after a
/// restart (the request is durable).
struct ResetRequest {
    ResetTrigger trigger;
    std::string backup_path;   ///< the durable backup file (empty if the store cannot be backed up to a file)
    std::uint32_t attempt = 1; ///< how many attempts were made for this cause
};

} // namespace resync
