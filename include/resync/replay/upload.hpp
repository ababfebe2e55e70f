#pragma once
/// \file
/// `replay::Upload`: upload the recovered changesets as they are.

#include <resync/history.hpp>
#include <resync/policy/role.hpp>

#include <cstddef>
#include <vector>

namespace resync::replay {

/// Uploads recovered changesets unchanged, in their original split, all in one message.
struct Upload {
    using resync_role = role::replay;

    template <class Op>
    std::vector<LocalChangeset<Op>> prepare(std::vector<LocalChangeset<Op>> changesets) const {
        return changesets;
    }
    static constexpr std::size_t max_changesets_per_upload() noexcept { return 1024; }
};

} // namespace resync::replay
