#pragma once
/// \file
/// `SqliteStore`: the document model in a SQLite database file - live state, local history,
/// acknowledged history, quarantine, sync state with its pending-reset record, and a fresh copy
/// being staged, all in the same file (layout: sqlite/schema.hpp). Every store operation is one
/// transaction. It stages fresh copies itself (`cap::fresh_copy_staging`) and backs itself up
/// with SQLite's online backup API (`cap::self_backup`), so a reset never holds the whole state
/// in memory. Needs the `resync::sqlite` CMake target (links libsqlite3).

#include <resync/bytes.hpp>
#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/backup/file_format.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sqlite/database.hpp>
#include <resync/sqlite/rows.hpp>
#include <resync/sqlite/schema.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace resync {

/// How a `SqliteStore` opens its file.
struct SqliteOptions {
    /// Create the file (and a new store in it) when it does not exist.
    bool create = true;
    /// `PRAGMA synchronous=FULL` (every commit fsyncs the WAL); false: NORMAL (a power cut may
    /// lose the last commits, never corrupt the file).
    bool synchronous_full = true;
    /// `PRAGMA quick_check` when opening: a damaged file is refused with `errc::store_corrupt`
    /// before anything is written (it reads the whole file once).
    bool check_integrity = true;
    /// The replica id of a new store (names its list elements; unique among a server's
    /// replicas); 0: random.
    std::uint64_t replica_id = 0;
    /// How many acknowledged changesets are kept after the server sent them back.
    std::size_t retention = 10000;
};

/// The document model in SQLite. Local writes go through `write()`; the session drives the rest.
/// Move-only; use from one thread at a time.
class SqliteStore {
public:
    using store_concept = store_t;
    using model_type = doc::Model;
    using operation_type = doc::Operation;
    using snapshot_type = doc::State;
    using view_type = sqlite::StateView;
    using store_capabilities =
        capabilities<cap::unsynced_flag, cap::unsynced_pages, cap::acknowledged_history, cap::quarantine,
                     cap::live_view, cap::object_count, cap::fresh_copy_staging, cap::self_backup>;

