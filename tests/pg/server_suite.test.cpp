// The core of the scenario suite, written once and run against both servers: the in-process
// reference server (testing::Server, clients on loopback links) and the real one
// (server::Engine over postgres::Storage in a database of its own, clients over TCP, a backup
// a real pg_dump and a restore a real pg_restore into a recreated database). The in-process
// instances need no PostgreSQL; the others are skipped (exit 77) without one, or fail where one
// is required (CI).
//
// Each scenario counts its expected values itself: a shared counter the clients add to, and
// objects each writes, so the server's final state is known before the test runs.
#include <pg/support.hpp>
#include <support/tcp.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {
namespace {

using namespace std::chrono_literals;
using resync::ResetReason;
using resync_pg_test::InProcess;
using resync_pg_test::Postgres;

/// The integer at collection/key/field of `s`, if there is one.
std::optional<std::int64_t> int_at(const resync::doc::State& s, const std::string& c, const std::string& k,
                                   const std::string& f) {
    const auto* o = s.find(c, k);
    if (!o) return std::nullopt;
    const auto it = o->find(f);
    if (it == o->end()) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) return *i;
    return std::nullopt;
}

/// `times` local transactions on `r`, each adding 1 to counters/total.n.
template <class R>
void add(R& r, int times) {
    for (int i = 0; i < times; ++i)
        REQUIRE(r.store.write([](resync::doc::Writer& w) { w.add("counters", "total", "n", 1); }));
}

template <class R>
std::int64_t total(R& r) {
    const auto v = int_at(r.store.state(), "counters", "total", "n");
    REQUIRE(v);
    return *v;
}

template <class... R>
void settle(R&... r) {
    REQUIRE(resync_test::settle(60s, r...));
}

/// Session options with backup files in `dir` (the keeping rule wants somewhere durable).
resync::SessionOptions in(const resync_pg_test::TempFolder& dir) {
    resync::SessionOptions o;
    o.backup_directory = dir.path() + "/backups";
    return o;
}

template <class R>
const resync::ResetReport& report(R& r) {
    REQUIRE(r.session.last_report().has_value());
    return *r.session.last_report();
}

} // namespace

TEMPLATE_TEST_CASE("suite: a server restored from a backup - RecoverAll replays what the restored server lost, "
                   "DiscardUnsynced drops its unsynced changes, and both end equal to the server",
                   "[suite][restore]", InProcess, Postgres) {
    resync_pg_test::TempFolder dir;
    TestType server;
    auto a = server.template replica<resync::doc::RecoverAll>({}, in(dir));
    auto b = server.template replica<resync::DiscardUnsynced>({}, in(dir));

    REQUIRE(a->put("counters", "total", "n", std::int64_t{0}));
    settle(*a, *b);
    add(*a, 3);
    add(*b, 4);
    settle(*a, *b);
    REQUIRE(int_at(server.state(), "counters", "total", "n") == 7);

    const auto backup = server.backup();
    add(*a, 5);
    add(*b, 6);
    REQUIRE(a->put("notes", "a", "text", std::string("after the backup")));
    settle(*a, *b);
    REQUIRE(int_at(server.state(), "counters", "total", "n") == 18);

    add(*b, 2); // B is not polled again until after the restore: unsynced
    server.restore(backup);
    REQUIRE(int_at(server.state(), "counters", "total", "n") == 7);
    add(*a, 1);
    settle(*a, *b);

    // 7 in the backup; A's 5 acknowledged after it and 1 unsynced, replayed by RecoverAll; none
    // of B's 6 (lost with the restore) nor its 2 (discarded).
    CHECK(int_at(server.state(), "counters", "total", "n") == 13);
    CHECK(total(*a) == 13);
    CHECK(total(*b) == 13);
    CHECK(a->store.state() == server.state());
    CHECK(b->store.state() == server.state());
    CHECK(server.state().find("notes", "a") != nullptr);
    for (const auto* r : {&report(*a), &report(*b)})
        CHECK((r->trigger.reason == ResetReason::server_rollback || r->trigger.reason == ResetReason::diverging_history));
    INFO(resync::to_string(report(*b)));
    CHECK(report(*b).mode_used == resync::ResetMode::discard);
    CHECK(report(*b).unsynced_operations == 2);
    CHECK(report(*a).mode_used == resync::ResetMode::recover);
    CHECK(report(*a).lost_acknowledged == 5 + 1); // its 5 additions and its note
}

TEMPLATE_TEST_CASE("suite: sync terminated and re-enabled - every client resets into the new epoch, recovers its "
                   "unsynced changes, and ends equal to the server",
                   "[suite][epoch]", InProcess, Postgres) {
    resync_pg_test::TempFolder dir;
    TestType server;
    auto a = server.template replica<resync::doc::RecoverOrDiscard>({}, in(dir));
    auto b = server.template replica<resync::doc::RecoverOrDiscard>({}, in(dir));
    REQUIRE(a->put("items", "one", "n", std::int64_t{1}));
    REQUIRE(b->put("items", "two", "n", std::int64_t{2}));
    settle(*a, *b);
    const auto old_epoch = server.epoch();
    REQUIRE(a->store.sync_state().epoch == old_epoch);

    REQUIRE(a->put("items", "local", "n", std::int64_t{3})); // unsynced
    server.terminate_and_reenable();
    REQUIRE(server.epoch() != old_epoch);
    settle(*a, *b);

    CHECK(server.epoch() != old_epoch);
    CHECK(a->store.sync_state().epoch == server.epoch());
    CHECK(b->store.sync_state().epoch == server.epoch());
    const auto s = server.state();
    CHECK(int_at(s, "items", "local", "n") == 3);
    // The reference server keeps the data across a re-enable; dropping the sync schema drops it.
    CHECK(s.object_count() == (TestType::reenable_keeps_data ? 3u : 1u));
    CHECK(a->store.state() == s);
    CHECK(b->store.state() == s);
    // On a connection that stays up, the server no longer knows the client (docs/server.md §8).
    for (const auto* r : {&report(*a), &report(*b)}) {
        CHECK(r->trigger.reason == ResetReason::client_unknown);
        CHECK(r->trigger.recovery_allowed);
    }
    CHECK(report(*a).count(resync::OperationFate::recovered) == 2); // create and set
}

