#pragma once
/// \file
/// `backup::None`: no backup of its own; the before-state is discarded with the reset.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

namespace resync::backup {

/// Keeps nothing of its own. Callbacks receive no before-state. (Unsynced changes a reset would
/// discard are still kept, in the store's quarantine or a backup file: the keeping rule.)
struct None {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = false;

    template <class S>
    Result<BackupMade> backup(const S&, const ResetTrigger&, const BackupContext&) const {
        return BackupMade{};
    }
};

} // namespace resync::backup
