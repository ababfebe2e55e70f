#pragma once
/// \file
/// The messages of the sync protocol between a session and a server. A Transport carries them;
/// the in-process `testing::Server` and the PostgreSQL backend speak them.
///
/// The protocol is pull-based and tolerates lost, duplicated and delayed messages: every request
/// is idempotent and is simply sent again when its answer does not come.

#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/server_error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace resync::protocol {

// ---------------------------------------------------------------- client -> server

/// Opens a session: announces who the client is and where it stands.
struct Hello {
    ClientIdent ident = 0;           ///< 0 asks the server for a new ident
    ServerPosition download{};       ///< the client's download cursor
    ClientVersion upload_acked = 0;  ///< the last local version the server acknowledged
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
};

/// Unsynced local changesets, each keyed by (ident, client_version) so a retry is never applied twice.
template <class Op>
struct Upload {
    ClientIdent ident = 0;
    ServerPosition download{};   ///< the client's download cursor, for the server's checks
    std::vector<LocalChangeset<Op>> changesets;
};

/// Asks for server changesets after `from`.
struct Pull {
    ClientIdent ident = 0;
    ServerPosition from{};
    std::uint32_t max_entries = 256;
};

/// Asks for (the rest of) a fresh copy of the server's state, from byte `offset`.
struct FreshRequest {
    ClientIdent ident = 0;        ///< the ident the client had; 0 if none
    std::uint64_t offset = 0;
    ServerPosition expected{};    ///< the position of the copy being resumed; {0,0} for any
    ClientIdent reserved_ident = 0; ///< the new ident already allocated for this copy, if resuming
    std::uint32_t max_bytes = 1u << 20;
    /// Server versions the client wants to know the origin of (rollback-aware recovery: which of
    /// its acknowledged changesets the server still has). Answered in the first chunk.
    std::vector<std::uint64_t> probe_versions;
};

/// What the server holds at a probed version.
struct Probe {
    std::uint64_t version = 0;
    bool present = false;         ///< false: the server has no such version (it was rolled back)
    ClientIdent origin = 0;       ///< 0: written on the server side (or unknown, when compacted)
    ClientVersion client_version = 0;
    /// The server compacted this version away and no longer knows what it held: the client
    /// counts it as still there (it cannot tell, and must not upload a change twice).
    bool compacted = false;
    friend bool operator==(const Probe&, const Probe&) = default;
};

template <class Op>
using ClientMessage = std::variant<Hello, Upload<Op>, Pull, FreshRequest>;

// ---------------------------------------------------------------- server -> client

/// The server's answer to Hello: where the server stands, and what it knows of the client's cursor.
struct Welcome {
    ClientIdent ident = 0;            ///< the client's ident (newly assigned if it sent 0)
    ServerPosition latest{};          ///< the server's latest version and salt
    /// The salt the server has at the client's cursor version; nullopt when that version is not
    /// in the server's history (beyond its latest, or compacted away).
    std::optional<std::uint64_t> salt_at_cursor;
    std::uint64_t oldest_available = 0; ///< versions below this were compacted away
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
};

/// Server changesets after `base`, in order, and the server's latest position.
template <class Op>
struct Download {
    ClientIdent ident = 0;
    ServerPosition base{};
    ServerPosition latest{};
    std::vector<RemoteChangeset<Op>> entries;
};

/// The server integrated this client's changesets up to `client_version`.
struct UploadAck {
    ClientIdent ident = 0;
    ClientVersion client_version = 0;
    /// (client_version, server_version) of each changeset integrated by the acknowledged upload.
    std::vector<std::pair<ClientVersion, std::uint64_t>> integrated;
};

/// A piece of a fresh copy: bytes [offset, offset + bytes.size()) of an encoded snapshot of
/// `total_bytes` bytes, taken at `position`.
struct FreshChunk {
    ServerPosition position{};
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
    ClientIdent new_ident = 0;    ///< the ident the client adopts with this copy
    std::uint64_t total_bytes = 0;
    std::uint64_t offset = 0;
    std::string bytes;
    std::vector<Probe> probes;    ///< answers to the request's probe_versions
    /// The last client version the server integrated from the requester's previous ident (its
    /// `FreshRequest::ident`), 0 if none or unknown: those changes are already in this copy,
    /// even if their acknowledgement was lost, and must not be replayed.
    ClientVersion integrated_from_requester = 0;
};

template <class Op>
using ServerMessage = std::variant<Welcome, Download<Op>, UploadAck, FreshChunk, ServerError>;

} // namespace resync::protocol