TEMPLATE_TEST_CASE("suite: a destructive schema change - recovery is not allowed, RecoverOrDiscard discards its "
                   "unsynced changes and takes the migrated state",
                   "[suite][schema]", InProcess, Postgres) {
    resync_pg_test::TempFolder dir;
    TestType server;
    auto a = server.template replica<resync::doc::RecoverOrDiscard>({}, in(dir));
    REQUIRE(a->put("items", "one", "n", std::int64_t{1}));
    settle(*a);
    const auto old_schema = server.schema_version();

    REQUIRE(a->put("items", "two", "n", std::int64_t{2})); // unsynced
    server.change_schema([](resync::doc::State& s) {
        s.collections["items"]["one"]["n"] = resync::doc::Value(std::string("one, as text"));
    });
    REQUIRE(server.schema_version() == old_schema + 1);
    settle(*a);

    CHECK(report(*a).trigger.reason == ResetReason::schema_changed);
    CHECK_FALSE(report(*a).trigger.recovery_allowed);
    INFO(resync::to_string(report(*a)));
    CHECK(report(*a).mode_used == resync::ResetMode::discard);
    CHECK(report(*a).unsynced_operations == 2);
    CHECK(a->store.sync_state().schema_version == server.schema_version());
    CHECK(a->store.state() == server.state());
    CHECK(a->store.state().find("items", "two") == nullptr);
    CHECK(server.state().object_count() == 1);
}

TEMPLATE_TEST_CASE("suite: three RecoverAll clients writing through a restore converge, and the server holds every "
                   "change any of them made",
                   "[suite][recover-all]", InProcess, Postgres) {
    resync_pg_test::TempFolder dir;
    TestType server;
    auto a = server.template replica<resync::doc::RecoverAll>({}, in(dir));
    auto b = server.template replica<resync::doc::RecoverAll>({}, in(dir));
    auto c = server.template replica<resync::doc::RecoverAll>({}, in(dir));
    REQUIRE(a->put("counters", "total", "n", std::int64_t{0}));
    settle(*a, *b, *c);
    add(*a, 1);
    add(*b, 2);
    add(*c, 3);
    settle(*a, *b, *c);
    const auto backup = server.backup();

    // After the backup: some acknowledged (settled), then more written while the restore
    // happens, polled a few times on both sides of it.
    add(*a, 10);
    add(*b, 20);
    add(*c, 30);
    REQUIRE(b->put("objects", "b", "n", std::int64_t{2}));
    settle(*a, *b, *c);
    REQUIRE(int_at(server.state(), "counters", "total", "n") == 66);
    add(*a, 100);
    add(*b, 200);
    for (int i = 0; i < 20; ++i) {
        a->step(1ms);
        b->step(1ms);
    }
    server.restore(backup);
    add(*c, 300);
    REQUIRE(c->put("objects", "c", "n", std::int64_t{3}));
    settle(*a, *b, *c);

    const std::int64_t expected = 6 + 60 + 100 + 200 + 300;
    CHECK(int_at(server.state(), "counters", "total", "n") == expected);
    for (auto* r : {a.get(), b.get(), c.get()}) {
        CHECK(total(*r) == expected);
        CHECK(r->store.state() == server.state());
        REQUIRE(r->session.last_report().has_value());
    }
    CHECK(server.state().find("objects", "b") != nullptr);
    CHECK(server.state().find("objects", "c") != nullptr);
}

TEMPLATE_TEST_CASE("suite: a client offline longer than the server keeps history resets as expired and recovers "
                   "its unsynced changes",
                   "[suite][expired]", InProcess, Postgres) {
    resync_pg_test::TempFolder dir;
    TestType server;
    auto a = server.template replica<resync::doc::RecoverOrDiscard>({}, in(dir));
    auto b = server.template replica<resync::doc::RecoverOrDiscard>({}, in(dir));
    REQUIRE(a->put("counters", "total", "n", std::int64_t{0}));
    settle(*a, *b);

    add(*a, 4); // A goes quiet with 4 unsynced
    add(*b, 9);
    settle(*b);
    REQUIRE(b->put("items", "late", "n", std::int64_t{1}));
    settle(*b);
    server.compact_all();
    settle(*a, *b);

    CHECK(report(*a).trigger.reason == ResetReason::client_expired);
    CHECK(report(*a).count(resync::OperationFate::recovered) == 4);
    CHECK(int_at(server.state(), "counters", "total", "n") == 13);
    CHECK(a->store.state() == server.state());
    CHECK(b->store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
