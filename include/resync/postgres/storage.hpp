#pragma once
/// \file
/// `postgres::Storage<M>`: a `server::Storage` in PostgreSQL tables (resync/postgres/schema.hpp),
/// through libpq, for the document model. With it, `server::Engine` is a real server: its
/// history, epoch, schema version, client registry and current state live in the database, so
/// the database's own tools - `pg_dump`, `pg_restore`, replication - back it up and restore it.
///
/// - An upload is one transaction: every changeset, its history row, the objects it touches,
///   the registry; a failure anywhere rolls all of it back. Write transactions take the row of
///   `resync.meta` first, so server versions are handed out in one order by any number of
///   server processes.
/// - An upload reads and writes only the objects it touches (one row per object).
/// - A fresh copy is read in one REPEATABLE READ snapshot, its objects streamed from a cursor in
///   batches, and encoded as the model's snapshot.
/// - Every statement is a constant text with binary parameters (resync/postgres/connection.hpp).
/// - The connection string is used to connect and nowhere else: it is never logged, and errors
///   carry libpq's words, which never include a password.

#include <resync/bytes.hpp>
#include <resync/concepts/model.hpp>
#include <resync/detail/frame.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/postgres/connection.hpp>
#include <resync/postgres/schema.hpp>
#include <resync/result.hpp>
#include <resync/server/storage.hpp>
#include <resync/wire/codec.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace resync::postgres {

/// Tunables of a `postgres::Storage`.
struct StorageOptions {
    /// A libpq connection string ("host=127.0.0.1 port=5432 dbname=sync user=sync") or URI;
    /// what it leaves out - the password above all - libpq takes from the environment
    /// (PGPASSWORD, PGUSER, ...) or ~/.pgpass. Used to connect, never logged.
    std::string conninfo;
    /// After a failed connection attempt, requests fail at once (answered "retry") for this
    /// long, doubled per failure up to `reconnect_max`, before the next attempt.
    std::chrono::milliseconds reconnect_initial{100};
    std::chrono::milliseconds reconnect_max{5000};
    /// Seeds epochs, salts and idents (0: a random seed).
    std::uint64_t seed = 0;
    /// Where the storage reports its connection going down and coming back (none when empty).
    std::function<void(std::string_view)> log;
};

/// The server's state in PostgreSQL, for the model `M`, which must be the document model.
template <Model M>
class Storage {
    static_assert(std::is_same_v<M, doc::Model>,
                  "resync::postgres::Storage<M> stores the document model (resync::doc::Model) only: it keeps "
                  "doc::State objects as rows, so that an upload writes only the objects it touches and a fresh "
                  "copy streams from a snapshot. For another model, keep its state in a server::Storage of your "
                  "own (see resync/server/storage.hpp and docs/server.md)");

public:
    using model_type = M;
    using operation_type = typename M::operation_type;

    explicit Storage(StorageOptions options)
        : options_(std::move(options)), rng_(options_.seed ? options_.seed : std::random_device{}()),
          backoff_(options_.reconnect_initial) {}

    Storage(Storage&&) noexcept = default;
    Storage& operator=(Storage&&) noexcept = default;

    /// One transaction. After a failed statement every call returns an empty value and the
    /// transaction is rolled back.
    class Txn {
    public:
        Txn(Storage& s, bool writes) : s_(&s), writes_(writes) {}

        bool failed() const noexcept { return failed_; }

        server::Head head() {
            if (head_) return *head_;
            auto r = run(writes_ ? "resync_meta_lock" : "resync_meta",
                         writes_ ? "SELECT epoch, schema_version, latest_version, latest_salt, floor_version, floor_salt "
                                   "FROM resync.meta WHERE id = 1 FOR UPDATE"
                                 : "SELECT epoch, schema_version, latest_version, latest_salt, floor_version, floor_salt "
                                   "FROM resync.meta WHERE id = 1",
                         {});
            if (!r) return {};
            if (r->empty()) {
                fail({"", "the sync schema has no meta row (install it)"});
                return {};
            }
            head_ = server::Head{r->u64(0, 0), static_cast<SchemaVersion>(r->u64(0, 1)), {r->u64(0, 2), r->u64(0, 3)},
                                 {r->u64(0, 4), r->u64(0, 5)}};
            return *head_;
        }

