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
/// | `backup_info` (backup files only) | when and why a backup was taken, and a checksum of everything else the file holds (`content_crc`) |
///
/// Identified by `PRAGMA application_id` ("RSYN") and versioned by `PRAGMA user_version`.

#include <resync/detail/crc32.hpp>
#include <resync/error.hpp>
#include <resync/result.hpp>
#include <resync/sqlite/database.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

/// A CRC-32 of everything `db` holds except the table `except_table`: the schema's text, then
/// every row of every other table, value by value (type and bytes), in the order a scan returns
/// them. `PRAGMA quick_check` checks a file's structure, not its values: a backup file keeps this
/// checksum, so a damaged value (a flipped bit in a row) is found before the backup is relied on.
inline Result<std::uint32_t> content_crc(Database& db, std::string_view except_table) {
    std::uint32_t crc = 0;
    auto add_int = [&](std::int64_t v) {
        unsigned char b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (8 * i));
        crc = resync::detail::crc32(std::string_view(reinterpret_cast<const char*>(b), 8), crc);
    };
    auto add_bytes = [&](std::string_view bytes) {
        add_int(static_cast<std::int64_t>(bytes.size()));
        crc = resync::detail::crc32(bytes, crc);
    };
    std::vector<std::string> tables;
    {
        // Statements prepared here, not through the cache: table names are not literals.
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db.handle(), "SELECT type, name, sql FROM sqlite_schema ORDER BY name", -1, &raw,
                               nullptr) != SQLITE_OK)
            return error_from(sqlite3_errcode(db.handle()));
        Statement q(raw);
        while (q.step()) {
            const std::string name(q.blob(1));
            if (name == except_table) continue;
            add_bytes(q.blob(0));
            add_bytes(name);
            add_bytes(q.blob(2));
            if (q.blob(0) == "table") tables.push_back(name);
        }
        if (auto ec = q.take_error()) return ec;
    }
    for (const auto& table : tables) {
        // A table name cannot be a bound parameter: it is quoted as an identifier, every `"` in
        // it doubled, so that a hostile file's table name stays a name.
        std::string quoted;
        for (const char ch : table) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        const std::string sql = "SELECT * FROM \"" + quoted + "\"";
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
            return error_from(sqlite3_errcode(db.handle()));
        Statement q(raw);
        const int columns = sqlite3_column_count(raw);
        while (q.step()) {
            for (int c = 0; c < columns; ++c) {
                const int type = sqlite3_column_type(raw, c);
                add_int(type);
                if (type == SQLITE_INTEGER) add_int(q.int64(c));
                else if (type == SQLITE_FLOAT) {
                    const double d = sqlite3_column_double(raw, c);
                    std::int64_t bits = 0;
                    std::memcpy(&bits, &d, sizeof bits);
                    add_int(bits);
                } else if (type != SQLITE_NULL) add_bytes(q.blob(c));
            }
        }
        if (auto ec = q.take_error()) return ec;
    }
    return crc;
}

/// Whether the file at `path` is a SQLite database cut short: shorter than the 100-byte header
/// (while what is there is a database header's start), or than the pages the header counts.
inline bool cut_short(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char h[100];
    const std::size_t got = std::fread(h, 1, sizeof h, f);
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::fclose(f);
    static constexpr char magic[] = "SQLite format 3";
    if (got < sizeof h) return std::memcmp(h, magic, got < sizeof magic ? got : sizeof magic) == 0;
    std::uint32_t page_size = (std::uint32_t{h[16]} << 8) | h[17];
    if (page_size == 1) page_size = 65536;
    const std::uint32_t pages =
        (std::uint32_t{h[28]} << 24) | (std::uint32_t{h[29]} << 16) | (std::uint32_t{h[30]} << 8) | h[31];
    return size >= 0 && static_cast<std::uint64_t>(size) < std::uint64_t{page_size} * pages;
}

} // namespace resync::sqlite
