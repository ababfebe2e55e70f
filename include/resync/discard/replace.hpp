#pragma once
/// \file
/// `discard::Replace`: swap the staged state in, in one atomic commit.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>

#include <utility>

namespace resync::discard {

/// Replaces the live state with the staged one in one atomic store transaction. The old state is
/// moved aside, not copied, and handed back for the callbacks.
struct Replace {
    using resync_role = role::discard;

    template <class S>
    Result<DiscardOutcome<typename S::snapshot_type>>
    commit(S& store, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) const {
        auto before = store.commit_reset(std::move(c));
        if (!before) return before.error();
        DiscardOutcome<typename S::snapshot_type> out;
        out.before.emplace(std::move(*before));
        return out;
    }

    /// The same commit: it always hands the old state back, so a backup that keeps the
    /// before-state never needs a copy of it first.
    template <class S>
    Result<DiscardOutcome<typename S::snapshot_type>>
    commit_keeping_before(S& store, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) const {
        return commit(store, std::move(c));
    }
};

} // namespace resync::discard
