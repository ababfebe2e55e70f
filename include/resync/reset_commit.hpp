#pragma once
/// \file
/// What the discard phase hands a Store for the one atomic commit of a reset, and what a
/// minimal-diff commit reports back.

#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/sync_state.hpp>

#include <cstddef>
#include <vector>

namespace resync {

/// Everything a reset commits in one atomic store transaction (DESIGN §4, phase 6).
template <class Snapshot, class Op>
struct ResetCommit {
    /// The server's fresh state: the store's new synced base.
    Snapshot state;
    /// The new local history: recovered changesets, applied by the store on top of `state` as
    /// unsynced local changes in the same transaction. Empty when local changes are discarded.
    std::vector<LocalChangeset<Op>> history;
    /// The new sync state: new ident, epoch, schema, cursors, and the pending-reset record.
    SyncState sync_state;
    /// Operations recovery dropped, to add to the store's quarantine (stores that keep one).
    std::vector<QuarantinedOperation<Op>> quarantine{};
};

/// Objects written by a minimal-diff commit. `created + updated + erased` is exactly the number
/// of objects that differed; `unchanged` objects were not written at all.
struct DiffStats {
    std::size_t created = 0;
    std::size_t updated = 0;
    std::size_t erased = 0;
    std::size_t unchanged = 0;

    std::size_t written() const noexcept { return created + updated + erased; }
    friend bool operator==(const DiffStats&, const DiffStats&) = default;
};

/// What a minimal-diff commit that keeps the before-state hands back: what it wrote, and the
/// state the store held before the commit.
template <class Snapshot>
struct DiffCommit {
    DiffStats stats;
    Snapshot before;
};

} // namespace resync
