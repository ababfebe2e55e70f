// The causes of a reset with real tools and real processes: resync-sync-server on its own
// database, several resync-sync-client processes, and PostgreSQL's own programs. pg_dump, writes
// going on, pg_restore into a recreated database: every client resets per its strategy, and
// RecoverAll loses nothing. psql drops the sync schema: the server starts a new epoch, every
// client resets. SIGKILL of the server while a client fetches its fresh copy: the client retries
// with backoff and loses nothing. No server at all: a typed error and retries, never a reset.
//
// Every expected value is counted by the test itself from what it made the clients write: a
// shared counter that every client adds to, whose final value on the server and on each client
// is the sum of the additions the strategies keep.
#include <pg/support.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {
namespace {

using namespace std::chrono_literals;
using resync_pg_test::Child;
using resync_pg_test::Storage;
using resync_pg_test::TempFolder;
using resync_pg_test::TestDatabase;

/// resync-sync-server on `db`, on `port` (0: a free one, read from its log line).
class ServerProcess {
public:
    ServerProcess(const TestDatabase& db, std::uint16_t port = 0)
        : child_({RESYNC_SERVER_PROGRAM, "--listen", "127.0.0.1:" + std::to_string(port), "--db", db.conninfo(),
                  "--workers", "2"}) {
        REQUIRE(child_.started());
        const auto line = child_.err_line("listening on 127.0.0.1:", 30s);
        INFO(child_.all_output());
        REQUIRE(line);
        port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    }
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    Child& child() { return child_; }

private:
    Child child_;
    std::uint16_t port_ = 0;
};

/// resync-sync-client with a strategy, talking to `address`.
class ClientProcess {
public:
    ClientProcess(const std::string& address, const std::string& strategy, const std::string& backups, int seed,
                  std::uint32_t chunk_bytes = 65536)
        : name_(strategy + "#" + std::to_string(seed)),
          child_({RESYNC_CLIENT_PROGRAM, "--server", address, "--strategy", strategy, "--backup-dir", backups, "--seed",
                  std::to_string(seed), "--chunk-bytes", std::to_string(chunk_bytes)}) {
        REQUIRE(child_.started());
        REQUIRE(child_.expect("ready", 30s));
    }
    ~ClientProcess() {
        child_.send("quit");
        child_.close_stdin();
        (void)child_.wait_for(10s);
    }

    /// Sends a command and returns its answer (failing the test when none comes).
    std::string ask(const std::string& command, std::chrono::milliseconds timeout = 60s) {
        auto a = child_.ask(command, timeout);
        INFO(name_ << " got no answer to '" << command << "'; its output:\n" << child_.all_output());
        REQUIRE(a);
        return *a;
    }
    /// Syncs until in step with the server; fails the test if it does not get there.
    void sync(std::chrono::seconds timeout = 60s) {
        const std::string answer = ask("sync " + std::to_string(timeout.count()), timeout + 30s);
        INFO(name_ << ": " << answer << "\n" << child_.all_output());
        REQUIRE(answer.rfind("sync ok", 0) == 0);
    }
    std::int64_t get(const std::string& collection, const std::string& key, const std::string& field) {
        const std::string a = ask("get " + collection + " " + key + " " + field);
        INFO(name_ << ": " << a);
        REQUIRE(a != "get none");
        return std::stoll(a.substr(4));
    }
    /// A number from `status`: "resets", "objects", ...
    std::uint64_t status(const std::string& key) {
        const std::string a = ask("status");
        const auto at = a.find(" " + key + "=");
        INFO(a);
        REQUIRE(at != std::string::npos);
        return std::stoull(a.substr(at + key.size() + 2));
    }
    /// The "event reset ..." lines so far.
    std::vector<std::string> resets() const {
        std::vector<std::string> out;
        for (const auto& l : child_.out_lines())
            if (l.rfind("event reset ", 0) == 0) out.push_back(l);
        return out;
    }
    Child& child() { return child_; }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    Child child_;
};

/// The server's state, read by a storage of the test's own. Right after a restore the database
/// has just been renamed into place, and the first connection may race the server's own: a read
/// that fails is tried again for a while before the test fails, saying why.
resync::doc::State server_state(const TestDatabase& db) {
    resync::postgres::StorageOptions o;
    o.conninfo = db.conninfo();
    o.reconnect_initial = 50ms;
    o.reconnect_max = 200ms;
    Storage s(o);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
        auto state = s.state();
        if (state) return std::move(*state);
        INFO("reading the server's state failed: " << s.last_failure().sqlstate << " " << s.last_failure().message);
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(100ms);
    }
}

