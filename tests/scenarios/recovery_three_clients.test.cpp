// Scenario: Realm's three-client case. The server is restored from a backup; two clients with
// unsynced work (on a shared list, a shared counter and their own objects) reset one after the
// other and keep writing; a third joins with a new store and a fresh session. All three converge
// to the server's state, and no local change is lost or applied twice. Under RecoverAll the
// acknowledged changes the restore lost come back as well.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::ResetMode;
using resync::SessionState;
using resync_test::el;
using resync_test::list_values;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

std::vector<std::string> sorted_strings(const std::vector<resync::doc::Scalar>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) out.push_back(std::get<std::string>(v));
    std::sort(out.begin(), out.end());
    return out;
}

template <class Store>
void push(Store& s, const char* value) {
    REQUIRE(s.write([&](resync::doc::Writer& w) { w.list_push_back("lists", "l", "tags", el(value)); }));
}
template <class Store>
void add(Store& s, std::int64_t delta) {
    REQUIRE(s.write([&](resync::doc::Writer& w) { w.add("items", "counter", "c", delta); }));
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::Recover, resync::doc::RecoverOrDiscard, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("two clients reset after a server restore and keep writing, a third joins, and all three converge "
                        "with every local change on the server exactly once",
                        "[scenario][recovery][three-clients]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    constexpr bool all = std::is_same_v<P, resync::doc::RecoverAll>;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir), 7);
    Peer<P, resync_test::Loopback, S> b(server, 2, {}, resync_test::options_in(dir), 11);

    // Shared data, synced everywhere.
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.create("items", "counter").set("items", "counter", "c", num(0));
        w.create("lists", "l");
        w.list_push_back("lists", "l", "tags", el("a1"));
    }));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(b.sync() == SessionState::syncing);
    push(b.store, "b1");
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();

    // Acknowledged after the backup point by both; the restore loses it.
    push(a.store, "a-lost");
    add(a.store, 100);
    REQUIRE(a.sync() == SessionState::syncing);
    add(b.store, 1000);
    b.put("items", "b_lost", "n", num(1));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.state() == b.store.state());

    server.restore(backup);

    // Both work offline.
    add(a.store, 1);
    push(a.store, "a2");
    a.put("items", "shared", "by", str("a"));
    add(b.store, 10);
    push(b.store, "b2");
    b.put("items", "b_own", "n", num(2));

    // A resets, recovers, keeps writing.
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);
    CHECK(a.session().last_report()->mode_used == ResetMode::recover);
    // Both strategies see the two acknowledged changes the restore lost; RecoverAll re-applies
    // them, RecoverOrDiscard reports them and keeps them in the store's quarantine.
    CHECK(a.session().last_report()->lost_acknowledged == 2u);
    CHECK(a.session().last_report()->count(resync::OperationFate::lost_on_server) == (all ? 0u : 2u));
    CHECK(a.store.quarantined().size() == (all ? 0u : 2u));
    push(a.store, "a3");
    add(a.store, 2);
    REQUIRE(a.sync() == SessionState::syncing);

    // B resets (the server moved on with A's changes meanwhile), recovers, keeps writing.
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(b.session().resets_completed() == 1);
    CHECK(b.session().last_report()->mode_used == ResetMode::recover);
    CHECK(b.session().last_report()->lost_acknowledged == 2u);
    // B's: the add, and the create + set of b_lost.
    CHECK(b.session().last_report()->count(resync::OperationFate::lost_on_server) == (all ? 0u : 3u));
    CHECK(b.store.quarantined().size() == (all ? 0u : 3u));
    push(b.store, "b3");
    add(b.store, 20);
    b.put("items", "shared", "by", str("b"));
    REQUIRE(b.sync() == SessionState::syncing);

    // C joins: a new store, a fresh session; it writes once it has the data.
    Peer<P, resync_test::Loopback, S> c(server, 3, {}, resync_test::options_in(dir), 13);
    REQUIRE(c.sync() == SessionState::syncing);
    push(c.store, "c1");
    REQUIRE(c.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(b.sync() == SessionState::syncing);

    INFO("a:\n" << resync_test::to_text(a.store.state()) << "b:\n" << resync_test::to_text(b.store.state())
                << "c:\n" << resync_test::to_text(c.store.state()) << "server:\n"
                << resync_test::to_text(server.state()));
    CHECK(a.store.state() == server.state());
    CHECK(b.store.state() == server.state());
    CHECK(c.store.state() == server.state());
    CHECK(c.session().resets_completed() == 0);
    CHECK(a.session().resets_completed() == 1);
    CHECK(b.session().resets_completed() == 1);
    for (auto* s : {&a.store, &b.store, &c.store}) {
        CHECK(s->unsynced().empty());
        CHECK_FALSE(s->sync_state().pending_reset.has_value());
    }

    // No local change lost, none applied twice.
    CHECK(server.state().get("items", "counter", "c") == num(all ? 1 + 2 + 10 + 20 + 100 + 1000 : 1 + 2 + 10 + 20));
    std::vector<std::string> expected{"a1", "a2", "a3", "b1", "b2", "b3", "c1"};
    if (all) expected.push_back("a-lost");
    std::sort(expected.begin(), expected.end());
    CHECK(sorted_strings(list_values(server.state(), "lists", "l", "tags")) == expected);
    CHECK(server.state().get("items", "shared", "by") == str("b"));
    CHECK(server.state().get("items", "b_own", "n") == num(2));
    if (all) CHECK(server.state().get("items", "b_lost", "n") == num(1));
    else CHECK(server.state().find("items", "b_lost") == nullptr);
    CHECK(resync_test::no_duplicate_uploads(server));
    CHECK(resync_test::replay_history(server) == server.state());
}

} // namespace RESYNC_TEST_FILE
