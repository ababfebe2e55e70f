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
/// store with `commit_reset_diff`.
struct Diff {
    using resync_role = role::discard;

    template <class S>
    Result<DiscardOutcome<typename S::snapshot_type>>
    commit(S& store, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) const {
        static_assert(store_requirements::commits_reset_by_diff<S>,
                      "resync::discard::Diff needs the store to provide "
                      "Result<DiffStats> commit_reset_diff(ResetCommit<snapshot_type, operation_type>&&); "
                      "use discard::Replace for this store");
        // Compiled only when the store can diff, so the static_assert is the only error.
        if constexpr (!store_requirements::commits_reset_by_diff<S>) {
            return errc::store_failure;
        } else {
            auto stats = store.commit_reset_diff(std::move(c));
            if (!stats) return stats.error();
            DiscardOutcome<typename S::snapshot_type> out;
            out.diff = *stats;
            return out;
        }
    }

    /// The same commit, also handing back the old state for a backup that keeps it, assembled
    /// by the store from the objects the commit moves (no copy of the old state is made). Needs
    /// a store with `commit_reset_diff_keeping_before`; for others the session copies the state
    /// before calling `commit`.
    template <class S>
        requires store_requirements::commits_reset_diff_keeping_before<S>
    Result<DiscardOutcome<typename S::snapshot_type>>
    commit_keeping_before(S& store, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) const {
        auto done = store.commit_reset_diff_keeping_before(std::move(c));
        if (!done) return done.error();
        DiscardOutcome<typename S::snapshot_type> out;
        out.diff = done->stats;
        out.before.emplace(std::move(done->before));
        return out;
    }
};

} // namespace resync::discard
