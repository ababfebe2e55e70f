#pragma once
/// \file
/// `discard::Diff`: write only the objects that differ, keeping object identity.

#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/error.hpp>
#include <resync/policy/role.hpp>

#include <utility>

namespace resync::discard {

/// Makes the live state equal to the staged one by writing only the objects that differ, in one
/// atomic store transaction, so observers see a minimal change (like Realm's transfer). Needs a
/// store with the `cap::diff_commit` capability. With `cap::diff_commit_leftover` too, the store
/// hands back what it replaced (`DiscardOutcome::leftover`) and the session frees it over the
/// following polls instead of inside the commit.
struct Diff {
    using resync_role = role::discard;

    template <class S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit(S& store, reset_commit_of<S>&& c) const {
        static_assert(store_requirements::commits_reset_by_diff<S>,
                      "resync::discard::Diff needs a store that declares resync::cap::diff_commit and provides "
                      "Result<DiffStats> commit_reset_diff(ResetCommit<snapshot_type, operation_type>&&); "
                      "use discard::Replace for this store");
        // Compiled only when the store can diff, so the static_assert is the only error.
        if constexpr (!store_requirements::commits_reset_by_diff<S>) {
            return errc::store_failure;
        } else if constexpr (store_requirements::commits_reset_diff_leaving_leftover<S>) {
            auto done = store.commit_reset_diff_leaving_leftover(std::move(c));
            if (!done) return done.error();
            DiscardOutcome<snapshot_of<S>> out;
            out.diff = done->stats;
            out.leftover.emplace(std::move(done->leftover));
            return out;
        } else {
            auto stats = store.commit_reset_diff(std::move(c));
            if (!stats) return stats.error();
            DiscardOutcome<snapshot_of<S>> out;
            out.diff = *stats;
            return out;
        }
    }

    /// The same commit, also handing back the old state for a backup that keeps it, assembled
    /// by the store from the objects the commit moves (no copy of the old state is made). Needs
    /// a store with `cap::diff_commit_keeping_before`; for others the session copies the state
    /// before calling `commit`.
    template <class S>
        requires store_requirements::commits_reset_diff_keeping_before<S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit_keeping_before(S& store, reset_commit_of<S>&& c) const {
        auto done = store.commit_reset_diff_keeping_before(std::move(c));
        if (!done) return done.error();
        DiscardOutcome<snapshot_of<S>> out;
        out.diff = done->stats;
        out.before.emplace(std::move(done->before));
        return out;
    }

    /// The commit from a store's own staging (`cap::fresh_copy_staging`): the store writes only
    /// the objects that differ from its staged copy (a database: insert, update and delete only
    /// the differing rows, in SQL), in one transaction.
    template <class S>
        requires store_requirements::stages_fresh_copies<S>
    Result<DiscardOutcome<snapshot_of<S>>>
    commit_staged(S& store, StagedResetCommit<operation_of<S>>&& c) const {
        auto stats = store.commit_staged_reset(std::move(c), CommitKind::diff);
        if (!stats) return stats.error();
        DiscardOutcome<snapshot_of<S>> out;
        out.diff = *stats;
        return out;
    }
};

} // namespace resync::discard
