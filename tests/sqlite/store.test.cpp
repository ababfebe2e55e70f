// SqliteStore on its own: a new file becomes a store, local writes and their history survive a
// reopen, values are stored byte for byte, files that are not ours are refused untouched, and a
// session syncs and resets a SqliteStore - the fresh copy staged, decoded and committed in the
// database - to exactly the states the scenario dictates.

#include <support/client.hpp>
#include <support/keeping.hpp>
#include <support/scenarios.hpp>

#include <resync/bytes.hpp>
#include <resync/doc/codec.hpp>
#include <resync/sqlite.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/strategy.hpp>
#include <resync/discard/diff.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sqlite3.h>

#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::SessionState;
using resync::SqliteStore;
using resync_test::num;
using resync_test::str;

namespace {

std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
}

SqliteStore open_store(const std::filesystem::path& p, std::uint64_t replica = 1) {
    resync::SqliteOptions o;
    o.replica_id = replica;
    auto s = SqliteStore::open(p.string(), o);
    REQUIRE(s);
    return std::move(*s);
}

/// Runs an SQL statement on a file with plain sqlite3 (to make foreign or future files).
void raw_sql(const std::filesystem::path& p, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.string().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

template <class Policy>
struct SqliteClient {
    SqliteStore store;
    resync::testing::LoopbackTransport<resync::doc::Model> link;
    resync::SyncSession<SqliteStore, resync::testing::LoopbackTransport<resync::doc::Model>, Policy> session;

    SqliteClient(resync::testing::Server<resync::doc::Model>& server, SqliteStore s, Policy policy = {},
                 resync::SessionOptions options = {})
        : store(std::move(s)), link(server, 7), session(store, link, std::move(policy), std::move(options)) {}

    resync::ClientVersion put(const std::string& c, const std::string& k, const std::string& f, resync::doc::Value v) {
        auto r = store.write([&](resync::doc::Writer& w) { w.create(c, k).set(c, k, f, v); });
        REQUIRE(r);
        return *r;
    }
    SessionState sync() { return session.run_until_idle(20000); }

    /// Writes k0.n = 100, has the server acknowledge it, then restores the server to before that
    /// write and takes this client offline: the next sync finds the restore.
    void lose_an_acknowledged_write_to_a_restore(resync::testing::Server<resync::doc::Model>& server) {
        const auto backup = server.backup();
        put("items", "k0", "n", resync_test::num(100));
        REQUIRE(sync() == SessionState::syncing);
        server.restore(backup);
        link.go_offline();
    }
};

} // namespace

TEST_CASE("A new SqliteStore file keeps local writes, their history and the sync state across a reopen",
          "[sqlite][store]") {
    resync_test::TempDir dir;
    const auto file = dir / "replica.db";
    {
        auto s = open_store(file, 42);
        CHECK(s.replica_id() == 42);
        CHECK(s.sync_state() == resync::SyncState{});
        auto v1 = s.write([](resync::doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "title", std::string("a")); });
        REQUIRE(v1);
        CHECK(*v1 == 1);
        auto v2 = s.write([](resync::doc::Writer& w) {
            w.set("tasks", "t1", "n", std::int64_t{5});
            w.add("tasks", "t1", "n", 2);
            w.list_push_back("tasks", "t1", "tags", std::string("x"));
        });
        REQUIRE(v2);
        CHECK(*v2 == 2);
        // A write that fails leaves nothing behind.
        auto v3 = s.write([](resync::doc::Writer& w) -> std::error_code {
            w.erase("tasks", "t1");
            return resync::errc::invalid_argument;
        });
        CHECK(!v3);
        resync::SyncState st;
        st.client_ident = 9;
        st.epoch = 3;
        REQUIRE(!s.write_sync_state(st));
    }
    auto s = open_store(file);
    CHECK(s.replica_id() == 42);
    CHECK(s.sync_state().client_ident == 9);
    CHECK(s.sync_state().epoch == 3);
    CHECK(s.last_client_version() == 2);
    CHECK(s.get("tasks", "t1", "title") == str("a"));
    CHECK(s.get("tasks", "t1", "n") == num(7));
    const auto tags = s.get("tasks", "t1", "tags");
    REQUIRE(std::holds_alternative<resync::doc::List>(tags));
    const auto& list = std::get<resync::doc::List>(tags);
    REQUIRE(list.elements.size() == 1);
    CHECK(list.elements[0].id == resync::doc::ElementId{42, 1});
    CHECK(list.elements[0].value == resync::doc::Scalar{std::string("x")});
    const auto unsynced = s.unsynced();
    REQUIRE(unsynced.size() == 2);
    CHECK(unsynced[0].client_version == 1);
    CHECK(unsynced[0].ops.size() == 2);
    CHECK(unsynced[1].client_version == 2);
    CHECK(unsynced[1].ops.size() == 3);
    CHECK(s.unsynced(1).size() == 1);
    CHECK(s.has_unsynced());
    CHECK(s.object_count() == 1);
}

