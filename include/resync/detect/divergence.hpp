#pragma once
/// \file
/// `detect::Divergence`: the server has a different salt at the client's cursor version.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when the server's history at the client's cursor version carries a different salt:
/// the server was restored and has since moved past the client's version with new history, so
/// comparing versions alone would miss it. Recovery is allowed.
struct Divergence {
    using resync_role = role::detection;

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        if (!has_synced(client) || w.epoch != client.epoch || client.download.version == 0) return {};
        if (w.latest.version < client.download.version) return {}; // a rollback, not a divergence
        if (!w.salt_at_cursor || *w.salt_at_cursor == client.download.salt) return {};
        return trigger_from_welcome(ResetReason::diverging_history, true, client, w);
    }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

} // namespace resync::detect
