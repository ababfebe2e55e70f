// Scenario, on the game world: sync is terminated and re-enabled on the match server (a new
// epoch, its data kept, every client forgotten) while the player is offline. The client resets
// into the new epoch under RecoverOrDiscard and its offline pickups land on the server's world.

#include <support/game_world.hpp>

#include <game_world/game_world.hpp>

#include <resync/report.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/trigger.hpp>

#include <catch2/catch.hpp>

#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using game_test::arrows;
using game_test::gold;
using game_test::monster;
using game_test::player;
using game_test::potions;
using resync::SessionState;

TEST_CASE("game world, sync terminated and re-enabled: the client resets into the new epoch and its offline pickups "
          "land on the server's kept world",
          "[game][scenario][epoch]") {
    game_test::Server server;
    game_test::GameClient<resync::RecoverOrDiscard<game::GameRules>> a(server);
    game_test::start_match(server);
    REQUIRE(a.sync() == SessionState::syncing);
    a.write({game::pick_up(player, arrows, 3)});
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_epoch = server.epoch();
    const auto old_ident = a.store.sync_state().client_ident;

    a.link.go_offline();
    a.write({game::pick_up(player, arrows, 4), game::move_to(player, {3, 0})});
    a.write({game::pick_up(player, potions, 2)});
    a.write({game::use_up(player, potions, 1)});
    server.terminate_and_reenable();
    server.write({game::pick_up(player, gold, 1), game::move_to(monster, {8, 1})});
    REQUIRE(server.epoch() != old_epoch);
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);

    INFO("client:\n" << game_test::to_text(a.world()) << "server:\n" << game_test::to_text(server.state()));
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 3 + 4);
    CHECK(s.count(player, potions) == 2 - 1);
    CHECK(s.count(player, gold) == 5 + 1);
    CHECK(game_test::position_of(s, player) == game::Position{0, 0});
    CHECK(game_test::position_of(s, monster) == game::Position{8, 1});
    CHECK(s.entities == std::vector<game::Entity>{player, monster});
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());
    CHECK(a.store.sync_state().epoch == server.epoch());
    CHECK(a.store.sync_state().client_ident != old_ident);
    CHECK(server.knows_client(a.store.sync_state().client_ident));

    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.trigger.reason == resync::ResetReason::epoch_changed);
    CHECK(r.trigger.recovery_allowed);
    CHECK(r.mode_used == resync::ResetMode::recover);
    CHECK(r.lost_acknowledged == 0); // another epoch: nothing to ask the server about
    CHECK(r.count(resync::OperationFate::recovered) == 3);
    CHECK(r.count(resync::OperationFate::quarantined) == 1); // the offline step
    REQUIRE(a.store.quarantined().size() == 1);
    CHECK(a.store.quarantined()[0].operation == game::move_to(player, {3, 0}));
    CHECK(a.store.quarantined()[0].cause == resync::ResetReason::epoch_changed);
}

} // namespace RESYNC_TEST_FILE