TEST_CASE("SqliteStore stores strings with quotes, NULs and megabyte values byte for byte", "[sqlite][store]") {
    resync_test::TempDir dir;
    const auto file = dir / "replica.db";
    const std::string quotes = "it's \"quoted\"; DROP TABLE objects; --";
    const std::string nuls("a\0b\0\0c", 6);
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) % 256);
    {
        auto s = open_store(file);
        auto v = s.write([&](resync::doc::Writer& w) {
            w.create(quotes, nuls).set(quotes, nuls, quotes, resync::doc::Value{big});
            w.set(quotes, nuls, nuls, resync::doc::Value{nuls});
            w.create(nuls, big).set(nuls, big, "k", resync::doc::Value{quotes});
        });
        REQUIRE(v);
    }
    auto s = open_store(file);
    CHECK(s.get(quotes, nuls, quotes) == resync::doc::Value{big});
    CHECK(s.get(quotes, nuls, nuls) == resync::doc::Value{nuls});
    CHECK(s.get(nuls, big, "k") == resync::doc::Value{quotes});
    const auto state = s.state();
    REQUIRE(state.collections.size() == 2);
    CHECK(state.collections.at(quotes).count(nuls) == 1);
    CHECK(state.collections.at(nuls).count(big) == 1);
    // A key that differs only after a NUL is another key.
    CHECK(s.get(quotes, std::string("a\0b", 3), quotes) == resync::doc::Value{resync::doc::Null{}});
}

