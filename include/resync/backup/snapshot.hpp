#pragma once
/// \file
/// `backup::Snapshot`: the before-state is kept in memory and handed to the callbacks.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <string>

namespace resync::backup {

/// Keeps the before-state in memory for the before/after callbacks. It costs no copy with a
/// replacing discard: the state being discarded is moved aside, not copied. Memory is not
/// durable: unsynced changes a reset discards are kept elsewhere (the keeping rule).
struct Snapshot {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = true;

    template <class S>
    Result<BackupMade> backup(const S&, const ResetTrigger&, const BackupContext&) const {
        return BackupMade{std::string("memory"), false};
    }
};

} // namespace resync::backup
