#pragma once
/// \file
/// `backup::None`: no backup; the before-state is discarded with the reset.

#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <string>

namespace resync::backup {

/// Keeps nothing. Callbacks receive no before-state.
struct None {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = false;

    template <class S>
    Result<std::string> backup(const S&, const ResetTrigger&) const {
        return std::string();
    }
};

} // namespace resync::backup
