#pragma once
// What the PostgreSQL tests share: the server they run against (RESYNC_TEST_PG, a libpq
// connection string with the right to create databases), a database of their own per test
// (created fresh, dropped at the end), pg_dump and pg_restore of it, and the two server fixtures
// the scenario suite runs over: the in-process reference server, and the PostgreSQL server over
// TCP.

#include <pg/process.hpp>
#include <support/tcp.hpp>

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/postgres/connection.hpp>
#include <resync/postgres/storage.hpp>
#include <resync/server/engine.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace resync_pg_test {

using namespace std::chrono_literals;
using Storage = resync::postgres::Storage<resync::doc::Model>;
using Engine = resync::server::Engine<resync::doc::Model, Storage>;

/// The exit code that tells ctest a test was skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt).
inline constexpr int skip_code = 77;

/// RESYNC_TEST_PG. When it is not set, the test cannot run: it says how to start a server and
/// exits as skipped - or as failed where a server is required (RESYNC_TEST_PG_REQUIRED=1, as in
/// CI), so that a missing server can never pass for a passing test.
inline std::string admin_conninfo() {
    const char* c = std::getenv("RESYNC_TEST_PG");
    if (c && *c) return c;
    const bool required = std::getenv("RESYNC_TEST_PG_REQUIRED") && std::string(std::getenv("RESYNC_TEST_PG_REQUIRED")) == "1";
    std::cerr << "\nThis test needs a PostgreSQL server, and RESYNC_TEST_PG is not set. To start a throwaway one\n"
                 "(127.0.0.1 only, a free port; as root it runs as the postgres user) and run the tests:\n"
                 "  eval \"$(tests/pg/start-postgres /tmp/resync-pg)\"\n"
                 "  ctest --test-dir build -L pg\n"
                 "  tests/pg/start-postgres --stop /tmp/resync-pg\n"
                 "Or point RESYNC_TEST_PG at a server of your own (a libpq connection string whose role may\n"
                 "create databases). .ci/run starts one and requires these tests to run.\n"
              << (required ? "RESYNC_TEST_PG_REQUIRED=1: failing.\n" : "Skipped.\n");
    std::exit(required ? 1 : skip_code);
}

/// `conninfo` with its database replaced by `dbname` (whatever form `conninfo` has).
inline std::string with_dbname(const std::string& conninfo, const std::string& dbname) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
        std::string why = error ? error : "unparsable";
        PQfreemem(error);
        throw std::runtime_error("RESYNC_TEST_PG does not parse: " + why);
    }
    const auto quote = [](const std::string& v) {
        std::string q = "'";
        for (char ch : v) {
            if (ch == '\'' || ch == '\\') q += '\\';
            q += ch;
        }
        return q + "'";
    };
    std::string out;
    for (auto* o = options; o->keyword; ++o) {
        if (std::string(o->keyword) == "dbname" || !o->val || !*o->val) continue;
        out += std::string(o->keyword) + "=" + quote(o->val) + " ";
    }
    PQconninfoFree(options);
    return out + "dbname=" + quote(dbname);
}

/// A connection for the test's own administration (CREATE / DROP DATABASE need names in the
/// SQL text: these are names the test makes up, quoted with PQescapeIdentifier).
class Admin {
public:
    explicit Admin(const std::string& conninfo) {
        if (!c_.open(conninfo)) throw std::runtime_error("cannot connect to RESYNC_TEST_PG: " + c_.failure().message);
    }
    void exec(const std::string& sql) {
        if (!c_.exec(sql)) throw std::runtime_error("'" + sql + "' failed: " + c_.failure().message);
    }
    std::string identifier(const std::string& name) {
        char* q = PQescapeIdentifier(c_.native(), name.data(), name.size());
        std::string out = q;
        PQfreemem(q);
        return out;
    }
    resync::postgres::Connection& connection() { return c_; }

private:
    resync::postgres::Connection c_;
};

