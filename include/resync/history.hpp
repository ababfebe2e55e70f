#pragma once
/// \file
/// Entries of a client's local history and of the server's history.

#include <resync/position.hpp>

#include <cstdint>
#include <vector>

namespace resync {

/// One local changeset: the operations of one local transaction, with its client version and,
/// once the server acknowledged it, the server version it was integrated at.
template <class Op>
struct LocalChangeset {
    ClientVersion client_version = 0;
    std::uint64_t server_version = 0; ///< 0 while unacknowledged (unsynced)
    std::vector<Op> ops;

    bool acknowledged() const noexcept { return server_version != 0; }
    friend bool operator==(const LocalChangeset&, const LocalChangeset&) = default;
};

/// One entry of the server's history as the server sends it to clients.
template <class Op>
struct RemoteChangeset {
    std::uint64_t server_version = 0;
    std::uint64_t salt = 0;
    ClientIdent origin = 0;           ///< the client that produced it
    ClientVersion client_version = 0; ///< its version in the origin's history
    std::vector<Op> ops;

    ServerPosition position() const noexcept { return {server_version, salt}; }
    friend bool operator==(const RemoteChangeset&, const RemoteChangeset&) = default;
};

} // namespace resync
