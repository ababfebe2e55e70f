#pragma once
/// \file
/// Server errors as they arrive on the wire: a numeric code, an action and a message.

#include <cstdint>
#include <string>
#include <string_view>

namespace resync {

/// What the server asks the client to do about an error.
enum class ServerAction : std::uint8_t {
    none = 0,          ///< informational; nothing to do
    warning,           ///< log it and carry on
    transient,         ///< retry later
    reset,             ///< the client must reset; recovery of local changes is allowed
    reset_no_recovery, ///< the client must reset and must not replay local changes
    protocol_violation ///< the client is broken; stop syncing
};

constexpr std::string_view to_string(ServerAction a) noexcept {
    switch (a) {
    case ServerAction::none: return "none";
    case ServerAction::warning: return "warning";
    case ServerAction::transient: return "transient";
    case ServerAction::reset: return "reset";
    case ServerAction::reset_no_recovery: return "reset_no_recovery";
    case ServerAction::protocol_violation: return "protocol_violation";
    }
    return "unknown";
}

/// Server error codes the library knows by name. They follow the numbering of Realm's sync
/// protocol so that logs from either system read the same; any other code is passed through.
namespace server_code {
inline constexpr int other_session_error = 201;   ///< the server failed to handle the request (its storage failed); retry it
inline constexpr int bad_client_file_ident = 208; ///< the server forgot this client
inline constexpr int bad_server_version = 209;    ///< the client is ahead of the server (restore)
inline constexpr int bad_client_version = 210;    ///< the server claims changes the client never made
inline constexpr int diverging_histories = 211;   ///< salt mismatch at the client's cursor
inline constexpr int bad_client_file = 217;       ///< sync no longer possible (destructive schema change)
inline constexpr int client_file_expired = 222;   ///< history compacted past the client's cursor
} // namespace server_code

/// An error message from the server.
struct ServerError {
    int code = 0;
    ServerAction action = ServerAction::none;
    std::string message;

    friend bool operator==(const ServerError&, const ServerError&) = default;
};

} // namespace resync
