#pragma once
/// \file
/// `detect::Rollback`: the server's latest version is below the client's cursor.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when the server (of the same epoch) is behind what the client already integrated:
/// the server was restored from a backup. Recovery is allowed.
struct Rollback {
    using resync_role = role::detection;

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        if (!has_synced(client) || w.epoch != client.epoch) return {};
        if (w.latest.version >= client.download.version) return {};
        return trigger_from_welcome(ResetReason::server_rollback, true, client, w);
    }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

} // namespace resync::detect
