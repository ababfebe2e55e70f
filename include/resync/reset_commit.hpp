#pragma once
/// \file
/// What the discard phase hands a Store for the one atomic commit of a reset, and what a
/// minimal-diff commit reports back.

#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/sync_state.hpp>

#include <cstddef>
#include <cstdint>
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
    /// Only for a store that declares `cap::recovered_in_place`, and then only when recovery
    /// applied `history` onto `state` already: one undo log per changeset of `history` (applied
    /// in reverse, a log reverts its changeset), which the store keeps instead of applying the
    /// history a second time. Empty otherwise: the store applies `history`.
    std::vector<std::vector<Op>> history_undo{};
};

/// What a reset commits from a store's own staging (`cap::fresh_copy_staging`): everything
/// `ResetCommit` holds but the state, which is the copy the store staged.
template <class Op>
struct StagedResetCommit {
    std::vector<LocalChangeset<Op>> history;
    SyncState sync_state;
    std::vector<QuarantinedOperation<Op>> quarantine{};
};

/// How a commit from staging makes the live state equal to the staged copy.
enum class CommitKind : std::uint8_t {
    replace, ///< swap the staged copy in
    diff,    ///< write only the objects that differ (object identity kept)
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

/// What a minimal-diff commit that leaves the freeing to its caller hands back
/// (`cap::diff_commit_leftover`): what it wrote, and what it replaced or did not need - the old
/// values of the objects it updated and the staged copies of those it left in place - to be freed
/// later, outside the commit. Not a state to read: only to free.
template <class Snapshot>
struct DiffCommitLeftover {
    DiffStats stats;
    Snapshot leftover;
};

} // namespace resync
