// Scenario: the client is offline longer than the server keeps history; the server compacts
// its history past the client's cursor. The client must reset (client expired, recovery
// allowed) and end equal to the server. Run under DiscardUnsynced and Manual.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::ResetReason;
using resync::SessionState;
using resync_test::num;
using resync_test::Replica;
using resync_test::str;

using Cases1 = resync_test::OnEveryStore<resync::DiscardUnsynced, resync::Manual>;

TEMPLATE_LIST_TEST_CASE("a client offline while the server compacted its history past the client's cursor resets as "
                   "expired and ends equal to the server", "[scenario][expired]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server, resync_test::make_policy<P>(dir), resync_test::options_in(dir));
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> b(server, {}, resync_test::options_in(dir), 11);

    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto cursor = a.store.sync_state().download;
    const auto old_ident = a.ident();
    REQUIRE(cursor.version == 1);

    a.link().go_offline();
    for (int i = 0; i < 4; ++i) {
        b.put("items", "b" + std::to_string(i), "n", num(10 + i));
        REQUIRE(b.sync() == SessionState::syncing);
    }
    server.write({resync::doc::SetField{"items", "one", "n", num(100)}});
    REQUIRE(server.latest().version == 6);
    server.compact(4);
    REQUIRE(server.history_floor() == 4);
    a.put("items", "local", "note", str("unsynced"));
    const auto before = resync_test::image_of(a.store);
    a.link().go_online();

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    const SessionState stopped_at = a.sync();

    REQUIRE(a.session().last_report().has_value());
    const resync::ResetTrigger& trigger = a.session().last_report()->trigger;
    CHECK(trigger.reason == ResetReason::client_expired);
    CHECK(trigger.recovery_allowed);
    CHECK(trigger.server_error.code == 0);
    CHECK(trigger.client_position == cursor);
    CHECK(trigger.server_position == server.latest());

    if constexpr (std::is_same_v<P, resync::Manual>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        REQUIRE(requests.size() == 1);
        CHECK(requests.front().trigger.reason == ResetReason::client_expired);
        auto contents = resync_test::read_backup<S>(requests.front().backup_path);
        REQUIRE(contents);
        CHECK(contents->state == before.state);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(resync_test::image_of(a.store, false) == before);
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
    } else {
        CHECK(stopped_at == SessionState::syncing);
        CHECK(requests.empty());
        // Discarded into the store's quarantine (the keeping rule).
        CHECK(a.session().last_report()->count(resync::OperationFate::quarantined) == 2);
    }

    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(a.store.state() == server.state());
    CHECK(a.store.get("items", "one", "n") == num(100));
    CHECK(a.store.get("items", "b3", "n") == num(13));
    CHECK(a.store.state().find("items", "local") == nullptr);
    CHECK(server.state().find("items", "local") == nullptr);
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.sync_state().download == server.latest());
    CHECK(a.ident() != old_ident);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    // The other client, which kept up, was never reset.
    REQUIRE(b.sync() == SessionState::syncing);
    CHECK(b.session().resets_completed() == 0);
    CHECK(b.store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("a connected client whose cursor the server compacted away is told so (222) and resets as expired", "[scenario][expired]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> a(server);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    for (int i = 0; i < 3; ++i) server.write({resync::doc::CreateObject{"items", "s" + std::to_string(i)}});
    server.compact(3);
    a.put("items", "local", "note", str("unsynced"));
    REQUIRE(a.sync() == SessionState::syncing);

    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == ResetReason::client_expired);
    CHECK(a.session().last_report()->trigger.server_error.code == resync::server_code::client_file_expired);
    CHECK(a.session().last_report()->trigger.recovery_allowed);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.state() == server.state());
    CHECK(a.store.state().find("items", "s2") != nullptr);
    CHECK(a.store.state().find("items", "local") == nullptr);
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
}

} // namespace RESYNC_TEST_FILE
