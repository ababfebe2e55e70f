// Scenario: the server is restored from a backup while a client holds unsynced changes (field
// sets, a create, an erase, an add-integer, list edits) and acknowledged changes the restore
// lost. Recover, RecoverOrDiscard and RecoverAll bring the unsynced changes onto the restored
// server; RecoverAll also brings back the acknowledged ones it lost (DESIGN §4.4) - exactly once -
// while the Rebase strategies lose them (Realm's documented behaviour); DiscardUnsynced loses
// both. Both the restored server behind the client (rollback) and the restored server moved past
// it with another client's writes (divergence), found while connected or on reconnecting.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::OperationFate;
using resync::ResetMode;
using resync::ResetReason;
using resync::SessionState;
using resync_test::el;
using resync_test::list_values;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

enum class Path { stays_connected, reconnects };
enum class Restored { behind_client, moved_past_client };

template <class P>
constexpr bool recovers = !std::is_same_v<P, resync::DiscardUnsynced>;
template <class P>
constexpr bool recovers_acknowledged = std::is_same_v<P, resync::doc::RecoverAll>;

/// A client with synced data, two acknowledged changesets the restore loses, and four unsynced
/// changesets written after the restore; and, if asked, another client that moved the restored
/// server past the first client's cursor.
template <class S, class P>
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a;
    resync::ClientIdent old_ident = 0;
    resync_test::StoreImage before;
    std::size_t history_before_reset = 0;

    World(Path path, Restored restored) : a(server, 1, P{}, resync_test::options_in(dir)) {
        // Synced before the backup: server v1.
        REQUIRE(a.store.write([](resync::doc::Writer& w) {
            w.create("items", "kept").set("items", "kept", "n", num(1));
            w.create("items", "counter").set("items", "counter", "c", num(10));
            w.create("items", "doomed").set("items", "doomed", "n", num(3));
            w.create("lists", "l");
            w.list_push_back("lists", "l", "tags", el("a"));
            w.list_push_back("lists", "l", "tags", el("b"));
            w.list_push_back("lists", "l", "tags", el("c"));
        }));
        REQUIRE(a.sync() == SessionState::syncing);
        const auto backup = server.backup();
        REQUIRE(server.latest().version == 1);

        // Acknowledged after the backup point: server v2 and v3, lost by the restore.
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.create("items", "lost").set("items", "lost", "n", num(2)); }));
        REQUIRE(a.store.write([](resync::doc::Writer& w) {
            w.add("items", "counter", "c", 5);
            w.list_push_back("lists", "l", "tags", el("e"));
        }));
        REQUIRE(a.sync() == SessionState::syncing);
        REQUIRE(a.store.unsynced().empty());
        REQUIRE(server.latest().version == 3);
        REQUIRE(a.store.sync_state().download.version == 3);

        if (path == Path::reconnects) a.link().go_offline();
        server.restore(backup);
        REQUIRE(server.latest().version == 1);
        if (restored == Restored::moved_past_client) {
            Peer<resync::DiscardUnsynced, resync_test::Loopback, S> b(server, 2, {}, resync_test::options_in(dir), 11);
            b.put("items", "kept", "n", num(50));
            REQUIRE(b.sync() == SessionState::syncing);
            b.put("items", "other", "n", num(10));
            REQUIRE(b.sync() == SessionState::syncing);
            b.put("items", "other", "n", num(11));
            REQUIRE(b.sync() == SessionState::syncing);
            REQUIRE(server.latest().version == 4);
            REQUIRE(b.session().resets_completed() == 0);
        }

        // Offline work, unsynced: a field set, a create, an erase, an add-integer, list edits.
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "kept", "n", num(100)); }));
        REQUIRE(a.store.write([](resync::doc::Writer& w) {
            w.create("items", "new").set("items", "new", "note", str("fresh"));
            w.erase("items", "doomed");
        }));
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 1); }));
        REQUIRE(a.store.write([](resync::doc::Writer& w) {
            w.list_push_back("lists", "l", "tags", el("d")); // [a b c e d]
            w.list_erase_at("lists", "l", "tags", 0);        // [b c e d]
            w.list_move("lists", "l", "tags", 3, 0);         // [d b c e]
            w.list_set("lists", "l", "tags", 1, el("B"));    // [d B c e]
        }));
        REQUIRE(a.store.unsynced().size() == 4);
        REQUIRE(list_values(a.store.state(), "lists", "l", "tags") ==
                std::vector<resync::doc::Scalar>{el("d"), el("B"), el("c"), el("e")});
        old_ident = a.ident();
        before = resync_test::image_of(a.store);
        history_before_reset = server.history().size();
        if (path == Path::reconnects) a.link().go_online();
    }
};

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::Recover, resync::doc::RecoverOrDiscard, resync::doc::RecoverAll,
                                         resync::DiscardUnsynced>;

