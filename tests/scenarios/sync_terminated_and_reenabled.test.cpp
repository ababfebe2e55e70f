// Scenario: sync is terminated and re-enabled on the server. The data is kept, but the history
// starts over in a new epoch and every client is forgotten. A client must reset (recovery is
// allowed: the schema still fits) and end in the new epoch, equal to the server.

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

TEMPLATE_LIST_TEST_CASE("a client that comes back after sync was terminated and re-enabled resets for the new epoch, "
                   "with recovery allowed, and ends equal to the server", "[scenario][epoch]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server, resync_test::make_policy<P>(dir), resync_test::options_in(dir));
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> b(server, {}, resync_test::options_in(dir), 11);

    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    b.put("items", "two", "n", num(2));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_epoch = server.epoch();
    const auto old_ident = a.ident();
    REQUIRE(a.store.sync_state().epoch == old_epoch);

    a.link().go_offline();
    server.terminate_and_reenable();
    REQUIRE(server.epoch() != old_epoch);
    REQUIRE(server.latest().version <= 1); // a new epoch: at most the entry that starts it
    REQUIRE_FALSE(server.knows_client(old_ident));
    // After the re-enable, the server goes on with another client's write in the new epoch.
    b.restart();
    REQUIRE(b.sync() == SessionState::syncing);
    b.put("items", "three", "n", num(3));
    REQUIRE(b.sync() == SessionState::syncing);
    CHECK(b.session().last_report()->trigger.reason == ResetReason::epoch_changed);

    a.put("items", "local", "note", str("unsynced"));
    const auto before = resync_test::image_of(a.store);
    a.link().go_online();

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    const SessionState stopped_at = a.sync();

    REQUIRE(a.session().last_report().has_value());
    const resync::ResetTrigger& trigger = a.session().last_report()->trigger;
    CHECK(trigger.reason == ResetReason::epoch_changed);
    CHECK(trigger.recovery_allowed);
    CHECK(trigger.server_error.code == 0);
    CHECK(trigger.client_epoch == old_epoch);
    CHECK(trigger.server_epoch == server.epoch());

    if constexpr (std::is_same_v<P, resync::Manual>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        REQUIRE(requests.size() == 1);
        CHECK(requests.front().trigger.reason == ResetReason::epoch_changed);
        CHECK(requests.front().trigger.recovery_allowed);
        auto contents = resync_test::read_backup<S>(requests.front().backup_path);
        REQUIRE(contents);
        CHECK(contents->state == before.state);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(contents->sync_state.epoch == old_epoch);
        CHECK(resync_test::image_of(a.store, false) == before);
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
        CHECK(a.session().last_report()->mode_used == resync::ResetMode::manual);
    } else {
        CHECK(stopped_at == SessionState::syncing);
        CHECK(requests.empty());
        CHECK(a.session().last_report()->mode_used == resync::ResetMode::discard);
        // Discarded into the store's quarantine: the keeping rule, with no backup file to hold them.
        CHECK(a.session().last_report()->count(resync::OperationFate::quarantined) == 2);
        CHECK(a.store.quarantined().size() == 2);
    }

    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(a.store.state() == server.state());
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.sync_state().epoch == server.epoch());
    CHECK(a.store.sync_state().download == server.latest());
    CHECK(a.ident() != old_ident);
    CHECK(server.knows_client(a.ident()));
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    // The data survived the re-enable; the unsynced change did not reach the server.
    CHECK(a.store.get("items", "one", "n") == num(1));
    CHECK(a.store.get("items", "two", "n") == num(2));
    CHECK(a.store.get("items", "three", "n") == num(3));
    CHECK(server.state().find("items", "local") == nullptr);

    // And the client syncs normally in the new epoch.
    a.put("items", "after", "n", num(4));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(b.sync() == SessionState::syncing);
    CHECK(a.store.state() == server.state());
    CHECK(b.store.state() == server.state());
    CHECK(a.session().resets_completed() == 1);
}

TEMPLATE_LIST_TEST_CASE("a client that stays connected through a terminate-and-re-enable is told the server forgot it (208) and "
          "resets with recovery allowed", "[scenario][epoch]", resync_test::ScenarioStores) {
    using S = TestType;
    // The reference server forgets every client on a re-enable and checks the ident before
    // anything else, so a connection that survives the re-enable hears 208 on its next request;
    // the new epoch is adopted with the fresh copy.
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> a(server);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_epoch = server.epoch();

    server.terminate_and_reenable();
    a.put("items", "local", "note", str("unsynced"));
    REQUIRE(a.sync() == SessionState::syncing);

    REQUIRE(a.session().last_report().has_value());
    const resync::ResetTrigger& trigger = a.session().last_report()->trigger;
    CHECK(trigger.reason == ResetReason::client_unknown);
    CHECK(trigger.server_error.code == resync::server_code::bad_client_file_ident);
    CHECK(trigger.recovery_allowed);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.sync_state().epoch == server.epoch());
    CHECK(a.store.sync_state().epoch != old_epoch);
    CHECK(a.store.state() == server.state());
    CHECK(a.store.get("items", "one", "n") == num(1));
    CHECK(a.store.state().find("items", "local") == nullptr);
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
}

} // namespace RESYNC_TEST_FILE