        std::optional<std::uint64_t> salt_in_history(std::uint64_t version) {
            auto r = run("resync_salt", "SELECT salt FROM resync.history WHERE server_version = $1", Params{}.u64(version));
            if (!r || r->empty()) return std::nullopt;
            return r->u64(0, 0);
        }

        std::optional<server::ClientEntry> client(ClientIdent ident) {
            auto r = run("resync_client", "SELECT last_integrated, bound, reserved_for FROM resync.clients WHERE ident = $1",
                         Params{}.u64(ident));
            if (!r || r->empty()) return std::nullopt;
            server::ClientEntry e{r->u64(0, 0), r->boolean(0, 1), r->u64(0, 2)};
            if (auto it = integrated_upto_.find(ident); it != integrated_upto_.end())
                e.last_integrated = std::max(e.last_integrated, it->second);
            return e;
        }

        std::optional<std::uint64_t> integrated_at(ClientIdent ident, ClientVersion cv) {
            auto r = run("resync_integrated_at",
                         "SELECT server_version FROM resync.integrated WHERE ident = $1 AND client_version = $2",
                         Params{}.u64(ident).u64(cv));
            if (!r || r->empty()) return std::nullopt;
            return r->u64(0, 0);
        }

        void history_after(std::uint64_t version, std::size_t max, std::vector<RemoteChangeset<operation_type>>& out) {
            auto r = run("resync_history_after",
                         "SELECT server_version, salt, origin, client_version, payload FROM resync.history "
                         "WHERE server_version > $1 ORDER BY server_version LIMIT $2",
                         Params{}.u64(version).u64(max));
            if (!r) return;
            for (int i = 0; i < r->size(); ++i) {
                RemoteChangeset<operation_type> e;
                e.server_version = r->u64(i, 0);
                e.salt = r->u64(i, 1);
                e.origin = r->u64(i, 2);
                e.client_version = r->u64(i, 3);
                if (!decode_operations(r->bytes(i, 4), e.ops)) {
                    fail({"", "a history payload in the database does not decode (server version " +
                                  std::to_string(e.server_version) + ")"});
                    out.clear();
                    return;
                }
                out.push_back(std::move(e));
            }
        }

        ClientVersion last_from_history(ClientIdent origin) {
            auto r = run("resync_last_from_history",
                         "SELECT coalesce(max(client_version), 0) FROM resync.history WHERE origin = $1",
                         Params{}.u64(origin));
            return r && !r->empty() ? r->u64(0, 0) : 0;
        }

        std::optional<server::EntryOrigin> entry_at(std::uint64_t version) {
            auto r = run("resync_entry_at", "SELECT origin, client_version FROM resync.history WHERE server_version = $1",
                         Params{}.u64(version));
            if (!r || r->empty()) return std::nullopt;
            return server::EntryOrigin{r->u64(0, 0), r->u64(0, 1)};
        }

        /// The origins of the entries at `versions`, in one statement: a client asks about every
        /// acknowledged changeset it holds with each fresh-copy request (thousands, for a busy
        /// client), so one query per version would make each request thousands of round trips.
        std::vector<std::optional<server::EntryOrigin>> entries_at(const std::vector<std::uint64_t>& versions) {
            std::vector<std::optional<server::EntryOrigin>> out(versions.size());
            if (versions.empty()) return out;
            auto r = run("resync_entries_at",
                         "SELECT server_version, origin, client_version FROM resync.history "
                         "WHERE server_version = ANY($1)",
                         Params{}.u64_array(versions));
            if (!r) return out;
            std::map<std::uint64_t, server::EntryOrigin> found;
            for (int i = 0; i < r->size(); ++i) found[r->u64(i, 0)] = server::EntryOrigin{r->u64(i, 1), r->u64(i, 2)};
            for (std::size_t i = 0; i < versions.size(); ++i)
                if (auto it = found.find(versions[i]); it != found.end()) out[i] = it->second;
            return out;
        }

