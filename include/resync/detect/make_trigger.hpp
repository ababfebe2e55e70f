#pragma once
/// \file
/// Builds a `ResetTrigger` from the client's state and what the server said; shared by the
/// shipped detection policies.

#include <resync/protocol.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

namespace resync::detect {

/// A trigger found from the positions in a Welcome.
inline ResetTrigger trigger_from_welcome(ResetReason reason, bool recovery_allowed, const SyncState& client,
                                         const protocol::Welcome& w) {
    ResetTrigger t;
    t.reason = reason;
    t.recovery_allowed = recovery_allowed;
    t.client_position = client.download;
    t.server_position = w.latest;
    t.client_epoch = client.epoch;
    t.server_epoch = w.epoch;
    t.client_schema = client.schema_version;
    t.server_schema = w.schema_version;
    return t;
}

/// A trigger found from a server error.
inline ResetTrigger trigger_from_error(ResetReason reason, bool recovery_allowed, const SyncState& client,
                                       const ServerError& e) {
    ResetTrigger t;
    t.reason = reason;
    t.recovery_allowed = recovery_allowed;
    t.server_error = e;
    t.client_position = client.download;
    t.client_epoch = client.epoch;
    t.client_schema = client.schema_version;
    return t;
}

/// True once the client has synced at least once, so its positions mean something.
inline bool has_synced(const SyncState& client) noexcept { return client.epoch != 0; }

} // namespace resync::detect
