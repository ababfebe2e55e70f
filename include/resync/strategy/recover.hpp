#pragma once
/// \file
/// The recovering strategies: `Recover`, `RecoverOrDiscard`, `RecoverAll`.

#include <resync/backup/snapshot.hpp>
#include <resync/execute.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/strategy.hpp>

namespace resync {

/// Recovers the unsynced local changes onto a fresh copy; when that fails or the server forbids
/// it, writes a durable backup file and waits for the user, as `Manual` does. (Realm: Recover.)
using Recover = Strategy<backup::Snapshot, recover::Rebase<>, fallback::Manual>;

/// Recovers the unsynced local changes; when that fails or the server forbids it, discards them
/// in the same attempt (they stay in the report and the before-state). (Realm: RecoverOrDiscard.)
using RecoverOrDiscard = Strategy<backup::Snapshot, recover::Rebase<>, fallback::Discard>;

/// As `RecoverOrDiscard`, and after a server rollback also re-applies the acknowledged local
/// changes the restored server lost, so a server restore heals from its clients. (No peer does this.)
using RecoverAll = Strategy<backup::Snapshot, recover::RebaseAll<>, fallback::Discard>;

} // namespace resync