        /// The state as a snapshot, from this transaction's snapshot: the collections with their
        /// object counts, then the objects streamed from a cursor, in the same order.
        server::EncodedCopy encode_copy() {
            server::EncodedCopy copy;
            copy.head = head();
            auto collections = run("resync_copy_collections",
                                   "SELECT c.name, count(o.key) FROM resync.collections c "
                                   "LEFT JOIN resync.objects o ON o.collection = c.name GROUP BY c.name ORDER BY c.name",
                                   {});
            if (!collections) return {};
            std::string payload;
            ByteWriter w(payload);
            w.u64(static_cast<std::uint64_t>(collections->size()));
            if (!exec("DECLARE resync_copy NO SCROLL CURSOR FOR SELECT o.collection, o.key, o.fields "
                      "FROM resync.objects o JOIN resync.collections c ON c.name = o.collection "
                      "ORDER BY o.collection, o.key"))
                return {};
            std::optional<Rows> batch;
            int at = 0;
            for (int c = 0; c < collections->size(); ++c) {
                const std::string_view name = collections->bytes(c, 0);
                const std::uint64_t count = collections->u64(c, 1);
                w.str(name);
                w.u64(count);
                for (std::uint64_t k = 0; k < count; ++k) {
                    if (!batch || at == batch->size()) {
                        batch = exec("FETCH FORWARD 2000 FROM resync_copy");
                        at = 0;
                        if (!batch) return {};
                        if (batch->empty()) {
                            fail({"", "the objects ran out before their collections' counts while encoding a copy"});
                            return {};
                        }
                    }
                    if (batch->bytes(at, 0) != name) {
                        fail({"", "an object's collection did not match while encoding a copy"});
                        return {};
                    }
                    w.str(batch->bytes(at, 1));
                    w.raw(batch->bytes(at, 2));
                    ++at;
                }
            }
            if (!exec("CLOSE resync_copy")) return {};
            copy.bytes = resync::detail::frame(doc::snapshot_magic, doc::snapshot_format, payload);
            return copy;
        }

        ClientIdent register_client(const server::ClientEntry& entry) {
            // Idents are drawn at random rather than counted: a database restored from a dump
            // would count from the dump's value again and hand out idents that clients
            // registered after the dump still hold. A 63-bit draw is never handed out twice in
            // practice, dump or no dump.
            for (int tries = 0; tries < 16 && !failed_; ++tries) {
                const ClientIdent ident = s_->draw() >> 1;
                if (ident == 0) continue;
                auto r = run("resync_register",
                             "INSERT INTO resync.clients (ident, last_integrated, bound, reserved_for) "
                             "VALUES ($1, $2, $3, $4) ON CONFLICT (ident) DO NOTHING RETURNING ident",
                             Params{}.u64(ident).u64(entry.last_integrated).boolean(entry.bound).u64(entry.reserved_for));
                if (r && !r->empty()) return ident;
            }
            if (!failed_) fail({"", "could not draw an unused client ident"});
            return 0;
        }

        void forget(ClientIdent ident) {
            run("resync_forget", "DELETE FROM resync.clients WHERE ident = $1", Params{}.u64(ident));
        }
        void bind(ClientIdent ident) {
            run("resync_bind", "UPDATE resync.clients SET bound = true WHERE ident = $1", Params{}.u64(ident));
        }
        void release_reservations(ClientIdent reserved_for, ClientIdent except) {
            run("resync_release",
                "DELETE FROM resync.clients WHERE reserved_for = $1 AND NOT bound AND ident <> $2",
                Params{}.u64(reserved_for).u64(except));
        }

        /// Applies the operations to the objects they touch (read once per transaction, written
        /// back when it commits) and appends the history row.
        ServerPosition append(ClientIdent origin, ClientVersion cv, std::vector<operation_type> ops) {
            const server::Head h = head();
            if (failed_) return {};
            const ServerPosition at{latest_ ? latest_->version + 1 : h.latest.version + 1, s_->draw()};
            for (const auto& op : ops) {
                if (!load(doc::collection_of(op), doc::key_of(op))) return {};
                M::apply(touched_, op);
            }
            std::string payload;
            wire::detail::put_operations<M>(payload, ops);
            run("resync_append",
                "INSERT INTO resync.history (server_version, salt, origin, client_version, payload) "
                "VALUES ($1, $2, $3, $4, $5)",
                Params{}.u64(at.version).u64(at.salt).u64(origin).u64(cv).bytes(payload));
            if (failed_) return {};
            latest_ = at;
            return at;
        }

