#pragma once
/// \file
/// `resync::Manual`: back up to a durable file, stop syncing, let the user decide.

#include <resync/backup/file.hpp>
#include <resync/execute.hpp>
#include <resync/strategy.hpp>

namespace resync {

/// Detects a reset, writes a durable backup file (state, unsynced changes, sync state), stops
/// syncing and hands the session's reset-request handler a `ResetRequest` with the reason and
/// the backup path. `execute_reset()` then discards and downloads a fresh copy - at once, or
/// after a restart. Construct as `Manual{backup::File{"/where/backups/go"}}`. (Realm: Manual.)
using Manual = Strategy<backup::File, execute::Manual>;

} // namespace resync