/// The value of an integer field in the server's database.
std::optional<std::int64_t> server_int(const TestDatabase& db, const std::string& collection, const std::string& key,
                                       const std::string& field) {
    const auto state = server_state(db);
    const auto* object = state.find(collection, key);
    if (!object) return std::nullopt;
    const auto it = object->find(field);
    if (it == object->end()) return std::nullopt;
    const auto* i = std::get_if<std::int64_t>(&it->second);
    return i ? std::optional<std::int64_t>(*i) : std::nullopt;
}

resync::server::Head server_head(const TestDatabase& db) {
    resync::postgres::StorageOptions o;
    o.conninfo = db.conninfo();
    Storage s(o);
    auto h = s.head();
    INFO(s.last_failure().message);
    REQUIRE(h);
    return *h;
}

std::size_t server_objects(const TestDatabase& db) { return server_state(db).object_count(); }

bool has(const std::string& line, const std::string& words) { return line.find(words) != std::string::npos; }

/// The index of the first output line of `c` containing `words` at or after `from`, or -1.
long line_index(const Child& c, const std::string& words, long from = 0) {
    const auto lines = c.out_lines();
    for (long i = std::max(0L, from); i < static_cast<long>(lines.size()); ++i)
        if (has(lines[static_cast<std::size_t>(i)], words)) return i;
    return -1;
}

} // namespace

TEST_CASE("pg_dump, clients keep writing, pg_restore into a recreated database: every client resets per its "
          "strategy, and with RecoverAll the server ends with every change any client made",
          "[pg][processes][restore]") {
    TestDatabase db;
    TempFolder backups;
    ServerProcess server(db);
    // Two RecoverAll clients write throughout; the Realm-parity strategies hold unsynced changes
    // across the restore, so that what they keep is known exactly.
    ClientProcess a(server.address(), "recover-all", backups.path(), 1);
    ClientProcess b(server.address(), "recover-all", backups.path(), 2);
    ClientProcess c(server.address(), "recover-or-discard", backups.path(), 3);
    ClientProcess d(server.address(), "discard-unsynced", backups.path(), 4);
    std::vector<ClientProcess*> all{&a, &b, &c, &d};

    REQUIRE(a.ask("int counters total n 0") == "int ok");
    a.sync();
    for (auto* x : all) x->sync();
    for (auto* x : all) REQUIRE(x->ask("add counters total n 1 10") == "add 10");
    for (auto* x : all) x->sync();
    for (auto* x : all) x->sync(); // everyone has everyone's
    REQUIRE(server_int(db, "counters", "total", "n") == 40);
    for (auto* x : all) CHECK(x->get("counters", "total", "n") == 40);

    // The backup: a real pg_dump of the server's database while the server runs.
    const std::string dump = backups.path() + "/server.pgdump";
    db.dump(dump);

    // After the dump, each client adds 5, and the server acknowledges them: the restore will lose
    // these 20 on the server. Each client also creates an object of its own.
    for (auto* x : all) {
        REQUIRE(x->ask("add counters total n 1 5") == "add 5");
        REQUIRE(x->ask("put notes " + x->name() + " text written after the dump") == "put ok");
        x->sync();
    }
    REQUIRE(server_int(db, "counters", "total", "n") == 60);

    // C and D stop syncing and write: 7 and 4 unsynced additions. A and B keep writing, 100 each,
    // one every 15 ms, syncing as they go - straight through the restore.
    REQUIRE(c.ask("offline") == "offline ok");
    REQUIRE(d.ask("offline") == "offline ok");
    REQUIRE(c.ask("add counters total n 1 7") == "add 7");
    REQUIRE(d.ask("add counters total n 1 4") == "add 4");
    a.child().send("add counters total n 1 100 15");
    b.child().send("add counters total n 1 100 15");
    std::this_thread::sleep_for(300ms);

    // The restore: pg_restore into a new database, the old one dropped, the new one renamed.
    db.restore(dump);
    REQUIRE(server_int(db, "counters", "total", "n") == 40);

    REQUIRE(a.child().expect("add ", 120s) == "add 100");
    REQUIRE(b.child().expect("add ", 120s) == "add 100");
    REQUIRE(c.ask("online") == "online ok");
    REQUIRE(d.ask("online") == "online ok");
    for (int round = 0; round < 2; ++round)
        for (auto* x : all) x->sync(90s);

    // Kept: 40 before the dump; A's and B's 5 after it (RecoverAll replays acknowledged changes
    // the restored server lost) and their 200 written through the restore; C's 7 unsynced
    // (RecoverOrDiscard recovers unsynced changes, not the 5 the server had acknowledged); none
    // of D's (DiscardUnsynced). 40 + 5 + 5 + 200 + 7 = 257.
    const std::int64_t expected = 40 + 5 + 5 + 100 + 100 + 7;
    CHECK(server_int(db, "counters", "total", "n") == expected);
    for (auto* x : all) {
        INFO(x->name() << "\n" << x->child().all_output());
        CHECK(x->get("counters", "total", "n") == expected);
        // Every client detected the restore and reset once.
        const auto resets = x->resets();
        REQUIRE(resets.size() == 1);
        CHECK((has(resets[0], "reason=server rollback") || has(resets[0], "reason=diverging history") ||
               has(resets[0], "reason=client unknown")));
        CHECK(x->status("resets") == 1);
    }
    CHECK(has(a.resets()[0], "used=recover"));
    CHECK(has(c.resets()[0], "recovered=7"));
    CHECK(has(c.resets()[0], "used=recover"));
    CHECK(has(d.resets()[0], "used=discard"));
    CHECK(has(d.resets()[0], "unsynced=4 "));
    // Objects written after the dump: RecoverAll's came back; RecoverOrDiscard's and
    // DiscardUnsynced's, acknowledged before the restore, are gone with it.
    CHECK(a.ask("has notes " + a.name()) == "has yes");
    CHECK(b.ask("has notes " + b.name()) == "has yes");
    CHECK(a.ask("has notes " + c.name()) == "has no");
    CHECK(a.ask("has notes " + d.name()) == "has no");
    // One counter and A's and B's notes.
    CHECK(server_objects(db) == 3);
}

