#pragma once
/// \file
/// The sync schema in PostgreSQL: the tables `postgres::Storage` keeps the server's state in,
/// and `postgres::install`, which creates whatever of them is missing. Dropping the schema and
/// installing it again is a *terminate and re-enable*: a new epoch, an empty history and an
/// empty registry (docs/server.md §8).
///
/// | table | holds |
/// |---|---|
/// | `resync.meta` | one row: epoch, schema version, latest and floor positions |
/// | `resync.history` | server version, salt, origin ident, client version, payload (the operations as `M::encode` writes them, in the wire format's `operations` layout) |
/// | `resync.clients` | the registry: ident, last integrated client version, bound, reserved_for |
/// | `resync.integrated` | (ident, client version) -> server version of every integrated changeset |
/// | `resync.collections`, `resync.objects` | the current state of the document model: one row per object, its fields encoded as in a snapshot |

#include <resync/postgres/connection.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace resync::postgres {

/// The name of the sync schema. Fixed, so that every statement is a constant text.
inline constexpr std::string_view schema_name = "resync";

namespace detail {

// Every statement of the installation, in order; each is idempotent.
inline constexpr std::array<std::string_view, 10> install_statements{
    "CREATE SCHEMA IF NOT EXISTS resync",
    "CREATE TABLE IF NOT EXISTS resync.meta ("
    " id integer PRIMARY KEY CHECK (id = 1),"
    " epoch bigint NOT NULL,"
    " schema_version integer NOT NULL,"
    " latest_version bigint NOT NULL, latest_salt bigint NOT NULL,"
    " floor_version bigint NOT NULL, floor_salt bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS resync.history ("
    " server_version bigint PRIMARY KEY,"
    " salt bigint NOT NULL,"
    " origin bigint NOT NULL,"
    " client_version bigint NOT NULL,"
    " payload bytea NOT NULL)",
    "CREATE INDEX IF NOT EXISTS history_by_origin ON resync.history (origin, client_version)",
    "CREATE TABLE IF NOT EXISTS resync.clients ("
    " ident bigint PRIMARY KEY,"
    " last_integrated bigint NOT NULL,"
    " bound boolean NOT NULL,"
    " reserved_for bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS clients_reservations ON resync.clients (reserved_for) WHERE NOT bound",
    "CREATE TABLE IF NOT EXISTS resync.integrated ("
    " ident bigint NOT NULL,"
    " client_version bigint NOT NULL,"
    " server_version bigint NOT NULL,"
    " PRIMARY KEY (ident, client_version))",
    "CREATE TABLE IF NOT EXISTS resync.collections (name bytea PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS resync.objects ("
    " collection bytea NOT NULL,"
    " key bytea NOT NULL,"
    " fields bytea NOT NULL,"
    " PRIMARY KEY (collection, key))",
    "INSERT INTO resync.meta VALUES (1, $1, 1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING",
};

} // namespace detail

/// Creates the sync schema's missing parts on `c`, inside the transaction the caller has open
/// (so that dropping the old schema and installing a new one can be one atomic step). A new
/// schema starts with `epoch` (non-zero), schema version 1 and nothing else; an existing one is
/// left as it is. Returns false, with `c.failure()` saying why, if a statement failed.
inline bool install(Connection& c, std::uint64_t epoch) {
    // Two installers creating the same table at once can collide inside the catalog: an
    // advisory lock, held to the end of the transaction, puts them in turn.
    if (!c.exec("SELECT pg_advisory_xact_lock(7311150433862316833)")) return false;
    for (std::size_t i = 0; i + 1 < detail::install_statements.size(); ++i)
        if (!c.exec(detail::install_statements[i])) return false;
    return c.exec(detail::install_statements.back(), Params{}.u64(epoch)).has_value();
}

} // namespace resync::postgres