TEST_CASE("SqliteStore refuses files that are not its own with a typed error and leaves them untouched",
          "[sqlite][store][hostile]") {
    resync_test::TempDir dir;
    SECTION("a text file") {
        const auto file = dir / "notes.txt";
        const std::string text(8192, 'x');
        write_bytes(file, text);
        auto s = SqliteStore::open(file.string());
        REQUIRE(!s);
        CHECK(s.error() == resync::errc::store_corrupt);
        CHECK(read_bytes(file) == text);
    }
    SECTION("another application's database") {
        const auto file = dir / "other.db";
        raw_sql(file, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('x');");
        const auto before = read_bytes(file);
        auto s = SqliteStore::open(file.string());
        REQUIRE(!s);
        CHECK(s.error() == resync::errc::store_not_resync);
        CHECK(read_bytes(file) == before);
    }
    SECTION("a store of a newer format version") {
        const auto file = dir / "future.db";
        { auto s = open_store(file); }
        raw_sql(file, "PRAGMA journal_mode=DELETE; PRAGMA user_version = 2;");
        const auto before = read_bytes(file);
        auto s = SqliteStore::open(file.string());
        REQUIRE(!s);
        CHECK(s.error() == resync::errc::store_version_unsupported);
        CHECK(read_bytes(file) == before);
    }
    SECTION("a damaged store") {
        const auto file = dir / "damaged.db";
        {
            auto s = open_store(file);
            for (int i = 0; i < 200; ++i)
                REQUIRE(s.write([&](resync::doc::Writer& w) {
                    w.create("c", std::to_string(i)).set("c", std::to_string(i), "v", std::string(100, 'v'));
                }));
        }
        raw_sql(file, "PRAGMA journal_mode=DELETE;");
        auto bytes = read_bytes(file);
        REQUIRE(bytes.size() > 3 * 4096);
        // Garbage over the second and third pages (tables and their b-trees).
        for (std::size_t i = 4096; i < 3 * 4096; ++i) bytes[i] = static_cast<char>(0xA5);
        write_bytes(file, bytes);
        auto s = SqliteStore::open(file.string());
        REQUIRE(!s);
        CHECK(s.error() == resync::errc::store_corrupt);
        CHECK(read_bytes(file) == bytes);
    }
    SECTION("a missing file when creating is not allowed") {
        resync::SqliteOptions o;
        o.create = false;
        auto s = SqliteStore::open((dir / "missing.db").string(), o);
        REQUIRE(!s);
        CHECK(!std::filesystem::exists(dir / "missing.db"));
    }
}

TEST_CASE("A SqliteStore replica syncs with a MemoryStore replica and both converge", "[sqlite][session]") {
    resync_test::TempDir dir;
    resync::testing::Server<resync::doc::Model> server;
    SqliteClient<resync::DiscardUnsynced> a(server, open_store(dir / "a.db", 1));
    resync_test::Client<resync::DiscardUnsynced> b(server);
    a.put("items", "x", "n", num(1));
    b.put("items", "y", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    a.put("items", "y", "n", num(3));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(b.sync() == SessionState::syncing);
    resync::doc::State expected;
    expected.collections["items"]["x"]["n"] = num(1);
    expected.collections["items"]["y"]["n"] = num(3);
    CHECK(a.store.state() == expected);
    CHECK(b.store.state() == expected);
    CHECK(!a.store.has_unsynced());
}

TEMPLATE_TEST_CASE("A SqliteStore reset stages the fresh copy in the database and recovers unsynced changes onto it",
                   "[sqlite][session][reset]", resync::discard::Replace, resync::discard::Diff) {
    using Policy = resync::Strategy<TestType, resync::recover::Rebase<resync::recover::DocumentRules>,
                                    resync::fallback::Discard>;
    resync_test::TempDir dir;
    resync::testing::Server<resync::doc::Model> server;
    auto options = resync_test::options_in(dir);
    SqliteClient<Policy> a(server, open_store(dir / "a.db", 1), Policy{}, options);
    for (int i = 0; i < 50; ++i) a.put("items", "k" + std::to_string(i), "n", num(i));
    REQUIRE(a.sync() == SessionState::syncing);
    a.lose_an_acknowledged_write_to_a_restore(server);
    a.put("items", "k1", "n", num(111));      // unsynced: recovered
    a.put("items", "new", "s", str("fresh")); // unsynced: recovered
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session.resets_completed() == 1);
    const auto& report = *a.session.last_report();
    CHECK(report.outcome == resync::ResetOutcome::completed);
    resync::doc::State expected;
    for (int i = 0; i < 50; ++i) expected.collections["items"]["k" + std::to_string(i)]["n"] = num(i);
    expected.collections["items"]["k1"]["n"] = num(111);
    expected.collections["items"]["new"]["s"] = str("fresh");
    CHECK(a.store.state() == expected);
    CHECK(server.state() == expected);
    CHECK(!a.store.sync_state().pending_reset);
    CHECK(!a.store.staged_copy());
    CHECK(a.store.staged_objects() == 0);
    if constexpr (std::is_same_v<TestType, resync::discard::Diff>) {
        // The fresh copy with the recovered history on it differs from the live state only in
        // k0 (100 was lost by the restore); k1=111 and "new" are the same on both sides.
        REQUIRE(report.diff);
        CHECK(report.diff->updated == 1);
        CHECK(report.diff->created == 0);
        CHECK(report.diff->erased == 0);
        CHECK(report.diff->unchanged == 50);
    }
}

// A full disk inside the database rather than in a file: SQLite's own writes fail (SQLITE_FULL)
// while the store stages the fresh copy, records the pending reset or commits. PRAGMA
// max_page_count stops the database from growing, which is what a full disk does to it.
TEST_CASE("A SqliteStore whose database cannot grow during a reset keeps the live data and every offline change, "
          "and finishes the reset once it can",
          "[sqlite][session][reset][faults][disk]") {
    using Policy = resync::Strategy<resync::discard::Replace, resync::recover::Rebase<resync::recover::DocumentRules>,
                                    resync::fallback::Discard>;
    resync_test::TempDir dir;
    resync::testing::Server<resync::doc::Model> server;
    auto options = resync_test::options_in(dir);
    options.fresh_chunk_bytes = 4096; // many staged chunks, each a transaction of its own
    SqliteClient<Policy> a(server, open_store(dir / "a.db", 1), Policy{}, options);
    std::vector<std::error_code> errors;
    a.session.on_error([&](std::error_code ec, std::string_view) { errors.push_back(ec); });
    const std::string payload(512, 'p');
    for (int i = 0; i < 200; ++i) a.put("items", "k" + std::to_string(i), "s", str(payload.c_str()));
    REQUIRE(a.sync() == SessionState::syncing);
    a.lose_an_acknowledged_write_to_a_restore(server);
    // Offline, to be recovered: a field set on an object the server has, and a new object.
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "k1", "n", num(111)); }));
    a.put("items", "new", "s", str("offline"));
    const auto offline = resync_test::operations_of(a.store.unsynced());
    REQUIRE(offline.size() == 3); // the set; the create and the set of "new"
    const auto live_before = a.store.state();

    // The disk is full: not one more page.
    sqlite3* db = a.store.database().handle();
    const auto pragma = [&](const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const auto v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    };
    const auto pages = pragma("PRAGMA page_count");
    REQUIRE(pragma("PRAGMA max_page_count = " + std::to_string(pages)) == pages);
    a.link.go_online();
    for (int i = 0; i < 2000 && errors.size() < 3; ++i) {
        if (a.session.state() == SessionState::awaiting_user) break;
        a.session.poll();
    }
    INFO("errors while the database was full: " << errors.size());
    REQUIRE(!errors.empty()); // the reset did meet the full database
    for (const auto& ec : errors) CHECK(ec == resync::errc::store_failure); // SQLITE_FULL, typed
    CHECK(a.session.resets_completed() == 0);
    CHECK(a.store.state() == live_before);
    CHECK(resync_test::operations_of(a.store.unsynced()) == offline);
    for (const auto& v : resync_test::keeping_violations(offline, server, a.store, dir.path())) FAIL_CHECK(v);

    // Room again: the reset finishes, and recovers both offline changes onto the server's copy.
    REQUIRE(pragma("PRAGMA max_page_count = 1073741823") > pages);
    for (int i = 0; i < 20000 && !a.session.idle(); ++i) {
        if (a.session.state() == SessionState::awaiting_user) (void)a.session.execute_reset();
        a.session.poll();
    }
    REQUIRE(a.session.idle());
    CHECK(a.session.resets_completed() == 1);
    resync::doc::State expected;
    for (int i = 0; i < 200; ++i) expected.collections["items"]["k" + std::to_string(i)]["s"] = str(payload.c_str());
    expected.collections["items"]["k1"]["n"] = num(111);
    expected.collections["items"]["new"]["s"] = str("offline");
    CHECK(a.store.state() == expected);
    CHECK(server.state() == expected);
    for (const auto& v : resync_test::keeping_violations(offline, server, a.store, dir.path())) FAIL_CHECK(v);
    CHECK(!a.store.sync_state().pending_reset);
    CHECK(a.store.staged_objects() == 0);
}

