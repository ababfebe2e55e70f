#pragma once
/// \file
/// `replay::Batched<N>`: upload recovered changesets at most N per message.

#include <resync/history.hpp>
#include <resync/policy/role.hpp>

#include <cstddef>
#include <vector>

namespace resync::replay {

/// Uploads changesets unchanged, at most `N` per upload message, so a large recovery does not
/// become one huge message. Each is still keyed by (ident, client version): idempotent.
template <std::size_t N>
struct Batched {
    static_assert(N > 0, "resync::replay::Batched<N> needs N > 0");
    using resync_role = role::replay;

    template <class Op>
    std::vector<LocalChangeset<Op>> prepare(std::vector<LocalChangeset<Op>> changesets) const {
        return changesets;
    }
    static constexpr std::size_t max_changesets_per_upload() noexcept { return N; }
};

} // namespace resync::replay
