// Scenario, on the game world: the player is offline longer than the match server keeps history;
// the server compacts its history past the client's cursor. The client resets as expired under
// RecoverOrDiscard and its offline pickups land on the server's current world.

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
using resync::SessionState;

TEST_CASE("game world, client expired: a player offline past the server's compacted history resets and its offline "
          "pickups land on the server's current world",
          "[game][scenario][expired]") {
    game_test::Server server;
    game_test::GameClient<resync::RecoverOrDiscard<game::GameRules>> a(server);
    game_test::GameClient<resync::RecoverOrDiscard<game::GameRules>> b(server, {}, {}, 11);
    game_test::start_match(server);
    REQUIRE(a.sync() == SessionState::syncing);
    const auto cursor = a.store.sync_state().download;

    a.link.go_offline();
    // Meanwhile another player loots gold, and the server moves the monster; then it compacts.
    REQUIRE(b.sync() == SessionState::syncing);
    for (int i = 0; i < 3; ++i) {
        b.write({game::pick_up(player, gold, 1)});
        REQUIRE(b.sync() == SessionState::syncing);
    }
    server.write({game::move_to(monster, {4, 4})});
    server.compact(server.latest().version);
    REQUIRE(server.history_floor() > cursor.version);
    a.write({game::pick_up(player, arrows, 4)});
    a.write({game::pick_up(player, arrows, 1), game::set_health(monster, 30)});
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);

    INFO("client:\n" << game_test::to_text(a.world()) << "server:\n" << game_test::to_text(server.state()));
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 4 + 1);
    CHECK(s.count(player, gold) == 5 + 3);
    CHECK(game_test::position_of(s, monster) == game::Position{4, 4});
    CHECK(s.health[*s.find(monster)] == 30); // the local health wins
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());

    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.trigger.reason == resync::ResetReason::client_expired);
    CHECK(r.trigger.client_position == cursor);
    CHECK(r.trigger.recovery_allowed);
    CHECK(r.count(resync::OperationFate::recovered) == 3);
    CHECK(r.operations.size() == 3);
    CHECK(a.store.quarantined().empty());
    CHECK(b.sync() == SessionState::syncing);
    CHECK(b.world() == s);
}

} // namespace RESYNC_TEST_FILE
