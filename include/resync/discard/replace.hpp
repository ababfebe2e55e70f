#pragma once
/// \file
/// `discard::Replace`: swap the staged state in, in one atomic commit.

#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/policy/role.hpp>

#include <utility>

namespace resync::discard {

/// Replaces the live state with the staged one in one atomic store transaction. The old state is
/// moved aside, not copied, and handed back for the callbacks; the session then frees it over the
/// following polls, not inside the commit (`SessionOptions::release_replaced_state_at_once`).
struct Replace {
    using resync_role = role::discard;

    template <class S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit(S& store, reset_commit_of<S>&& c) const {
        auto before = store.commit_reset(std::move(c));
        if (!before) return before.error();
        DiscardOutcome<snapshot_of<S>> out;
        out.before.emplace(std::move(*before));
        return out;
    }

    /// The same commit: it always hands the old state back, so a backup that keeps the
    /// before-state never needs a copy of it first.
    template <class S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit_keeping_before(S& store, reset_commit_of<S>&& c) const {
        return commit(store, std::move(c));
    }

    /// The commit from a store's own staging (`cap::fresh_copy_staging`): the store swaps its
    /// staged copy in (a database renames its staged tables), in one transaction.
    template <class S>
        requires store_requirements::stages_fresh_copies<S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit_staged(S& store, StagedResetCommit<operation_of<S>>&& c) const {
        auto done = store.commit_staged_reset(std::move(c), CommitKind::replace);
        if (!done) return done.error();
        return DiscardOutcome<snapshot_of<S>>{};
    }
};

} // namespace resync::discard