TEMPLATE_LIST_TEST_CASE("after a server restore the unsynced changes are recovered onto the restored server, and under "
                        "RecoverAll the acknowledged changes the restore lost come back exactly once",
                        "[scenario][recovery][restore]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const Path path = GENERATE(Path::stays_connected, Path::reconnects);
    const Restored restored = GENERATE(Restored::behind_client, Restored::moved_past_client);
    INFO((path == Path::stays_connected ? "stays connected" : "reconnects")
         << ", " << (restored == Restored::behind_client ? "restored behind the client" : "restored, moved past"));
    World<S, P> w(path, restored);
    auto& a = w.a;
    auto& server = w.server;

    resync::doc::State seen_before;
    a.session().on_before_reset([&](const resync::ResetTrigger&, const S& s) { seen_before = s.state(); });
    REQUIRE(a.sync() == SessionState::syncing);

    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetReport& report = *a.session().last_report();
    CHECK(report.trigger.reason ==
          (restored == Restored::behind_client ? ResetReason::server_rollback : ResetReason::diverging_history));
    CHECK(report.outcome == resync::ResetOutcome::completed);
    CHECK(report.attempt == 1);
    CHECK(report.unsynced_changesets == 4);
    CHECK(report.unsynced_operations == 9);
    // The store was untouched until the commit.
    CHECK(seen_before == w.before.state);

    // The client ends equal to the server, synced, under a new ident, the record cleared.
    CHECK(a.store.state() == server.state());
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.ident() != w.old_ident);
    CHECK(a.store.sync_state().download == server.latest());
    // The server's state is what its history says, and no change was uploaded twice.
    CHECK(resync_test::replay_history(server) == server.state());
    CHECK(resync_test::no_duplicate_uploads(server));

    const std::int64_t kept_by_server = restored == Restored::moved_past_client ? 50 : 1;
    if constexpr (recovers<P>) {
        CHECK(report.mode_requested == ResetMode::recover);
        CHECK(report.mode_used == ResetMode::recover);
        CHECK(report.count(OperationFate::discarded) == 0);
        CHECK(report.count(OperationFate::dropped) == 0);
        CHECK(report.count(OperationFate::quarantined) == 0);
        // Every unsynced operation is on the server: a local field update beats the server's.
        CHECK(server.state().get("items", "kept", "n") == num(100));
        CHECK(server.state().get("items", "new", "note") == str("fresh"));
        CHECK(server.state().find("items", "doomed") == nullptr);
        CHECK(resync_test::writes_on_server(server, "items", "counter", "c") ==
              (recovers_acknowledged<P> ? 3u : 2u));
        if constexpr (recovers_acknowledged<P>) {
            // The acknowledged changes the restore lost are back, once each.
            CHECK(report.lost_acknowledged == 2);
            CHECK(report.operations.size() == 9 + 4); // two lost changesets of two operations each
            CHECK(server.state().get("items", "lost", "n") == num(2));
            CHECK(server.state().get("items", "counter", "c") == num(10 + 5 + 1));
            CHECK(list_values(server.state(), "lists", "l", "tags") ==
                  std::vector<resync::doc::Scalar>{el("d"), el("B"), el("c"), el("e")});
            CHECK(report.count(OperationFate::transformed) == 0);
        } else {
            // Realm's behaviour: the acknowledged changes the restore lost are not re-applied -
            // but unlike Realm, the report says so, and they are kept in the store's quarantine.
            CHECK(report.lost_acknowledged == 2);
            CHECK(report.count(OperationFate::lost_on_server) == 4);
            CHECK(a.store.quarantined().size() == 4);
            CHECK(report.operations.size() == 9 + 4);
            CHECK(server.state().find("items", "lost") == nullptr);
            CHECK(server.state().get("items", "counter", "c") == num(10 + 1));
            // "d" followed "e", which the server no longer has: inserted after "c" instead.
            CHECK(list_values(server.state(), "lists", "l", "tags") ==
                  std::vector<resync::doc::Scalar>{el("d"), el("B"), el("c")});
            CHECK(report.count(OperationFate::transformed) == 1);
        }
        CHECK(report.count(OperationFate::recovered) + report.count(OperationFate::transformed) +
                  report.count(OperationFate::lost_on_server) ==
              report.operations.size());
    } else {
        CHECK(report.mode_used == ResetMode::discard);
        // Discarded into the store's quarantine (the keeping rule), with what the restore lost.
        CHECK(report.lost_acknowledged == 2);
        CHECK(report.count(OperationFate::quarantined) == 9);
        CHECK(report.count(OperationFate::lost_on_server) == 4);
        CHECK(a.store.quarantined().size() == 9 + 4);
        CHECK(server.state().get("items", "kept", "n") == num(kept_by_server));
        CHECK(server.state().find("items", "new") == nullptr);
        CHECK(server.state().get("items", "doomed", "n") == num(3));
        CHECK(server.state().find("items", "lost") == nullptr);
        CHECK(server.state().get("items", "counter", "c") == num(10));
        CHECK(list_values(server.state(), "lists", "l", "tags") ==
              std::vector<resync::doc::Scalar>{el("a"), el("b"), el("c")});
        CHECK(server.history().size() == w.history_before_reset);
    }
    if (restored == Restored::moved_past_client) CHECK(server.state().get("items", "other", "n") == num(11));
    else CHECK(server.state().find("items", "other") == nullptr);

    // Nothing is uploaded again later: the history stays as it is, however long the client syncs.
    const auto history = server.history().size();
    for (int i = 0; i < 200; ++i) a.session().poll();
    a.put("items", "after", "n", num(7));
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(server.history().size() == history + 1);
    CHECK(a.store.state() == server.state());
    CHECK(resync_test::no_duplicate_uploads(server));
    CHECK(a.session().resets_completed() == 1);
}