TEST_CASE("psql drops the sync schema: the server starts a new epoch, every client resets, RecoverAll keeps its "
          "unsynced changes and DiscardUnsynced drops them",
          "[pg][processes][epoch]") {
    TestDatabase db;
    TempFolder backups;
    ServerProcess server(db);
    ClientProcess a(server.address(), "recover-all", backups.path(), 1);
    ClientProcess b(server.address(), "discard-unsynced", backups.path(), 2);

    REQUIRE(a.ask("write 20 before") == "write 20");
    a.sync();
    b.sync();
    REQUIRE(b.status("objects") == 20);
    const auto old_epoch = server_head(db).epoch;

    REQUIRE(a.ask("offline") == "offline ok");
    REQUIRE(b.ask("offline") == "offline ok");
    REQUIRE(a.ask("int counters a n 5") == "int ok");
    REQUIRE(b.ask("int counters b n 7") == "int ok");

    // Terminate and re-enable, as an operator would: with psql.
    std::string out;
    REQUIRE(resync_pg_test::run_program({TestDatabase::tool("psql"), "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname=" + db.conninfo(),
                                         "-c", "DROP SCHEMA resync CASCADE"},
                                        &out) == 0);

    // A comes back on a new connection (its Hello meets the new epoch); B on the connection it
    // kept (its requests meet a registry that no longer knows it).
    REQUIRE(a.ask("drop") == "drop ok");
    REQUIRE(a.ask("online") == "online ok");
    REQUIRE(b.ask("online") == "online ok");
    a.sync();
    b.sync();
    a.sync();

    const auto head = server_head(db);
    CHECK(head.epoch != old_epoch);
    CHECK(head.epoch != 0);
    // The data went with the schema; A's unsynced object came back from A, B's was discarded.
    CHECK(server_objects(db) == 1);
    CHECK(server_int(db, "counters", "a", "n") == 5);
    CHECK_FALSE(server_int(db, "counters", "b", "n").has_value());
    for (auto* x : {&a, &b}) {
        INFO(x->child().all_output());
        REQUIRE(x->resets().size() == 1);
        CHECK(x->status("objects") == 1);
        CHECK(x->get("counters", "a", "n") == 5);
    }
    CHECK(has(a.resets()[0], "reason=epoch changed"));
    CHECK(has(b.resets()[0], "reason=client unknown"));
    CHECK(has(b.resets()[0], "used=discard"));
    CHECK(has(b.resets()[0], "unsynced=2 ")); // its create and its set
}

