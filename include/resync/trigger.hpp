#pragma once
/// \file
/// `ResetTrigger`: why a reset is needed, as found by the detection policy.

#include <resync/position.hpp>
#include <resync/server_error.hpp>

#include <cstdint>
#include <string_view>

namespace resync {

/// Why the client must reset.
enum class ResetReason : std::uint8_t {
    server_rollback = 1,  ///< the server's latest version is below the client's cursor (restored backup)
    diverging_history,    ///< the server has a different salt at the client's cursor (restored, then moved on)
    epoch_changed,        ///< sync was terminated and re-enabled: unrelated history
    schema_changed,       ///< a destructive schema change; local operations no longer mean anything
    client_expired,       ///< the client was offline longer than the server keeps history
    client_unknown,       ///< the server forgot this client's ident
    server_requested,     ///< the server asked for a reset with an error action
};

/// A short, stable name for a reason (for logs and reports).
constexpr std::string_view to_string(ResetReason r) noexcept {
    switch (r) {
    case ResetReason::server_rollback: return "server rollback";
    case ResetReason::diverging_history: return "diverging history";
    case ResetReason::epoch_changed: return "epoch changed";
    case ResetReason::schema_changed: return "schema changed";
    case ResetReason::client_expired: return "client expired";
    case ResetReason::client_unknown: return "client unknown";
    case ResetReason::server_requested: return "server requested";
    }
    return "unknown";
}

/// Everything known about why a reset is needed, produced by a detection policy.
struct ResetTrigger {
    ResetReason reason = ResetReason::server_requested;
    bool recovery_allowed = true;         ///< false: local operations must not be replayed
    ServerError server_error{};           ///< the server's error, or code 0 when found from positions
    ServerPosition client_position{};     ///< the client's download cursor when detected
    ServerPosition server_position{};     ///< the server's latest position when known
    Epoch client_epoch = 0;
    Epoch server_epoch = 0;
    SchemaVersion client_schema = 0;
    SchemaVersion server_schema = 0;

    friend bool operator==(const ResetTrigger&, const ResetTrigger&) = default;
};

} // namespace resync
