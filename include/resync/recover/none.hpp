#pragma once
/// \file
/// `recover::None`: local changes are not recovered; each is reported as discarded.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>

#include <cstddef>
#include <vector>

namespace resync::recover {

/// Recovers nothing: every unsynced operation is reported as discarded (and kept, by the keeping
/// rule, in a backup file or the store's quarantine).
struct None {
    using resync_role = role::recovery;
    static constexpr ResetMode mode = ResetMode::discard;

    template <class S, class Fresh>
    Result<Recovered<operation_of<S>>> recover(const S&, const Fresh&, const ResetTrigger&,
                                              const std::vector<LocalChangeset<operation_of<S>>>& local) const {
        Recovered<operation_of<S>> out;
        for (const auto& cs : local)
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                out.outcomes.push_back({cs.client_version, i, OperationFate::discarded,
                                        "local changes are discarded by this strategy", {}});
        return out;
    }
};

} // namespace resync::recover
