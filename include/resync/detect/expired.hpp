#pragma once
/// \file
/// `detect::Expired`: the server compacted away the history the client would need.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when the client's cursor is older than the oldest version the server still keeps:
/// the client was offline longer than the server's history. Recovery is allowed.
struct Expired {
    using resync_role = role::detection;

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        if (!has_synced(client) || w.epoch != client.epoch) return {};
        if (client.download.version >= w.oldest_available) return {};
        if (w.latest.version < client.download.version) return {}; // a rollback, not an expiry
        return trigger_from_welcome(ResetReason::client_expired, true, client, w);
    }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

} // namespace resync::detect
