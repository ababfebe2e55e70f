#pragma once
/// \file
/// `detect::SchemaChange`: the server's schema version is not the client's.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when the server's schema version differs from the one the client synced with: a
/// destructive change (a field's type or a key changed), so local operations no longer mean
/// anything and recovery is not allowed.
struct SchemaChange {
    using resync_role = role::detection;

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        if (!has_synced(client) || w.schema_version == client.schema_version) return {};
        return trigger_from_welcome(ResetReason::schema_changed, false, client, w);
    }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

} // namespace resync::detect