        void record_integrated(ClientIdent ident, ClientVersion cv, std::uint64_t server_version) {
            run("resync_record_integrated",
                "INSERT INTO resync.integrated (ident, client_version, server_version) VALUES ($1, $2, $3) "
                "ON CONFLICT (ident, client_version) DO NOTHING",
                Params{}.u64(ident).u64(cv).u64(server_version));
            auto& upto = integrated_upto_[ident];
            upto = std::max(upto, cv);
        }

        /// Writes what the transaction changed in memory: the objects it touched, the
        /// collections, the latest position, the registry's marks. Called before the commit.
        void flush() {
            for (const auto& [collection, key] : loaded_) {
                if (failed_) return;
                const doc::Object* o = touched_.find(collection, key);
                if (!o) {
                    run("resync_erase_object", "DELETE FROM resync.objects WHERE collection = $1 AND key = $2",
                        Params{}.bytes(collection).bytes(key));
                    continue;
                }
                run("resync_put_object",
                    "INSERT INTO resync.objects (collection, key, fields) VALUES ($1, $2, $3) "
                    "ON CONFLICT (collection, key) DO UPDATE SET fields = excluded.fields",
                    Params{}.bytes(collection).bytes(key).bytes(encode_fields(*o)));
            }
            for (const auto& [name, objects] : touched_.collections) {
                if (failed_) return;
                run("resync_put_collection", "INSERT INTO resync.collections (name) VALUES ($1) ON CONFLICT DO NOTHING",
                    Params{}.bytes(name));
            }
            for (const auto& [ident, cv] : integrated_upto_) {
                if (failed_) return;
                run("resync_last_integrated",
                    "UPDATE resync.clients SET last_integrated = greatest(last_integrated, $2) WHERE ident = $1",
                    Params{}.u64(ident).u64(cv));
            }
            if (latest_ && !failed_)
                run("resync_set_latest", "UPDATE resync.meta SET latest_version = $1, latest_salt = $2 WHERE id = 1",
                    Params{}.u64(latest_->version).u64(latest_->salt));
        }

        /// Runs a prepared statement; a failure fails the transaction.
        std::optional<Rows> run(const char* name, std::string_view sql, const Params& p) {
            if (failed_) return std::nullopt;
            auto r = s_->conn_.run(name, sql, p);
            if (!r) fail(s_->conn_.failure());
            return r;
        }
        /// Runs a statement that is not prepared (cursor commands); a failure fails the transaction.
        std::optional<Rows> exec(std::string_view sql, const Params& p = {}) {
            if (failed_) return std::nullopt;
            auto r = s_->conn_.exec(sql, p);
            if (!r) fail(s_->conn_.failure());
            return r;
        }

        void fail(Failure f) {
            failed_ = true;
            s_->failure_ = std::move(f);
        }

    private:
        /// Reads an object into the transaction's working state, once.
        bool load(const std::string& collection, const std::string& key) {
            if (!loaded_.emplace(collection, key).second) return true;
            auto r = run("resync_object", "SELECT fields FROM resync.objects WHERE collection = $1 AND key = $2",
                         Params{}.bytes(collection).bytes(key));
            if (!r) return false;
            if (r->empty()) return true;
            ByteReader in(r->bytes(0, 0));
            doc::Object object;
            if (!doc::detail::decode_object_fields(in, object) || !in.at_end()) {
                fail({"", "an object's fields in the database do not decode"});
                return false;
            }
            touched_.collections[collection].emplace(key, std::move(object));
            return true;
        }

        Storage* s_;
        bool writes_;
        bool failed_ = false;
        std::optional<server::Head> head_;
        std::optional<ServerPosition> latest_;
        doc::State touched_;
        std::set<std::pair<std::string, std::string>> loaded_;
        std::map<ClientIdent, ClientVersion> integrated_upto_;
    };

    /// Runs `f(Txn&)` in a read-only REPEATABLE READ transaction: one consistent snapshot.
    template <class F>
    std::error_code read(F&& f) {
        return transaction(false, std::forward<F>(f));
    }