/// A folder of its own under the system's temporary folder, removed at the end.
class TempFolder {
public:
    TempFolder() {
        std::string pattern = (std::filesystem::temp_directory_path() / "resync-pg-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data()) ? pattern : std::string();
    }
    ~TempFolder() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// A database created for one test and dropped after it.
class TestDatabase {
public:
    TestDatabase() : admin_conninfo_(admin_conninfo()), admin_(admin_conninfo_) {
        static std::atomic<int> counter{0};
        name_ = "resync_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                std::to_string(std::random_device{}() % 100000);
        admin_.exec("CREATE DATABASE " + admin_.identifier(name_));
    }
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;
    ~TestDatabase() {
        try {
            admin_.exec("DROP DATABASE IF EXISTS " + admin_.identifier(name_) + " WITH (FORCE)");
            admin_.exec("DROP DATABASE IF EXISTS " + admin_.identifier(name_ + "_restore") + " WITH (FORCE)");
        } catch (const std::exception& e) {
            std::cerr << "dropping the test database failed: " << e.what() << "\n";
        }
    }

    const std::string& name() const { return name_; }
    std::string conninfo() const { return with_dbname(admin_conninfo_, name_); }

    /// `pg_dump --format=custom` of the database into `file`.
    void dump(const std::string& file) const {
        std::string out;
        const int rc = run_program({tool("pg_dump"), "--format=custom", "--no-owner", "--file=" + file, "--dbname=" + conninfo()}, &out);
        if (rc != 0) throw std::runtime_error("pg_dump failed (" + std::to_string(rc) + "):\n" + out);
    }

    /// Restores `file` (from `dump`) into a recreated database: pg_restore into a new database,
    /// then the old one is dropped (its connections ended) and the new one takes its name. A
    /// server sees its database vanish and come back restored; it never sees one half restored.
    void restore(const std::string& file) {
        const std::string fresh = name_ + "_restore";
        admin_.exec("DROP DATABASE IF EXISTS " + admin_.identifier(fresh) + " WITH (FORCE)");
        admin_.exec("CREATE DATABASE " + admin_.identifier(fresh));
        std::string out;
        const int rc = run_program({tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
                                    "--dbname=" + with_dbname(admin_conninfo_, fresh), file},
                                   &out);
        if (rc != 0) throw std::runtime_error("pg_restore failed (" + std::to_string(rc) + "):\n" + out);
        admin_.exec("DROP DATABASE " + admin_.identifier(name_) + " WITH (FORCE)");
        admin_.exec("ALTER DATABASE " + admin_.identifier(fresh) + " RENAME TO " + admin_.identifier(name_));
    }

    /// Runs SQL in the test database (for the tests that break it on purpose).
    void exec_here(const std::string& sql) const {
        Admin here(conninfo());
        here.exec(sql);
    }

    /// A PostgreSQL program: from RESYNC_PG_BINDIR, else the directory pg_config named when
    /// the tests were configured.
    static std::string tool(const std::string& name) {
        if (const char* dir = std::getenv("RESYNC_PG_BINDIR"); dir && *dir) return std::string(dir) + "/" + name;
        return std::string(RESYNC_PG_BINDIR) + "/" + name;
    }

private:
    std::string admin_conninfo_;
    Admin admin_;
    std::string name_;
};

// ----------------------------------------------------------------------------- replicas

/// A replica over the loopback transport to an in-process server, with the TcpReplica's face
/// (`store`, `link`, `session`, `step`, `put`), so that one test body drives either.
template <class Policy>
struct LoopReplica {
    using Link = resync::testing::LoopbackTransport<resync::doc::Model>;
    using Session = resync::SyncSession<resync::MemoryStore, Link, Policy>;

    resync::MemoryStore store;
    Link link;
    Session session;

    LoopReplica(resync::testing::Server<resync::doc::Model>& server, Policy policy, resync::SessionOptions options,
                std::uint64_t seed)
        : link(server, seed), session(store, link, std::move(policy), std::move(options)) {}

    void step(std::chrono::milliseconds = 0ms) { session.poll(); }
    resync::ClientVersion put(const std::string& c, const std::string& k, const std::string& f, resync::doc::Value v) {
        auto r = store.write([&](resync::doc::Writer& w) { w.create(c, k).set(c, k, f, v); });
        return r ? *r : 0;
    }
    resync::ClientIdent ident() const { return store.sync_state().client_ident; }
};

// ------------------------------------------------------------------------------ fixtures

/// An error the next message from `ident` (or anyone, if 0) gets instead of its answer.
struct Injected {
    resync::ServerError error;
    resync::ClientIdent ident = 0;
};

/// The in-process reference server (`testing::Server`), its clients on loopback links.
class InProcess {
public:
    static constexpr const char* name = "in-process";
    template <class Policy>
    using Replica = LoopReplica<Policy>;
    using Backup = resync::testing::Server<resync::doc::Model>::Backup;

    InProcess() = default;

    template <class Policy>
    std::unique_ptr<Replica<Policy>> replica(Policy policy = {}, resync::SessionOptions options = {}) {
        if (!options.seed) options.seed = ++seeds_;
        return std::make_unique<Replica<Policy>>(server_, std::move(policy), std::move(options), ++seeds_);
    }

    resync::doc::State state() { return server_.state(); }
    resync::ServerPosition latest() { return server_.latest(); }
    resync::Epoch epoch() { return server_.epoch(); }
    resync::SchemaVersion schema_version() { return server_.schema_version(); }
    bool knows_client(resync::ClientIdent ident) { return server_.knows_client(ident); }
    resync::ServerPosition write(std::vector<resync::doc::Operation> ops) { return server_.write(std::move(ops)); }
    Backup backup() { return server_.backup(); }
    void restore(const Backup& b) { server_.restore(b); }
    void terminate_and_reenable() { server_.terminate_and_reenable(); }
    void change_schema(const std::function<void(resync::doc::State&)>& migrate) { server_.change_schema(migrate); }
    void compact_all() { server_.compact(server_.latest().version); }
    void forget_client(resync::ClientIdent ident) { server_.forget_client(ident); }
    void inject_error(resync::ServerError e, resync::ClientIdent ident) { server_.inject_error(std::move(e), ident); }
    /// Whether terminate-and-re-enable keeps the data (the reference server does).
    static constexpr bool reenable_keeps_data = true;

private:
    resync::testing::Server<resync::doc::Model> server_;
    std::uint64_t seeds_ = 0;
};

/// The PostgreSQL server (server::Engine over postgres::Storage, two workers with a connection
/// each) in a fresh database, over TCP; its clients are TcpTransports. A backup is a real
/// pg_dump, a restore a real pg_restore into a recreated database, terminate-and-re-enable
/// drops the sync schema and installs a new one.
class Postgres {
public:
    static constexpr const char* name = "PostgreSQL over TCP";
    template <class Policy>
    using Replica = resync_test::TcpReplica<Policy>;
    struct Backup {
        std::string file;
    };

    Postgres()
        : admin_(options()), engine_(Storage(options())),
          server_(
              [this]() -> resync_test::TcpServer::Handler {
                  auto engine = std::make_shared<Engine>(Storage(options()));
                  return [this, engine](resync::server::LinkSession& link, resync_test::TcpServer::ClientMessage m) {
                      if (auto e = injected(m)) return std::vector<resync_test::TcpServer::ServerMessage>{std::move(*e)};
                      return engine->handle(link, std::move(m));
                  };
              },
              0, two_workers()) {
        if (admin_.install()) throw std::runtime_error("installing the sync schema failed: " + admin_.last_failure().message);
    }

    template <class Policy>
    std::unique_ptr<Replica<Policy>> replica(Policy policy = {}, resync::SessionOptions options = {}) {
        if (!options.seed) options.seed = ++seeds_;
        return std::make_unique<Replica<Policy>>(server_.address(), std::move(policy), std::move(options));
    }

    resync::doc::State state() { return must(admin_.state()); }
    resync::ServerPosition latest() { return must(admin_.head()).latest; }
    resync::Epoch epoch() { return must(admin_.head()).epoch; }
    resync::SchemaVersion schema_version() { return must(admin_.head()).schema_version; }
    bool knows_client(resync::ClientIdent ident) { return must(admin_.client(ident)).has_value(); }
    resync::ServerPosition write(std::vector<resync::doc::Operation> ops) { return must(engine_.write(std::move(ops))); }
    Backup backup() {
        Backup b{folder_.path() + "/dump-" + std::to_string(++dumps_) + ".pgdump"};
        db_.dump(b.file);
        return b;
    }
    void restore(const Backup& b) { db_.restore(b.file); }
    void terminate_and_reenable() { check(admin_.reinstall(), "reinstalling the sync schema"); }
    void change_schema(const std::function<void(resync::doc::State&)>& migrate) {
        check(admin_.change_schema(migrate), "changing the schema");
    }
    void compact_all() { check(admin_.compact(latest().version), "compacting"); }
    void forget_client(resync::ClientIdent ident) { check(admin_.forget(ident), "forgetting a client"); }
    void inject_error(resync::ServerError e, resync::ClientIdent ident) {
        std::lock_guard lock(mutex_);
        injected_.push_back({std::move(e), ident});
    }
    /// Dropping the sync schema drops the data with it.
    static constexpr bool reenable_keeps_data = false;

    const TestDatabase& database() const { return db_; }
    std::vector<std::string> log() const { return server_.log(); }

private:
    resync::postgres::StorageOptions options() const {
        resync::postgres::StorageOptions o;
        o.conninfo = db_.conninfo();
        // A restore makes the database vanish for a moment: come back quickly.
        o.reconnect_initial = 20ms;
        o.reconnect_max = 300ms;
        return o;
    }
    static resync::net::TcpServerOptions two_workers() {
        resync::net::TcpServerOptions o;
        o.workers = 2;
        return o;
    }
    std::optional<resync::ServerError> injected(const resync_test::TcpServer::ClientMessage& m) {
        const resync::ClientIdent sender = std::visit([](const auto& x) { return x.ident; }, m);
        std::lock_guard lock(mutex_);
        for (auto it = injected_.begin(); it != injected_.end(); ++it) {
            if (it->ident == 0 || it->ident == sender) {
                auto e = std::move(it->error);
                injected_.erase(it);
                return e;
            }
        }
        return std::nullopt;
    }
    template <class T>
    T must(resync::Result<T> r) {
        if (!r) throw std::runtime_error("the PostgreSQL storage failed: " + admin_.last_failure().message);
        return std::move(*r);
    }
    void check(std::error_code ec, const char* what) {
        if (ec) throw std::runtime_error(std::string(what) + " failed: " + admin_.last_failure().message);
    }

    TestDatabase db_;
    TempFolder folder_;
    Storage admin_;
    resync::server::Engine<resync::doc::Model, Storage> engine_;
    std::mutex mutex_;
    std::vector<Injected> injected_;
    resync_test::ServerThread server_;
    std::uint64_t seeds_ = 0;
    int dumps_ = 0;
};

} // namespace resync_pg_test