TEST_CASE("SqliteStore never empties a quarantine it cannot read whole: a damaged entry makes take_quarantined and "
          "retry_quarantined fail with store_corrupt and remove nothing; without it the retry applies and empties it",
          "[sqlite][store][quarantine]") {
    resync_test::TempDir dir;
    auto s = open_store(dir / "replica.db");
    const auto quarantine = [&](std::string_view op_bytes) {
        auto& q = s.database()("INSERT INTO quarantine(client_version, idx, op, reason, cause, at_ms) VALUES (?, ?, ?, ?, ?, ?)");
        q.bind(std::uint64_t{7}).bind(std::int64_t{0}).bind_blob(op_bytes).bind_blob("dropped").bind(std::int64_t{0}).bind(
            std::int64_t{1});
        REQUIRE_FALSE(q.run());
    };
    const auto entries = [&] {
        auto& q = s.database()("SELECT count(*) FROM quarantine");
        REQUIRE(q.step());
        const auto n = q.int64(0);
        q.reset();
        return n;
    };
    std::string create;
    resync::ByteWriter w(create);
    resync::doc::encode(w, resync::doc::Operation{resync::doc::CreateObject{"items", "back"}});
    quarantine(create);
    quarantine(std::string("\xff\xfe damaged", 10));
    REQUIRE(entries() == 2);
    CHECK(s.quarantined().size() == 1); // what can be read

    auto retried = s.retry_quarantined();
    REQUIRE_FALSE(retried);
    CHECK(retried.error() == resync::errc::store_corrupt);
    auto taken = s.take_quarantined();
    REQUIRE_FALSE(taken);
    CHECK(taken.error() == resync::errc::store_corrupt);
    CHECK(entries() == 2);
    CHECK(s.last_client_version() == 0);
    CHECK(s.state().find("items", "back") == nullptr);

    // The twin: without the damaged entry the retry is one local write, and the quarantine empties.
    REQUIRE_FALSE(s.database().exec("DELETE FROM quarantine WHERE seq = (SELECT max(seq) FROM quarantine)"));
    REQUIRE(entries() == 1);
    auto v = s.retry_quarantined();
    REQUIRE(v);
    CHECK(*v == 1);
    CHECK(entries() == 0);
    CHECK(s.state().find("items", "back") != nullptr);
    CHECK(s.unsynced().size() == 1);
}

} // namespace RESYNC_TEST_FILE