    /// Runs `f(Txn&)` in one transaction that commits only if nothing failed; any failure rolls
    /// all of it back (`errc::server_storage_failure`, with `last_failure()` saying why).
    template <class F>
    std::error_code write(F&& f) {
        return transaction(true, std::forward<F>(f));
    }

    /// The last failure: SQLSTATE and libpq's words (never the connection string).
    const Failure& last_failure() const noexcept { return failure_; }
    /// Whether the last request found the database connected.
    bool connected() const noexcept { return conn_.ok(); }

    // ------------------------------------------------------------------ administration

    /// Creates the sync schema if it is missing (a server does this when it connects).
    std::error_code install() {
        if (!ensure_connected()) return errc::server_storage_failure;
        return plain([&] { return postgres::install(conn_, draw()); });
    }

    /// Terminates and re-enables sync: drops the sync schema and installs a new one (a new
    /// epoch, no history, no clients, no data), in one transaction.
    std::error_code reinstall() {
        if (!ensure_connected()) return errc::server_storage_failure;
        return plain([&] { return conn_.exec("DROP SCHEMA IF EXISTS resync CASCADE") && postgres::install(conn_, draw()); });
    }

    /// Drops the history entries at or below `upto` (clamped to the latest); the floor keeps
    /// the salt, so clients at the floor continue and those below it have expired.
    std::error_code compact(std::uint64_t upto) {
        return write([&](Txn& t) {
            const server::Head h = t.head();
            upto = std::min(upto, h.latest.version);
            if (t.failed() || upto <= h.floor.version) return;
            const auto salt = t.salt_in_history(upto);
            t.run("resync_compact", "DELETE FROM resync.history WHERE server_version <= $1", Params{}.u64(upto));
            t.run("resync_set_floor", "UPDATE resync.meta SET floor_version = $1, floor_salt = $2 WHERE id = 1",
                  Params{}.u64(upto).u64(salt.value_or(0)));
        });
    }

    /// Removes an ident from the registry (its entries stay in the history).
    std::error_code forget(ClientIdent ident) {
        return write([&](Txn& t) { t.forget(ident); });
    }

    /// A destructive schema change: `migrate` rewrites the whole state, the schema version goes
    /// up, and the history up to an empty entry appended now is compacted away.
    std::error_code change_schema(const std::function<void(doc::State&)>& migrate) {
        auto now = state();
        if (!now) return now.error();
        doc::State next = std::move(*now);
        if (migrate) migrate(next);
        if (auto ec = write([&](Txn& t) {
                t.head();
                t.run("resync_clear_objects", "DELETE FROM resync.objects", {});
                t.run("resync_clear_collections", "DELETE FROM resync.collections", {});
                for (const auto& [name, objects] : next.collections) {
                    t.run("resync_put_collection", "INSERT INTO resync.collections (name) VALUES ($1) ON CONFLICT DO NOTHING",
                          Params{}.bytes(name));
                    for (const auto& [key, object] : objects)
                        t.run("resync_put_object",
                              "INSERT INTO resync.objects (collection, key, fields) VALUES ($1, $2, $3) "
                              "ON CONFLICT (collection, key) DO UPDATE SET fields = excluded.fields",
                              Params{}.bytes(name).bytes(key).bytes(encode_fields(object)));
                }
                t.run("resync_bump_schema", "UPDATE resync.meta SET schema_version = schema_version + 1 WHERE id = 1", {});
                t.append(0, 0, {});
            }))
            return ec;
        auto h = head();
        if (!h) return h.error();
        return compact(h->latest.version);
    }

    /// Where the history stands now.
    Result<server::Head> head() {
        server::Head h;
        if (auto ec = read([&](Txn& t) { h = t.head(); })) return ec;
        return h;
    }

    /// The whole current state, decoded (for tests and tools).
    Result<doc::State> state() {
        server::EncodedCopy copy;
        if (auto ec = read([&](Txn& t) { copy = t.encode_copy(); })) return ec;
        return doc::decode_snapshot(copy.bytes);
    }

    /// The whole history still held (for tests and tools).
    Result<std::vector<RemoteChangeset<operation_type>>> history() {
        std::vector<RemoteChangeset<operation_type>> out;
        if (auto ec = read([&](Txn& t) { t.history_after(0, std::size_t{1} << 40, out); })) return ec;
        return out;
    }

