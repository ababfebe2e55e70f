// Scenario: setting a whole list offline keeps element identity (Realm #7155's shape). The server
// erased B and another client inserted C: the server's list is [A, C]; offline, this client set the
// field to [A, B, X]. The reset must not bring B back nor lose C: the list ends with A, X and C,
// and the change is reported transformed, never "recovered" as a whole-list copy.

#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;

std::vector<std::string> values(const doc::State& s) {
    std::vector<std::string> out;
    const auto v = s.get("lists", "l", "tags");
    if (const auto* l = std::get_if<doc::List>(&v))
        for (const auto& e : l->elements) out.push_back(std::get<std::string>(e.value));
    return out;
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::RecoverOrDiscard, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("a whole-list set made offline is recovered by element identity: an element the server removed is "
                   "not resurrected, one another client added is not lost", "[scenario][recovery][lists][realm-7155]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    Server server;
    resync_test::Replica<P, resync_test::Loopback, S> a(server, P{}, resync_test::options_in(dir), 3);
    resync_test::Replica<P, resync_test::Loopback, S> other(server, P{}, resync_test::options_in(dir), 5);
    REQUIRE(a.store.write([](doc::Writer& w) {
        w.create("lists", "l");
        w.list_push_back("lists", "l", "tags", std::string("A"));
        w.list_push_back("lists", "l", "tags", std::string("B"));
    }));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(other.sync() == SessionState::syncing);
    const auto backup = server.backup();
    // The client moves on past the backup point, so the restore is a rollback for it.
    REQUIRE(a.store.write([](doc::Writer& w) { w.create("items", "after-backup"); }));
    REQUIRE(a.sync() == SessionState::syncing);

    // Offline, A's client sets the whole list to [A, B, X] (taking the list it has, adding X).
    a.link().go_offline();
    REQUIRE(a.store.write([](doc::Writer& w) {
        auto list = std::get<doc::List>(w.get("lists", "l", "tags"));
        list.elements.push_back(doc::Element{{}, std::string("X")});
        w.set("lists", "l", "tags", list);
    }));
    REQUIRE(values(a.store.state()) == std::vector<std::string>{"A", "B", "X"});
    // Meanwhile the server is restored (a reset is due), B is erased and C inserted by another client.
    server.restore(backup);
    const auto b_id = std::get<doc::List>(server.state().get("lists", "l", "tags")).elements[1].id;
    server.write({doc::ListErase{"lists", "l", "tags", b_id}});
    REQUIRE(other.sync() == SessionState::syncing);
    REQUIRE(other.store.write([](doc::Writer& w) { w.list_push_back("lists", "l", "tags", std::string("C")); }));
    REQUIRE(other.sync() == SessionState::syncing);
    REQUIRE(values(server.state()) == std::vector<std::string>{"A", "C"});

    a.link().go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);
    const auto& report = *a.session().last_report();
    INFO(resync::to_string(report));
    auto ends = values(server.state());
    INFO("server list: " << ends.size() << " elements");
    CHECK(std::count(ends.begin(), ends.end(), "A") == 1);
    CHECK(std::count(ends.begin(), ends.end(), "X") == 1);
    CHECK(std::count(ends.begin(), ends.end(), "C") == 1);
    CHECK(std::count(ends.begin(), ends.end(), "B") == 0); // never resurrected
    CHECK(ends.size() == 3);
    CHECK(ends.front() == "A");
    CHECK(values(a.store.state()) == ends);
    // Reported as what it was: not a whole-list copy "recovered" as it was.
    CHECK(report.count(resync::OperationFate::transformed) >= 1);
    REQUIRE(other.sync() == SessionState::syncing);
    CHECK(other.store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