    /// Opens the store in `path`, creating it when allowed. Refuses, writing nothing:
    /// `store_corrupt` (not a database, or damaged), `store_not_resync` (another application's
    /// database), `store_version_unsupported` (a newer format); `no_such_file_or_directory`
    /// without `create`.
    static Result<SqliteStore> open(const std::string& path, SqliteOptions options = {}) {
        SqliteStore s;
        s.path_ = path;
        s.retention_ = options.retention;
        s.db_ = std::make_unique<sqlite::Database>();
        const int flags = SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
        if (auto ec = s.db_->open(path, flags)) return ec;
        auto kind = sqlite::identify(*s.db_);
        if (!kind) return kind.error();
        if (*kind == sqlite::FileKind::resync && options.check_integrity)
            if (auto ec = sqlite::quick_check(*s.db_)) return ec;
        // Only now is the file known to be ours (or new): from here on, writing is allowed.
        if (auto ec = s.db_->exec("PRAGMA journal_mode=WAL")) return ec;
        if (auto ec = s.db_->exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"))
            return ec;
        if (*kind == sqlite::FileKind::empty) {
            if (auto ec = s.create_schema(options.replica_id ? options.replica_id : random_replica_id())) return ec;
        }
        if (auto ec = s.load()) return ec;
        return s;
    }

    SqliteStore(SqliteStore&&) noexcept = default;
    SqliteStore& operator=(SqliteStore&&) noexcept = default;
    ~SqliteStore() = default;

    /// The file this store lives in.
    const std::string& path() const noexcept { return path_; }
    /// The id that names list elements inserted here.
    std::uint64_t replica_id() const noexcept { return replica_id_; }
    /// The connection, for the application's own reads (and tests): the tables are sqlite/schema.hpp's.
    sqlite::Database& database() const noexcept { return *db_; }

    // ------------------------------------------------------------------ the application's side

    /// Runs a local write transaction: `f(doc::Writer&)` applies and records operations, reading
    /// the objects it touches from the file. If `f` throws or returns a non-empty
    /// `std::error_code`, nothing is written. Returns the new changeset's client version (0 if
    /// `f` wrote nothing). One SQLite transaction.
    template <class F>
    Result<ClientVersion> write(F&& f) {
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        auto r = record_write(f);
        if (!r) return r.error();
        if (r->version == 0) return ClientVersion{0};
        if (auto ec = tx.commit()) return ec;
        adopt_counters(*r);
        return r->version;
    }

    /// The whole current state, read from the file (a copy: for tests and small stores).
    doc::State state() const { return export_snapshot(); }

    /// One field's value, or null.
    doc::Value get(std::string_view collection, std::string_view key, std::string_view field) const {
        return live_view().get(collection, key, field);
    }

    /// How many acknowledged changesets are kept after the server sent them back. Default 10,000.
    void set_retention(std::size_t changesets) {
        retention_ = changesets;
        sqlite::Transaction tx(*db_);
        if (!tx.begin_error() && !trim()) (void)tx.commit();
    }

    // ------------------------------------------------------------------ the library's side

    const SyncState& sync_state() const noexcept { return sync_; }

    std::error_code write_sync_state(const SyncState& s) {
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        if (auto ec = put_sync_state(s)) return ec;
        if (auto ec = tx.commit()) return ec;
        sync_ = s;
        return {};
    }

    /// Local changesets the server has not acknowledged, oldest first.
    std::vector<LocalChangeset<doc::Operation>> unsynced() const { return unsynced(static_cast<std::size_t>(-1)); }

    /// The oldest `max_changesets` unsynced changesets, reading no others.
    std::vector<LocalChangeset<doc::Operation>> unsynced(std::size_t max_changesets) const {
        auto& q = (*db_)("SELECT client_version, server_version, ops FROM history WHERE server_version = 0 "
                         "ORDER BY client_version LIMIT ?");
        q.bind(static_cast<std::int64_t>(std::min<std::size_t>(max_changesets, INT64_MAX)));
        return read_changesets(q);
    }

    /// Whether any local changeset is unacknowledged (an index lookup; asked on every poll).
    bool has_unsynced() const {
        auto& q = (*db_)("SELECT 1 FROM history WHERE server_version = 0 LIMIT 1");
        const bool any = q.step();
        q.reset();
        return any;
    }

    /// Acknowledged local changesets integrated above `server_version`, oldest first.
    std::vector<LocalChangeset<doc::Operation>> acknowledged_after(std::uint64_t server_version) const {
        auto& q = (*db_)("SELECT client_version, server_version, ops FROM history WHERE server_version > ? "
                         "ORDER BY client_version");
        q.bind(server_version);
        return read_changesets(q);
    }

    /// The last local client version written (0 if none).
    ClientVersion last_client_version() const noexcept { return next_version_ - 1; }

    /// The live state through lookups (what recovery rules read as the before-state).
    sqlite::StateView live_view() const noexcept { return sqlite::StateView(*db_, sqlite::Tables::live); }

    /// Objects in the live state.
    std::size_t object_count() const {
        auto& q = (*db_)("SELECT count(*) FROM objects");
        std::size_t n = 0;
        if (q.step()) n = static_cast<std::size_t>(q.int64(0));
        q.reset();
        return n;
    }

    /// Records that the server integrated this client's changesets up to `upto`. An
    /// acknowledgement of a version never written is `impossible_position` and changes nothing.
    std::error_code acknowledge(ClientVersion upto, std::span<const std::pair<ClientVersion, std::uint64_t>> integrated) {
        if (upto > last_client_version()) return errc::impossible_position;
        for (const auto& [cv, sv] : integrated)
            if (cv > upto || sv == 0) return errc::impossible_position;
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        for (const auto& [cv, sv] : integrated) {
            auto& u = (*db_)("UPDATE history SET server_version = ? WHERE client_version = ? AND server_version = 0");
            u.bind(sv).bind(cv);
            if (auto ec = u.run()) return ec;
        }
        SyncState s = sync_;
        s.upload_acked = std::max(s.upload_acked, upto);
        if (auto ec = put_sync_state(s)) return ec;
        if (auto ec = tx.commit()) return ec;
        sync_ = std::move(s);
        return {};
    }

    /// Integrates server changesets (in server order, directly after the download cursor) under
    /// the local changes - which are rewound, then replayed on top - and advances the cursor, in
    /// one transaction. Malformed input changes nothing.
    std::error_code integrate(std::span<const RemoteChangeset<doc::Operation>> entries) {
        if (entries.empty()) return {};
        auto pending = pending_entries();
        if (!pending) return pending.error();
        std::uint64_t last = sync_.download.version;
        std::size_t own = 0;
        for (const auto& e : entries) {
            if (e.server_version <= last) return errc::impossible_position;
            last = e.server_version;
            if (mine(e)) {
                if (own >= pending->size() || (*pending)[own].client_version != e.client_version)
                    return errc::impossible_position;
                ++own;
            }
        }
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        sqlite::TouchedObjects touched(*db_);
        for (auto it = pending->rbegin(); it != pending->rend(); ++it) touched.revert(it->undo);
        SyncState s = sync_;
        std::size_t next_own = 0;
        for (const auto& e : entries) {
            if (mine(e)) {
                auto& p = (*pending)[next_own++];
                p.in_base = true;
                p.server_version = e.server_version;
                s.upload_acked = std::max(s.upload_acked, p.client_version);
            }
            for (const auto& op : e.ops) touched.apply(op);
        }
        for (std::size_t i = next_own; i < pending->size(); ++i) {
            auto& p = (*pending)[i];
            p.undo.clear();
            for (const auto& op : p.ops) touched.apply(op, &p.undo);
        }
        if (auto ec = touched.flush()) return ec;
        for (const auto& p : *pending) {
            auto& u = (*db_)("UPDATE history SET server_version = ?, in_base = ?, undo = ? WHERE client_version = ?");
            u.bind(p.server_version).bind(std::int64_t{p.in_base}).bind_blob(encode_ops(p.undo)).bind(p.client_version);
            if (auto ec = u.run()) return ec;
        }
        s.download = entries.back().position();
        if (auto ec = put_sync_state(s)) return ec;
        if (auto ec = trim()) return ec;
        if (auto ec = tx.commit()) return ec;
        sync_ = std::move(s);
        return {};
    }

    /// The whole current state, read into memory (backups of other stores, tests). A reset on
    /// this store never calls it unless a policy asks for an in-memory before-state.
    doc::State export_snapshot() const { return read_state(sqlite::Tables::live); }

    /// The one atomic commit of a reset from a state in memory (the Store concept's commit; the
    /// session commits from staging instead): the live state becomes `c.state`, the history is
    /// applied on top, the sync state replaced. Returns the old state.
    Result<doc::State> commit_reset(ResetCommit<doc::State, doc::Operation>&& c) {
        doc::State before = export_snapshot();
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        if (auto ec = db_->exec("DELETE FROM objects; DELETE FROM collections;")) return ec;
        if (auto ec = insert_state(c.state, sqlite::Tables::live)) return ec;
        auto next = install_history(c.history, sqlite::Tables::live);
        if (!next) return next.error();
        if (auto ec = finish_commit(c.sync_state, c.quarantine, *next)) return ec;
        if (auto ec = tx.commit()) return ec;
        adopt(std::move(c.sync_state), *next);
        return before;
    }

    // ------------------------------------------------------------------ staging a fresh copy

    /// The fresh copy being staged, if any (its header, as `stage_begin` recorded it).
    std::optional<FreshCopyHeader> staged_copy() const { return staged_header_; }
    /// Bytes of it staged so far.
    std::uint64_t staged_bytes() const noexcept { return staged_bytes_; }

    /// Forgets any staged copy and starts staging the one `header` describes. One transaction.
    std::error_code stage_begin(const FreshCopyHeader& header) {
        decoder_.reset();
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        if (auto ec = clear_staging()) return ec;
        std::string bytes;
        ByteWriter w(bytes);
        detail::encode(w, header);
        auto& q = (*db_)("INSERT INTO staged_copy(id, header, bytes, decoded) VALUES (1, ?, 0, 0)");
        q.bind_blob(bytes);
        if (auto ec = q.run()) return ec;
        if (auto ec = tx.commit()) return ec;
        staged_header_ = header;
        staged_bytes_ = 0;
        staged_decoded_ = false;
        return {};
    }

    /// Appends the next bytes of the staged copy, durably (one transaction).
    std::error_code stage_append(std::string_view bytes) {
        if (!staged_header_) return errc::invalid_argument;
        if (bytes.empty()) return {};
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        auto& q = (*db_)("INSERT INTO staged_chunks(bytes) VALUES (?)");
        q.bind_blob(bytes);
        if (auto ec = q.run()) return ec;
        auto& u = (*db_)("UPDATE staged_copy SET bytes = bytes + ?");
        u.bind(static_cast<std::int64_t>(bytes.size()));
        if (auto ec = u.run()) return ec;
        if (auto ec = tx.commit()) return ec;
        staged_bytes_ += bytes.size();
        return {};
    }

    /// Decodes up to `max_objects` more objects of the staged copy into the staged tables (one
    /// transaction per call; only one chunk and one slice in memory). True once the whole copy is
    /// decoded and checked; `fresh_copy_corrupt` / `fresh_copy_truncated` when it is damaged.
    /// After a restart, decoding starts over from the staged bytes, unless it had finished.
    Result<bool> stage_decode(std::size_t max_objects) {
        if (!staged_header_) return errc::invalid_argument;
        if (staged_decoded_) return true;
        if (!decoder_) {
            sqlite::Transaction tx(*db_);
            if (auto ec = tx.begin_error()) return ec;
            if (auto ec = db_->exec("DELETE FROM staged_objects; DELETE FROM staged_collections;")) return ec;
            if (auto ec = tx.commit()) return ec;
            decoder_.emplace();
        }
        auto& d = *decoder_;
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        const std::size_t objects_before = d.decoder.objects();
        bool finished = false;
        for (;;) {
            const std::size_t spent = d.decoder.objects() - objects_before;
            if (spent >= max_objects) break;
            auto step = d.decoder.step(max_objects - spent);
            if (!step) return fail_decode(step.error());
            if (*step) {
                finished = true;
                break;
            }
            if (d.decoder.objects() - objects_before >= max_objects) break;
            // The decoder needs the next staged bytes.
            auto& q = (*db_)("SELECT seq, bytes FROM staged_chunks WHERE seq > ? ORDER BY seq LIMIT 1");
            q.bind(d.next_chunk);
            if (!q.step()) {
                auto ec = q.take_error();
                q.reset();
                if (ec) return ec;
                auto done = d.decoder.finish();
                if (!done) return fail_decode(done.error());
                if (!*done) return fail_decode(make_error_code(errc::fresh_copy_truncated));
                finished = true;
                break;
            }
            d.next_chunk = q.int64(0);
            std::string piece(q.blob(1));
            q.reset();
            d.decoder.feed(std::move(piece));
        }
        if (auto ec = drain_decoded(d)) return fail_decode(ec);
        if (finished) {
            auto& u = (*db_)("UPDATE staged_copy SET decoded = 1");
            if (auto ec = u.run()) return ec;
        }
        if (auto ec = tx.commit()) return ec;
        if (finished) {
            staged_decoded_ = true;
            decoder_.reset();
        }
        return finished;
    }

    /// Objects of the staged copy decoded so far.
    std::size_t staged_objects() const {
        auto& q = (*db_)("SELECT count(*) FROM staged_objects");
        std::size_t n = 0;
        if (q.step()) n = static_cast<std::size_t>(q.int64(0));
        q.reset();
        return n;
    }

    /// The decoded staged copy through lookups (what recovery rules read as the fresh state).
    sqlite::StateView staged_view() const noexcept { return sqlite::StateView(*db_, sqlite::Tables::staged); }

    /// The staged copy read into memory (tests; a dry run against it).
    doc::State staged_state() const { return read_state(sqlite::Tables::staged); }

    /// Forgets the staged copy (bytes and decoded tables). One transaction.
    std::error_code stage_discard() {
        decoder_.reset();
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        if (auto ec = clear_staging()) return ec;
        if (auto ec = tx.commit()) return ec;
        staged_header_.reset();
        staged_bytes_ = 0;
        staged_decoded_ = false;
        return {};
    }

    /// The one atomic commit of a reset from the decoded staged copy, in one transaction:
    /// `replace` renames the staged tables into the live ones (no row is copied); `diff`
    /// deletes, updates and inserts only the rows that differ, in SQL, and says how many. Then
    /// the history is installed on top, the quarantine extended, the sync state replaced and the
    /// staging emptied. `invalid_argument` when no decoded copy is staged.
    Result<DiffStats> commit_staged_reset(StagedResetCommit<doc::Operation>&& c, CommitKind kind) {
        if (!staged_header_ || !staged_decoded_) return errc::invalid_argument;
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        // The recovered history goes onto the staged copy first (as in memory), so a diff writes
        // an object the history changes once, and only if it differs from the live one.
        auto next = install_history(c.history, sqlite::Tables::staged);
        if (!next) return next.error();
        DiffStats stats;
        if (kind == CommitKind::replace) {
            if (auto ec = db_->exec("DROP TABLE objects; DROP TABLE collections;"
                                    "ALTER TABLE staged_objects RENAME TO objects;"
                                    "ALTER TABLE staged_collections RENAME TO collections;"))
                return ec;
            if (auto ec = db_->exec(sqlite::staged_tables_sql)) return ec;
        } else {
            auto diffed = diff_staged_into_live();
            if (!diffed) return diffed.error();
            stats = *diffed;
        }
        if (auto ec = finish_commit(c.sync_state, c.quarantine, *next)) return ec;
        if (auto ec = clear_staging()) return ec;
        if (auto ec = tx.commit()) return ec;
        adopt(std::move(c.sync_state), *next);
        staged_header_.reset();
        staged_bytes_ = 0;
        staged_decoded_ = false;
        decoder_.reset();
        return stats;
    }

    // ------------------------------------------------------------------ quarantine

    /// Local operations that resets could not recover, oldest first (an entry whose operation
    /// does not decode - a damaged file - is left out; `take_quarantined` and
    /// `retry_quarantined` refuse such a quarantine instead).
    std::vector<QuarantinedOperation<doc::Operation>> quarantined() const {
        std::vector<QuarantinedOperation<doc::Operation>> out;
        read_quarantine(out);
        return out;
    }

    /// Empties the quarantine and returns what it held (one transaction). An entry that does not
    /// decode is `store_corrupt`, and nothing is removed: never delete what could not be read.
    Result<std::vector<QuarantinedOperation<doc::Operation>>> take_quarantined() {
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        std::vector<QuarantinedOperation<doc::Operation>> out;
        if (auto ec = read_quarantine(out)) return ec;
        if (auto ec = db_->exec("DELETE FROM quarantine")) return ec;
        if (auto ec = tx.commit()) return ec;
        return out;
    }

    /// Re-applies every quarantined operation as one new local write (it then syncs as usual,
    /// under normal sync rules) and empties the quarantine, in one transaction: if the write
    /// fails, the quarantine is kept as it was. Returns the new client version (0 when the
    /// quarantine was empty). As `MemoryStore::retry_quarantined`; an entry that does not decode
    /// is `store_corrupt`, and nothing is written or removed.
    Result<ClientVersion> retry_quarantined() {
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        std::vector<QuarantinedOperation<doc::Operation>> ops;
        if (auto ec = read_quarantine(ops)) return ec;
        auto apply_all = [&](doc::Writer& w) {
            for (const auto& q : ops) w.apply(q.operation);
        };
        auto r = record_write(apply_all);
        if (!r) return r.error();
        if (auto ec = db_->exec("DELETE FROM quarantine")) return ec;
        if (auto ec = tx.commit()) return ec;
        adopt_counters(*r);
        return r->version;
    }

    // ------------------------------------------------------------------ backups

    /// Writes a backup of the whole store into a new file in `directory` with SQLite's online
    /// backup API (a consistent copy, page by page, never the state in memory): temporary file,
    /// synced, then linked to a unique name (never overwriting another), owner-only, in a private
    /// directory. `SqliteStore::restore_backup(path)` reads it back.
    Result<BackupMade> back_up(const std::string& directory, const ResetTrigger& trigger, const FileHook* hook) const {
        if (directory.empty()) return errc::no_backup_directory;
        if (auto ec = detail::prepare_private_directory(directory, hook)) return ec;
        const std::string stem = "resync-backup-" + std::to_string(sync_.client_ident);
        std::string tmp;
        // The temporary name carries this process's id: a crash's leftover is removed when the
        // directory is next prepared (detail::remove_stale_temporaries).
        const std::string temp_stem =
            stem + std::string(detail::temp_marker) + std::to_string(static_cast<long>(::getpid())) + ".";
        auto fd = detail::create_unique_file(directory, temp_stem, ".part", tmp, hook);
        if (!fd) return errc::backup_io;
        ::close(*fd);
        auto give_up = [&](std::error_code) -> Result<BackupMade> {
            ::unlink(tmp.c_str());
            ::unlink((tmp + "-journal").c_str());
            return errc::backup_io;
        };
        ClientVersion covers = 0;
        {
            sqlite::Database out;
            if (auto ec = out.open(tmp, SQLITE_OPEN_READWRITE)) return give_up(ec);
            if (auto ec = detail::ask(hook, FileStep::write, tmp)) return give_up(ec);
            sqlite3_backup* b = sqlite3_backup_init(out.handle(), "main", db_->handle(), "main");
            if (!b) return give_up(errc::backup_io);
            const int rc = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            if (rc != SQLITE_DONE) return give_up(errc::backup_io);
            // What the backup is: when and why it was taken; the copy's sync state without the
            // pending-reset record (restoring it must not resume this reset); and, written last,
            // a checksum of everything else, so a damaged value is found when it is read back.
            if (auto ec = out.exec("PRAGMA synchronous=FULL; PRAGMA journal_mode=DELETE;"
                                   "CREATE TABLE backup_info(id INTEGER PRIMARY KEY CHECK (id = 1), "
                                   "created_at_ms INTEGER NOT NULL, trigger BLOB NOT NULL, "
                                   "content_crc INTEGER NOT NULL)"))
                return give_up(ec);
            SyncState s = sync_;
            s.pending_reset.reset();
            std::string sync;
            ByteWriter sw(sync);
            detail::encode(sw, s);
            auto& u = out("UPDATE store SET sync = ?");
            u.bind_blob(sync);
            if (auto ec = u.run()) return give_up(ec);
            std::string trig;
            ByteWriter w(trig);
            detail::encode(w, trigger);
            const std::int64_t created = now_ms();
            auto crc = backup_crc(out, created, trig);
            if (!crc) return give_up(crc.error());
            auto& i = out("INSERT INTO backup_info(id, created_at_ms, trigger, content_crc) VALUES (1, ?, ?, ?)");
            i.bind(created).bind_blob(trig).bind(static_cast<std::int64_t>(*crc));
            if (auto ec = i.run()) return give_up(ec);
            auto& c = out("SELECT max(client_version) FROM history WHERE server_version = 0");
            if (c.step() && !c.is_null(0)) covers = c.uint64(0);
            c.reset();
            if (auto ec = detail::ask(hook, FileStep::sync, tmp)) return give_up(ec);
        }
        // Every page is on disk (synchronous=FULL commits fsync the file); make sure of it anyway.
        const int rfd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
        if (rfd < 0 || ::fsync(rfd) != 0) {
            if (rfd >= 0) ::close(rfd);
            return give_up(errc::backup_io);
        }
        ::close(rfd);
        for (int attempt = 0; attempt < 100; ++attempt) {
            // The unique suffix of the temporary name names the backup (never another's name).
            std::string target = detail::join_path(directory, stem);
            target += tmp.substr(tmp.size() - std::string_view("-XXXXXX.part").size(), 7);
            if (attempt) {
                target += '-';
                target += std::to_string(attempt);
            }
            target += std::string(backup_extension);
            if (auto ec = detail::ask(hook, FileStep::publish, target)) return give_up(ec);
            if (::link(tmp.c_str(), target.c_str()) == 0) {
                ::unlink(tmp.c_str());
                if (auto ec = detail::fsync_directory(directory, hook)) {
                    ::unlink(target.c_str());
                    return errc::backup_io;
                }
                return BackupMade{std::move(target), true, covers};
            }
            if (errno != EEXIST) return give_up(errc::backup_io);
        }
        return give_up(errc::backup_io);
    }

    /// The extension of this store's backup files.
    static constexpr std::string_view backup_extension = ".rsdb";

    /// Checks that `path` is a whole backup written by `back_up` (the session asks before a manual
    /// reset relies on it): `backup_missing`, `backup_truncated` (cut short), `backup_corrupt`
    /// (damaged: its structure, or any value, as its checksum says), `backup_version_unsupported`.
    static std::error_code verify_backup(const std::string& path) {
        auto b = open_backup(path);
        return b ? std::error_code{} : b.error();
    }

    /// Reads a backup written by `back_up` back: the state, the unsynced changes, the sync state
    /// and the trigger. Errors as `verify_backup`'s.
    static Result<BackupContents<doc::Model>> restore_backup(const std::string& path) {
        auto b = open_backup(path);
        if (!b) return b.error();
        return std::move(*b);
    }

private:
    SqliteStore() = default;

    struct Pending {
        ClientVersion client_version = 0;
        std::uint64_t server_version = 0;
        bool in_base = false;
        std::vector<doc::Operation> ops;
        std::vector<doc::Operation> undo;
    };

    struct Decoder {
        // A constructor of its own, not a default member initializer: clang asks whether a
        // nested class is default-constructible before the enclosing class is complete, and
        // answers no when the nested class has member initializers.
        Decoder() : next_chunk(0) {}
        doc::SnapshotDecoder decoder;
        std::int64_t next_chunk; ///< the last chunk fed (its seq)
    };

    // Reads the quarantine, oldest first, into `out`; the entries whose operation does not
    // decode are left out, and make it `store_corrupt`.
    std::error_code read_quarantine(std::vector<QuarantinedOperation<doc::Operation>>& out) const {
        auto& q = (*db_)("SELECT client_version, idx, op, reason, cause, at_ms FROM quarantine ORDER BY seq");
        bool damaged = false;
        while (q.step()) {
            QuarantinedOperation<doc::Operation> e;
            e.client_version = q.uint64(0);
            e.index = static_cast<std::size_t>(q.int64(1));
            ByteReader r(q.blob(2));
            auto op = doc::decode_operation(r);
            if (!op || !r.at_end()) {
                damaged = true;
                continue;
            }
            e.operation = std::move(*op);
            e.reason = std::string(q.blob(3));
            e.cause = static_cast<ResetReason>(q.int64(4));
            e.at_ms = q.int64(5);
            out.push_back(std::move(e));
        }
        auto ec = q.take_error();
        q.reset();
        if (ec) return ec;
        return damaged ? make_error_code(errc::store_corrupt) : std::error_code{};
    }

    /// What a local write recorded: its client version (0: it wrote nothing) and the next list
    /// element sequence number.
    struct Recorded {
        ClientVersion version = 0;
        std::uint64_t next_seq = 0;
    };

    // Runs `f` as a local write inside the caller's transaction (which commits it, then adopts
    // the counters): applies the objects it touched, records the changeset, bumps the counters.
    template <class F>
    Result<Recorded> record_write(F& f) {
        sqlite::TouchedObjects touched(*db_);
        std::vector<doc::Operation> ops;
        std::vector<doc::Operation> undo;
        std::uint64_t seq = next_element_seq_;
        doc::Writer w(touched.state(), ops, undo, replica_id_, &seq, &touched);
        if (auto ec = run(f, w)) return ec;
        if (ops.empty()) return Recorded{0, next_element_seq_};
        const ClientVersion v = next_version_;
        if (auto ec = touched.flush()) return ec;
        if (auto ec = insert_history(v, 0, false, ops, undo)) return ec;
        if (auto ec = write_counters(v + 1, seq)) return ec;
        return Recorded{v, seq};
    }

    // After the commit of a write that recorded something.
    void adopt_counters(const Recorded& r) noexcept {
        if (r.version == 0) return;
        next_version_ = r.version + 1;
        next_element_seq_ = r.next_seq;
    }

    template <class F>
    static std::error_code run(F& f, doc::Writer& w) {
        if constexpr (std::is_convertible_v<std::invoke_result_t<F&, doc::Writer&>, std::error_code>) {
            return f(w);
        } else {
            f(w);
            return {};
        }
    }

    bool mine(const RemoteChangeset<doc::Operation>& e) const {
        return e.origin == sync_.client_ident && sync_.client_ident != 0;
    }

    static std::int64_t now_ms() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    static std::uint64_t random_replica_id() {
        std::random_device device;
        return (std::uint64_t{device()} << 32) ^ device();
    }

    static std::string encode_ops(const std::vector<doc::Operation>& ops) {
        std::string out;
        ByteWriter w(out);
        doc::encode(w, ops);
        return out;
    }
    static std::optional<std::vector<doc::Operation>> decode_ops(std::string_view bytes) {
        ByteReader r(bytes);
        auto ops = doc::decode_changeset(r);
        if (!ops || !r.at_end()) return std::nullopt;
        return ops;
    }

    std::error_code create_schema(std::uint64_t replica) {
        sqlite::Transaction tx(*db_);
        if (auto ec = tx.begin_error()) return ec;
        if (auto ec = db_->exec(sqlite::schema_sql)) return ec;
        std::string sync;
        ByteWriter w(sync);
        detail::encode(w, SyncState{});
        auto& q = (*db_)("INSERT INTO store(id, sync, next_version, replica_id, next_element_seq) VALUES (1, ?, 1, ?, 1)");
        q.bind_blob(sync).bind(replica);
        if (auto ec = q.run()) return ec;
        // Pragmas inside the transaction: the file becomes a resync store atomically.
        if (auto ec = db_->exec("PRAGMA application_id = 1381194062")) return ec; // "RSYN"
        if (auto ec = db_->exec("PRAGMA user_version = 1")) return ec;
        return tx.commit();
    }

    // Reads what the store keeps in memory: the sync state, the counters, the staged copy's header.
    std::error_code load() {
        auto& q = (*db_)("SELECT sync, next_version, replica_id, next_element_seq FROM store WHERE id = 1");
        if (!q.step()) {
            auto ec = q.take_error();
            q.reset();
            return ec ? ec : make_error_code(errc::store_corrupt);
        }
        ByteReader r(q.blob(0));
        sync_ = detail::decode_sync_state(r);
        const bool bad = r.failed() || !r.at_end();
        next_version_ = q.uint64(1);
        replica_id_ = q.uint64(2);
        next_element_seq_ = q.uint64(3);
        q.reset();
        if (bad) return errc::store_corrupt;
        auto& s = (*db_)("SELECT header, bytes, decoded FROM staged_copy WHERE id = 1");
        if (s.step()) {
            ByteReader h(s.blob(0));
            auto header = detail::decode_copy_header(h);
            if (!h.failed()) {
                staged_header_ = header;
                staged_bytes_ = s.uint64(1);
                staged_decoded_ = s.int64(2) != 0;
            }
        }
        auto ec = s.take_error();
        s.reset();
        return ec;
    }

    std::error_code put_sync_state(const SyncState& s) {
        std::string bytes;
        ByteWriter w(bytes);
        detail::encode(w, s);
        auto& q = (*db_)("UPDATE store SET sync = ? WHERE id = 1");
        q.bind_blob(bytes);
        return q.run();
    }

    std::error_code write_counters(ClientVersion next_version, std::uint64_t next_seq) {
        auto& q = (*db_)("UPDATE store SET next_version = ?, next_element_seq = ? WHERE id = 1");
        q.bind(next_version).bind(next_seq);
        return q.run();
    }

    std::error_code insert_history(ClientVersion v, std::uint64_t server_version, bool in_base,
                                   const std::vector<doc::Operation>& ops, const std::vector<doc::Operation>& undo) {
        auto& q = (*db_)("INSERT INTO history(client_version, server_version, in_base, ops, undo) VALUES (?, ?, ?, ?, ?)");
        q.bind(v).bind(server_version).bind(std::int64_t{in_base}).bind_blob(encode_ops(ops)).bind_blob(encode_ops(undo));
        return q.run();
    }

    std::vector<LocalChangeset<doc::Operation>> read_changesets(sqlite::Statement& q) const {
        std::vector<LocalChangeset<doc::Operation>> out;
        while (q.step()) {
            LocalChangeset<doc::Operation> cs;
            cs.client_version = q.uint64(0);
            cs.server_version = q.uint64(1);
            if (auto ops = decode_ops(q.blob(2))) cs.ops = std::move(*ops);
            out.push_back(std::move(cs));
        }
        q.reset();
        return out;
    }

    // The local changesets the server has not sent back yet, with their undo logs, oldest first.
    Result<std::vector<Pending>> pending_entries() const {
        std::vector<Pending> out;
        auto& q = (*db_)("SELECT client_version, server_version, ops, undo FROM history WHERE in_base = 0 "
                         "ORDER BY client_version");
        while (q.step()) {
            Pending p;
            p.client_version = q.uint64(0);
            p.server_version = q.uint64(1);
            auto ops = decode_ops(q.blob(2));
            auto undo = decode_ops(q.blob(3));
            if (!ops || !undo) {
                q.reset();
                return errc::store_corrupt;
            }
            p.ops = std::move(*ops);
            p.undo = std::move(*undo);
            out.push_back(std::move(p));
        }
        auto ec = q.take_error();
        q.reset();
        if (ec) return ec;
        return out;
    }

    // Drops the oldest changesets the server sent back beyond the retention window.
    std::error_code trim() {
        auto& q = (*db_)("DELETE FROM history WHERE client_version IN (SELECT client_version FROM history "
                         "WHERE in_base = 1 ORDER BY client_version DESC LIMIT -1 OFFSET ?)");
        q.bind(static_cast<std::int64_t>(std::min<std::size_t>(retention_, INT64_MAX)));
        return q.run();
    }

    doc::State read_state(sqlite::Tables tables) const {
        doc::State s;
        auto& c = (*db_)(tables == sqlite::Tables::live ? "SELECT name FROM collections"
                                                        : "SELECT name FROM staged_collections");
        while (c.step()) s.collections.try_emplace(std::string(c.blob(0)));
        c.reset();
        auto& q = (*db_)(tables == sqlite::Tables::live ? "SELECT collection, key, fields FROM objects"
                                                        : "SELECT collection, key, fields FROM staged_objects");
        while (q.step()) {
            auto object = sqlite::decode_fields(q.blob(2));
            if (!object) continue;
            s.collections[std::string(q.blob(0))].emplace(std::string(q.blob(1)), std::move(*object));
        }
        q.reset();
        return s;
    }

    std::error_code insert_state(const doc::State& state, sqlite::Tables tables) {
        for (const auto& [name, objects] : state.collections) {
            auto& c = (*db_)(tables == sqlite::Tables::live ? "INSERT OR IGNORE INTO collections(name) VALUES (?)"
                                                            : "INSERT OR IGNORE INTO staged_collections(name) VALUES (?)");
            c.bind_blob(name);
            if (auto ec = c.run()) return ec;
            for (const auto& [key, object] : objects) {
                auto& o = (*db_)(tables == sqlite::Tables::live
                                     ? "INSERT INTO objects(collection, key, fields) VALUES (?, ?, ?)"
                                     : "INSERT INTO staged_objects(collection, key, fields) VALUES (?, ?, ?)");
                o.bind_blob(name).bind_blob(key).bind_blob(sqlite::encode_fields(object));
                if (auto ec = o.run()) return ec;
            }
        }
        return {};
    }

    // Writes what the decoder decoded since the last call into the staged tables. A key decoded
    // twice violates the primary key: the copy is damaged.
    std::error_code drain_decoded(Decoder& d) {
        std::error_code failed;
        d.decoder.drain(
            [&](std::string_view name) {
                if (failed) return;
                auto& c = (*db_)("INSERT OR IGNORE INTO staged_collections(name) VALUES (?)");
                c.bind_blob(name);
                failed = c.run();
            },
            [&](std::string_view collection, std::string_view key, doc::Object&& object) {
                if (failed) return;
                auto& o = (*db_)("INSERT INTO staged_objects(collection, key, fields) VALUES (?, ?, ?)");
                o.bind_blob(collection).bind_blob(key).bind_blob(sqlite::encode_fields(object));
                if (auto ec = o.run()) failed = o.raw_error() == SQLITE_CONSTRAINT_PRIMARYKEY
                                                    ? make_error_code(errc::fresh_copy_corrupt)
                                                    : ec;
            });
        return failed;
    }

    // A damaged copy: the decoder is dropped, so the next attempt decodes from the start.
    std::error_code fail_decode(std::error_code ec) {
        decoder_.reset();
        return ec;
    }

    std::error_code clear_staging() {
        return db_->exec("DELETE FROM staged_copy; DELETE FROM staged_chunks; DELETE FROM staged_objects;"
                         "DELETE FROM staged_collections;");
    }

    // Makes the live tables equal to the staged ones, writing only the rows that differ (erased,
    // then changed, then created). Collections the fresh copy lacks stay, emptied (as in memory).
    Result<DiffStats> diff_staged_into_live() {
        DiffStats stats;
        if (auto ec = db_->exec("INSERT OR IGNORE INTO collections(name) SELECT name FROM staged_collections"))
            return ec;
        if (auto ec = db_->exec("DELETE FROM objects WHERE NOT EXISTS (SELECT 1 FROM staged_objects s "
                                "WHERE s.collection = objects.collection AND s.key = objects.key)"))
            return ec;
        stats.erased = static_cast<std::size_t>(db_->changes());
        if (auto ec = db_->exec("UPDATE objects SET fields = s.fields FROM staged_objects s "
                                "WHERE s.collection = objects.collection AND s.key = objects.key "
                                "AND s.fields <> objects.fields"))
            return ec;
        stats.updated = static_cast<std::size_t>(db_->changes());
        if (auto ec = db_->exec("INSERT INTO objects(collection, key, fields) SELECT collection, key, fields "
                                "FROM staged_objects s WHERE NOT EXISTS (SELECT 1 FROM objects o "
                                "WHERE o.collection = s.collection AND o.key = s.key)"))
            return ec;
        stats.created = static_cast<std::size_t>(db_->changes());
        auto& q = (*db_)("SELECT count(*) FROM staged_objects");
        std::size_t staged = 0;
        if (q.step()) staged = static_cast<std::size_t>(q.int64(0));
        q.reset();
        stats.unchanged = staged - stats.created - stats.updated;
        return stats;
    }

    // Replaces the history with `history`, applied onto `onto` (the state about to go live) as
    // unsynced local changes. Returns the next client version.
    Result<ClientVersion> install_history(std::vector<LocalChangeset<doc::Operation>>& history, sqlite::Tables onto) {
        if (auto ec = db_->exec("DELETE FROM history")) return ec;
        sqlite::TouchedObjects touched(*db_, onto);
        ClientVersion next = 1;
        for (auto& cs : history) {
            std::vector<doc::Operation> undo;
            for (const auto& op : cs.ops) touched.apply(op, &undo);
            if (auto ec = insert_history(cs.client_version, 0, false, cs.ops, undo)) return ec;
            next = std::max(next, cs.client_version + 1);
        }
        if (auto ec = touched.flush()) return ec;
        return next;
    }

    std::error_code finish_commit(const SyncState& sync, const std::vector<QuarantinedOperation<doc::Operation>>& quarantine,
                                  ClientVersion next_version) {
        for (const auto& e : quarantine) {
            std::string op;
            ByteWriter w(op);
            doc::encode(w, e.operation);
            auto& q = (*db_)("INSERT INTO quarantine(client_version, idx, op, reason, cause, at_ms) VALUES (?, ?, ?, ?, ?, ?)");
            q.bind(e.client_version)
                .bind(static_cast<std::int64_t>(e.index))
                .bind_blob(op)
                .bind_blob(e.reason)
                .bind(static_cast<std::int64_t>(e.cause))
                .bind(e.at_ms);
            if (auto ec = q.run()) return ec;
        }
        if (auto ec = put_sync_state(sync)) return ec;
        auto& u = (*db_)("UPDATE store SET next_version = ? WHERE id = 1");
        u.bind(next_version);
        return u.run();
    }

    void adopt(SyncState&& sync, ClientVersion next_version) {
        sync_ = std::move(sync);
        next_version_ = next_version;
    }

    // The checksum a backup file keeps: every table but backup_info, then when and why it was taken.
    static Result<std::uint32_t> backup_crc(sqlite::Database& db, std::int64_t created_at_ms, std::string_view trigger) {
        auto crc = sqlite::content_crc(db, "backup_info");
        if (!crc) return crc.error();
        std::string info;
        ByteWriter w(info);
        w.u64(static_cast<std::uint64_t>(created_at_ms));
        w.str(trigger);
        return detail::crc32(info, *crc);
    }

    // Opens a backup file read-only and reads it whole.
    static Result<BackupContents<doc::Model>> open_backup(const std::string& path) {
        if (::access(path.c_str(), F_OK) != 0) return errc::backup_missing;
        // SQLite reads a file cut short as a damaged one: tell the two apart first.
        if (sqlite::cut_short(path)) return errc::backup_truncated;
        SqliteStore s;
        s.path_ = path;
        s.db_ = std::make_unique<sqlite::Database>();
        if (auto ec = s.db_->open(path, SQLITE_OPEN_READONLY)) return errc::backup_corrupt;
        auto kind = sqlite::identify(*s.db_);
        if (!kind) return kind.error() == errc::store_version_unsupported ? errc::backup_version_unsupported
                                                                            : errc::backup_corrupt;
        if (*kind != sqlite::FileKind::resync || sqlite::quick_check(*s.db_)) return errc::backup_corrupt;
        if (s.load()) return errc::backup_corrupt;
        BackupContents<doc::Model> b;
        auto& q = (*s.db_)("SELECT created_at_ms, trigger, content_crc FROM backup_info WHERE id = 1");
        if (!q.step()) {
            q.reset();
            return errc::backup_corrupt;
        }
        b.created_at_ms = q.int64(0);
        const std::string trig(q.blob(1));
        const auto kept_crc = static_cast<std::uint32_t>(q.int64(2));
        q.reset();
        // Every value as it was written (quick_check above saw only the structure).
        auto crc = backup_crc(*s.db_, b.created_at_ms, trig);
        if (!crc || *crc != kept_crc) return errc::backup_corrupt;
        ByteReader r(trig);
        b.trigger = detail::decode_trigger(r);
        if (r.failed()) return errc::backup_corrupt;
        b.sync_state = s.sync_;
        b.state = s.export_snapshot();
        b.unsynced = s.unsynced();
        return b;
    }

    std::unique_ptr<sqlite::Database> db_;
    std::string path_;
    SyncState sync_;
    std::uint64_t replica_id_ = 0;
    std::uint64_t next_element_seq_ = 1;
    ClientVersion next_version_ = 1;
    std::size_t retention_ = 10000;
    std::optional<FreshCopyHeader> staged_header_;
    std::uint64_t staged_bytes_ = 0;
    bool staged_decoded_ = false;
    std::optional<Decoder> decoder_;
};

static_assert(Store<SqliteStore>);
static_assert(store_requirements::stages_fresh_copies<SqliteStore>);
static_assert(store_requirements::backs_itself_up<SqliteStore>);

} // namespace resync
