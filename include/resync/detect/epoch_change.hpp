#pragma once
/// \file
/// `detect::EpochChange`: sync was terminated and re-enabled; the history is unrelated.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when the server is in another epoch than the client. Recovery is allowed when the
/// schema still fits (`detect::SchemaChange` catches the case where it does not).
struct EpochChange {
    using resync_role = role::detection;

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        if (!has_synced(client) || w.epoch == client.epoch) return {};
        return trigger_from_welcome(ResetReason::epoch_changed, true, client, w);
    }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

} // namespace resync::detect
