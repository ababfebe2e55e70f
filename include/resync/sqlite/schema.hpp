#pragma once
/// \file
/// The layout of a `SqliteStore` file (format version 1) and the checks made before anything in
/// a file is written: whose file it is, which format version, whether it is whole.
///
/// | table | holds |
/// |---|---|
/// | `store` (one row) | the sync state with its pending-reset record, the next client version, the replica id, the next list element number |
/// | `collections`, `objects` | the live state: one row per collection, one row per object (its fields encoded as the document model encodes them, canonical: equal objects have equal bytes) |
/// | `history` | every local changeset kept: client version, the server version once acknowledged, whether the server sent it back, its operations and its undo log |
/// | `quarantine` | operations resets could not recover |
/// | `staged_copy`, `staged_chunks` | a fresh copy being fetched: its header and size, and its bytes as they arrived |
/// | `staged_collections`, `staged_objects` | the fresh copy decoded, in the live tables' shape |
/// | `backup_info` (backup files only) | when and why a backup was taken |
///
/// Identified by `PRAGMA application_id` ("RSYN") and versioned by `PRAGMA user_version`.

#include <resync/error.hpp>
#include <resync/result.hpp>
#include <resync/sqlite/database.hpp>

#include <cstdint>
#include <system_error>

namespace resync::sqlite {

/// "RSYN": the application id of a resync store file.
inline constexpr std::int64_t application_id = 0x5253594E;
/// The format version this build writes and reads.
inline constexpr std::int64_t format_version = 1;

/// The tables of format version 1 (see the file comment). Collection names and keys are BLOBs:
/// compared and stored byte for byte.
inline constexpr const char* schema_sql = R"sql(
CREATE TABLE store(
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sync BLOB NOT NULL,
    next_version INTEGER NOT NULL,
    replica_id INTEGER NOT NULL,
    next_element_seq INTEGER NOT NULL);
CREATE TABLE collections(name BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE objects(
    collection BLOB NOT NULL, key BLOB NOT NULL, fields BLOB NOT NULL,
    PRIMARY KEY (collection, key)) WITHOUT ROWID;
CREATE TABLE history(
    client_version INTEGER PRIMARY KEY,
    server_version INTEGER NOT NULL,
    in_base INTEGER NOT NULL,
    ops BLOB NOT NULL,
    undo BLOB NOT NULL);
CREATE INDEX history_unsynced ON history(client_version) WHERE server_version = 0;
CREATE TABLE quarantine(
    seq INTEGER PRIMARY KEY,
    client_version INTEGER NOT NULL, idx INTEGER NOT NULL, op BLOB NOT NULL,
    reason BLOB NOT NULL, cause INTEGER NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE staged_copy(
    id INTEGER PRIMARY KEY CHECK (id = 1),
    header BLOB NOT NULL, bytes INTEGER NOT NULL, decoded INTEGER NOT NULL);
CREATE TABLE staged_chunks(seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE staged_collections(name BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE staged_objects(
    collection BLOB NOT NULL, key BLOB NOT NULL, fields BLOB NOT NULL,
    PRIMARY KEY (collection, key)) WITHOUT ROWID;
)sql";

/// The staged tables again, after a `Replace` commit renamed them into the live ones.
inline constexpr const char* staged_tables_sql = R"sql(
CREATE TABLE staged_collections(name BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE staged_objects(
    collection BLOB NOT NULL, key BLOB NOT NULL, fields BLOB NOT NULL,
    PRIMARY KEY (collection, key)) WITHOUT ROWID;
)sql";

/// What a file turned out to be when opened.
enum class FileKind : std::uint8_t { empty, resync };

/// Reads the file's identity without writing anything: a new empty database, a resync store of
/// a version this build reads, or an error - `store_corrupt` (not a database, or damaged
/// header), `store_not_resync` (another application's database), `store_version_unsupported`.
inline Result<FileKind> identify(Database& db) {
    std::int64_t app = 0, version = 0, tables = 0;
    {
        auto& q = db("PRAGMA application_id");
        if (q.step()) app = q.int64(0);
        if (auto ec = q.take_error()) return ec;
        q.reset();
    }
    {
        auto& q = db("PRAGMA user_version");
        if (q.step()) version = q.int64(0);
        if (auto ec = q.take_error()) return ec;
        q.reset();
    }
    {
        auto& q = db("SELECT count(*) FROM sqlite_schema");
        if (q.step()) tables = q.int64(0);
        if (auto ec = q.take_error()) return ec;
        q.reset();
    }
    if (app == 0 && version == 0 && tables == 0) return FileKind::empty;
    if (app != application_id) return errc::store_not_resync;
    if (version > format_version) return errc::store_version_unsupported;
    if (version < 1) return errc::store_corrupt;
    return FileKind::resync;
}

/// `PRAGMA quick_check`: whether every page and index is whole (reads the whole file).
inline std::error_code quick_check(Database& db) {
    auto& q = db("PRAGMA quick_check");
    bool ok = false;
    if (q.step()) ok = q.blob(0) == "ok";
    auto ec = q.take_error();
    q.reset();
    if (ec) return ec;
    return ok ? std::error_code{} : make_error_code(errc::store_corrupt);
}

} // namespace resync::sqlite