    /// What the registry holds about `ident`, if anything.
    Result<std::optional<server::ClientEntry>> client(ClientIdent ident) {
        std::optional<server::ClientEntry> e;
        if (auto ec = read([&](Txn& t) { e = t.client(ident); })) return ec;
        return e;
    }

private:
    std::uint64_t draw() {
        std::uint64_t v = 0;
        while (v == 0) v = rng_();
        return v;
    }

    static std::string encode_fields(const doc::Object& o) {
        std::string out;
        ByteWriter w(out);
        w.u64(o.size());
        for (const auto& [field, value] : o) {
            w.str(field);
            doc::encode(w, value);
        }
        return out;
    }

    static bool decode_operations(std::string_view bytes, std::vector<operation_type>& ops) {
        wire::detail::Cursor in(bytes);
        wire::detail::get_operations<M>(in, ops);
        return !in.failed() && in.at_end();
    }

    void say(const std::string& line) const {
        if (options_.log) options_.log(line);
    }

    /// Connects if not connected, no more often than the backoff allows; installs the schema's
    /// missing parts on every new connection.
    bool ensure_connected() {
        if (conn_.ok()) return true;
        const auto now = std::chrono::steady_clock::now();
        if (now < next_attempt_) return false;
        if (!conn_.open(options_.conninfo)) {
            failure_ = conn_.failure();
            if (!down_) say("database unreachable: " + failure_.message + "; retrying");
            down_ = true;
            next_attempt_ = now + backoff_;
            backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
            return false;
        }
        backoff_ = options_.reconnect_initial;
        if (plain([&] { return postgres::install(conn_, draw()); })) {
            conn_.close();
            next_attempt_ = now + backoff_;
            return false;
        }
        if (down_) say("database connection restored");
        down_ = false;
        return true;
    }

    /// Runs `f` (which returns whether it succeeded) between BEGIN and COMMIT.
    template <class F>
    std::error_code plain(F&& f) {
        if (!conn_.exec("BEGIN")) return broken(conn_.failure());
        if (!f()) {
            Failure why = conn_.failure();
            (void)conn_.exec("ROLLBACK");
            return broken(std::move(why));
        }
        if (!conn_.exec("COMMIT")) return broken(conn_.failure());
        return {};
    }

    template <class F>
    std::error_code transaction(bool writes, F&& f) {
        if (!ensure_connected()) return errc::server_storage_failure;
        // READ COMMITTED for writes: they serialise on the meta row (taken first), and then see
        // everything committed before them. A read is one REPEATABLE READ snapshot.
        const char* begin = writes ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        auto begun = conn_.exec(begin);
        if (!begun && !conn_.ok()) {
            // The connection died while idle (the database restarted): one new try.
            conn_.close();
            if (!ensure_connected()) return errc::server_storage_failure;
            begun = conn_.exec(begin);
        }
        if (!begun) return broken(conn_.failure());
        Txn t(*this, writes);
        if (writes) t.head(); // the meta row's lock, before anything else
        f(t);
        if (writes && !t.failed()) t.flush();
        if (t.failed()) {
            Failure why = failure_;
            (void)conn_.exec("ROLLBACK");
            return broken(std::move(why));
        }
        if (!conn_.exec("COMMIT")) return broken(conn_.failure());
        return {};
    }

    /// A failed transaction: keeps why, and drops a connection that is no longer usable -
    /// broken, or whose sync schema or database is gone (the next one installs the schema).
    std::error_code broken(Failure why) {
        failure_ = std::move(why);
        const std::string& state = failure_.sqlstate;
        if (!conn_.ok() || state == "42P01" || state == "3F000" || state == "3D000" || state.rfind("57P", 0) == 0 ||
            state.rfind("08", 0) == 0) {
            if (!down_) say("database connection lost: " + failure_.message);
            down_ = true;
            conn_.close();
        }
        return errc::server_storage_failure;
    }

    StorageOptions options_;
    std::mt19937_64 rng_;
    Connection conn_;
    Failure failure_;
    std::chrono::steady_clock::time_point next_attempt_{};
    std::chrono::milliseconds backoff_;
    bool down_ = false;
};

} // namespace resync::postgres
