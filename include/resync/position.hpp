#pragma once
/// \file
/// Where a client and a server stand: server positions (version + salt), epochs, idents.

#include <compare>
#include <cstdint>

namespace resync {

/// The ident the server assigned to a client replica; 0 means "none assigned yet".
using ClientIdent = std::uint64_t;
/// A version in a client's local history (1, 2, 3 ...); 0 means "before the first".
using ClientVersion = std::uint64_t;
/// The lineage of a server's history: a server whose sync was terminated and re-enabled starts
/// a new epoch, unrelated to the old one. 0 means "unknown" (a client that never synced).
using Epoch = std::uint64_t;
/// Version of the server's schema; changes only on destructive (incompatible) schema changes.
using SchemaVersion = std::uint32_t;

/// A point in the server's history: a version together with the random salt the server drew
/// for it. Two servers (or one server before and after a restore) that agree on the version but
/// not on the salt have diverging histories.
struct ServerPosition {
    std::uint64_t version = 0; ///< 0: before the first server version
    std::uint64_t salt = 0;    ///< the salt of `version`; 0 for version 0

    friend bool operator==(const ServerPosition&, const ServerPosition&) = default;
};

} // namespace resync