TEMPLATE_LIST_TEST_CASE("under RecoverAll a second client of the restored server sees every recovered change, "
                        "acknowledged-then-lost ones included, exactly once",
                        "[scenario][recovery][restore][recover-all]", resync_test::ScenarioStores) {
    using S = TestType;
    World<S, resync::doc::RecoverAll> w(Path::reconnects, Restored::moved_past_client);
    REQUIRE(w.a.sync() == SessionState::syncing);
    REQUIRE(w.a.session().last_report()->lost_acknowledged == 2);

    Peer<resync::doc::RecoverAll, resync_test::Loopback, S> c(w.server, 3, {}, resync_test::options_in(w.dir), 13);
    REQUIRE(c.sync() == SessionState::syncing);
    INFO("c:\n" << resync_test::to_text(c.store.state()) << "server:\n" << resync_test::to_text(w.server.state()));
    CHECK(c.store.state() == w.server.state());
    CHECK(c.store.state() == w.a.store.state());
    CHECK(c.store.get("items", "counter", "c") == num(16));
    CHECK(c.store.get("items", "lost", "n") == num(2));
    CHECK(c.session().resets_completed() == 0);
    // The recovered acknowledged changes and the unsynced ones were uploaded under the new ident,
    // each changeset once, keeping their client versions (2 and 3 lost, 4 to 7 unsynced).
    const auto keys = resync_test::history_keys(w.server);
    std::vector<resync::ClientVersion> mine;
    for (const auto& [key, n] : keys)
        if (key.first == w.a.ident()) mine.push_back(key.second);
    CHECK(mine == std::vector<resync::ClientVersion>{2, 3, 4, 5, 6, 7});
}

TEMPLATE_LIST_TEST_CASE("RecoverAll recovers nothing twice when the server restore lost none of the client's "
                        "acknowledged changes",
                        "[scenario][recovery][restore][recover-all]", resync_test::ScenarioStores) {
    using S = TestType;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<resync::doc::RecoverAll, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "one", "n", 4); }));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup(); // taken after everything A wrote
    Peer<resync::doc::RecoverAll, resync_test::Loopback, S> b(server, 2, {}, resync_test::options_in(dir), 11);
    b.put("items", "two", "n", num(2));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing); // A has seen B's change: its cursor is ahead of the backup
    server.restore(backup);
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "one", "n", 10); }));

    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == ResetReason::server_rollback);
    CHECK(a.session().last_report()->lost_acknowledged == 0);
    CHECK(server.state().get("items", "one", "n") == num(15));
    CHECK(server.state().find("items", "two") == nullptr); // B's change was lost with the restore; B is not here
    CHECK(a.store.state() == server.state());
    CHECK(resync_test::no_duplicate_uploads(server));
}

} // namespace RESYNC_TEST_FILE
