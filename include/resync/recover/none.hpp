#pragma once
/// \file
/// `recover::None`: local changes are not recovered; each is reported as discarded.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>

#include <vector>

namespace resync::recover {

/// Recovers nothing: every unsynced operation is reported as discarded (it survives only in the
/// backup, if the backup policy made one).
struct None {
    using resync_role = role::recovery;
    static constexpr ResetMode mode = ResetMode::discard;

    template <class S>
    Result<Recovered<typename S::operation_type>>
    recover(const S&, const typename S::snapshot_type&, const ResetTrigger&,
            const std::vector<LocalChangeset<typename S::operation_type>>& local) const {
        Recovered<typename S::operation_type> out;
        for (const auto& cs : local)
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                out.outcomes.push_back({cs.client_version, i, OperationFate::discarded,
                                        "local changes are discarded by this strategy"});
        return out;
    }
};

} // namespace resync::recover
