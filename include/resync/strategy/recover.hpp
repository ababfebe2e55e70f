#pragma once
/// \file
/// The recovering strategies: `Recover<Rules>`, `RecoverOrDiscard<Rules>`, `RecoverAll<Rules>`,
/// for any model's recovery rules (`recover::DocumentRules` for the document model).

#include <resync/backup/snapshot.hpp>
#include <resync/execute.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/strategy.hpp>

namespace resync {

/// Recovers the unsynced local changes onto a fresh copy under `Rules`; when that fails or the
/// server forbids it, writes a durable backup file and waits for the user, as `Manual` does.
/// (Realm: Recover.)
template <class Rules>
using Recover = Strategy<backup::Snapshot, recover::Rebase<Rules>, fallback::Manual>;

/// Recovers the unsynced local changes; when that fails or the server forbids it, discards them
/// in the same attempt (kept in the store's quarantine or a backup file, and in the report).
/// (Realm: RecoverOrDiscard.)
template <class Rules>
using RecoverOrDiscard = Strategy<backup::Snapshot, recover::Rebase<Rules>, fallback::Discard>;

/// As `RecoverOrDiscard`, and after a server rollback also re-applies the acknowledged local
/// changes the restored server lost, so a server restore heals from its clients. (No peer does this.)
template <class Rules>
using RecoverAll = Strategy<backup::Snapshot, recover::RebaseAll<Rules>, fallback::Discard>;

} // namespace resync