TEST_CASE("the server process is killed while a client fetches its fresh copy: the client retries with backoff, "
          "finishes the reset against the restarted server, and nothing is lost",
          "[pg][processes][kill]") {
    TestDatabase db;
    TempFolder backups;
    auto server = std::make_unique<ServerProcess>(db);
    const std::uint16_t port = server->port();
    // Small pieces, so that the copy takes many round trips and the kill lands inside it.
    ClientProcess a(server->address(), "recover-all", backups.path(), 1, 256);
    ClientProcess b(server->address(), "recover-all", backups.path(), 2, 256);

    REQUIRE(a.ask("int counters total n 0") == "int ok");
    REQUIRE(a.ask("write 3000 bulk") == "write 3000");
    a.sync();
    b.sync();
    const std::string dump = backups.path() + "/server.pgdump";
    db.dump(dump);
    REQUIRE(a.ask("add counters total n 1 6") == "add 6");
    REQUIRE(b.ask("add counters total n 1 9") == "add 9");
    a.sync();
    b.sync();
    REQUIRE(server_int(db, "counters", "total", "n") == 15);

    REQUIRE(a.ask("offline") == "offline ok");
    REQUIRE(a.ask("add counters total n 100 1") == "add 1"); // unsynced across everything below
    db.restore(dump);
    REQUIRE(a.ask("online") == "online ok");

    // Kill the server the moment A reports the first piece of its fresh copy.
    std::size_t from = static_cast<std::size_t>(line_index(a.child(), "online ok"));
    const auto progress = a.child().next_line(from, [](const std::string& l) { return l.rfind("event progress", 0) == 0; }, 60s);
    INFO(a.child().all_output());
    REQUIRE(progress);
    server->child().kill(SIGKILL);
    CHECK(server->child().wait() == 128 + SIGKILL);
    server.reset();
    // A finds the server gone, in the middle of its reset.
    REQUIRE(a.child().next_line(from, [](const std::string& l) { return l.rfind("event disconnected", 0) == 0; }, 30s));
    std::this_thread::sleep_for(500ms);
    REQUIRE(a.resets().empty()); // the reset did not finish without the server
    server = std::make_unique<ServerProcess>(db, port);

    a.sync(120s);
    b.sync(120s);
    a.sync(120s);
    // 6 + 9 acknowledged after the dump (replayed by RecoverAll) + A's unsynced 100.
    CHECK(server_int(db, "counters", "total", "n") == 115);
    CHECK(a.get("counters", "total", "n") == 115);
    CHECK(b.get("counters", "total", "n") == 115);
    CHECK(server_objects(db) == 3001);
    REQUIRE(a.resets().size() == 1);
    REQUIRE(b.resets().size() == 1);
    // A reconnected after the kill before its reset completed.
    const long disconnected = line_index(a.child(), "event disconnected");
    const long reset = line_index(a.child(), "event reset ");
    CHECK(disconnected >= 0);
    CHECK(disconnected < reset);
    CHECK(line_index(a.child(), "event connected", disconnected) < reset);
}

TEST_CASE("with no server listening, a client gets a typed error and retries with backoff, never resets, and syncs "
          "everything once a server comes up",
          "[pg][processes][unreachable]") {
    TestDatabase db;
    TempFolder backups;
    const std::uint16_t port = resync_test::free_port();
    ClientProcess a("127.0.0.1:" + std::to_string(port), "recover-all", backups.path(), 1);
    REQUIRE(a.ask("write 5 offline") == "write 5");
    std::this_thread::sleep_for(1500ms);
    const std::string status = a.ask("status");
    CHECK(has(status, "connected=0"));
    CHECK(has(status, "resets=0"));
    CHECK(has(status, "unsynced=5"));
    // The typed error, in the library's words, and more than one attempt.
    CHECK(line_index(a.child(), "event unreachable error=") >= 0);

    ServerProcess server(db, port);
    a.sync();
    CHECK(a.status("resets") == 0);
    CHECK(a.status("unsynced") == 0);
    CHECK(server_objects(db) == 5);
    CHECK(a.resets().empty());
}

TEST_CASE("the server never writes the connection string's password to its log", "[pg][processes][credentials]") {
    TestDatabase db;
    const std::string secret = "Pr0cess-Secret-Pa55";
    // The cluster trusts local connections, so the password is accepted and ignored: the server
    // runs, serves a client and logs as usual, with the password in its --db argument. Another
    // cannot reach its database and logs that; a third is started wrongly and says so.
    Child server({RESYNC_SERVER_PROGRAM, "--listen", "127.0.0.1:0", "--db", db.conninfo() + " password=" + secret});
    const auto listening = server.err_line("listening on 127.0.0.1:", 30s);
    REQUIRE(listening);
    {
        TempFolder backups;
        const auto at = listening->find("127.0.0.1:");
        ClientProcess a(listening->substr(at, listening->find(' ', at) - at), "recover-all", backups.path(), 1);
        REQUIRE(a.ask("write 3 x") == "write 3");
        a.sync();
    }
    CHECK(server_objects(db) == 3);
    Child bad({RESYNC_SERVER_PROGRAM, "--listen", "127.0.0.1:0", "--db",
               "host=127.0.0.1 port=1 connect_timeout=2 dbname=nothing user=nobody password=" + secret});
    REQUIRE(bad.err_line("not reachable", 30s));
    Child wrong({RESYNC_SERVER_PROGRAM, "--listen", "nowhere", "--db", "password=" + secret});
    CHECK(wrong.wait_for(10s) == 2);
    server.kill(SIGTERM);
    bad.kill(SIGTERM);
    CHECK(server.wait_for(10s) == 0);
    CHECK(bad.wait_for(10s) == 0);
    for (const Child* c : {&server, &bad, &wrong}) {
        const std::string all = c->all_output();
        INFO(all);
        CHECK_FALSE(all.empty());
        CHECK(all.find(secret) == std::string::npos);
    }
}

} // namespace RESYNC_TEST_FILE
