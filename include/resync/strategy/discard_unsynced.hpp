#pragma once
/// \file
/// `resync::DiscardUnsynced`: keep the before-state for the callbacks, discard, carry on.

#include <resync/backup/snapshot.hpp>
#include <resync/discard/replace.hpp>
#include <resync/recover/none.hpp>
#include <resync/strategy.hpp>

namespace resync {

/// Detects a reset, keeps the before-state in memory for the before/after callbacks, replaces
/// the local state with a fresh copy from the server (unsynced changes are lost unless a
/// callback saves them) and resumes syncing. (Realm: DiscardLocal.)
using DiscardUnsynced = Strategy<backup::Snapshot, discard::Replace, recover::None>;

} // namespace resync
