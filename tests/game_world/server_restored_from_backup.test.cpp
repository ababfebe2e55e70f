// Scenario, on the game world: the match server is restored from a backup while the player is
// offline. Under RecoverOrDiscard the offline pickups are recovered onto the restored server as
// deltas, the offline moves and the hit on a monster the server despawned are dropped into the
// quarantine, and the pickup the server had acknowledged after its backup is reported lost and
// kept in the quarantine; under RecoverAll that pickup comes back too.

#include <support/game_world.hpp>

#include <game_world/game_world.hpp>

#include <resync/quarantine.hpp>
#include <resync/report.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/trigger.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using game_test::arrows;
using game_test::GameClient;
using game_test::gold;
using game_test::monster;
using game_test::player;
using game_test::potions;
using resync::OperationFate;
using resync::SessionState;

/// The match: the player picks up 3 arrows (synced; in the server's backup), then 2 arrows and a
/// step east (synced and acknowledged after the backup, so the restore loses them); offline, 4
/// arrows, a potion, a step and a hit on the monster. The server is restored, then grants 10 gold
/// and despawns the monster (another player slew it). The client comes back online.
template <class P>
void play_through_a_restore(game_test::Server& server, GameClient<P>& a) {
    game_test::start_match(server);
    REQUIRE(a.sync() == SessionState::syncing);
    a.write({game::pick_up(player, arrows, 3)});
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.write({game::pick_up(player, arrows, 2), game::move_to(player, {1, 0})});
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.unsynced().empty());
    REQUIRE(server.state().count(player, arrows) == 5);

    a.link.go_offline();
    a.write({game::pick_up(player, arrows, 4)});
    a.write({game::pick_up(player, potions, 1), game::move_to(player, {2, 0})});
    a.write({game::set_health(monster, 40)});
    server.restore(backup);
    server.write({game::pick_up(player, gold, 10), game::despawn(monster)});
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);
}

bool quarantined(const game::GameStore& s, const game::Op& op) {
    return std::any_of(s.quarantined().begin(), s.quarantined().end(), [&](const auto& q) {
        return q.operation == op && q.cause == resync::ResetReason::diverging_history && !q.reason.empty();
    });
}

} // namespace

TEST_CASE("game world, server restored from a backup, RecoverOrDiscard: the offline pickups land on the restored "
          "server as deltas, moves and the hit on a despawned monster are dropped, the lost pickup is quarantined",
          "[game][scenario][restore]") {
    game_test::Server server;
    GameClient<resync::RecoverOrDiscard<game::GameRules>> a(server);
    play_through_a_restore(server, a);

    INFO("client:\n" << game_test::to_text(a.world()) << "server:\n" << game_test::to_text(server.state()));
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 3 + 4);
    CHECK(s.count(player, potions) == 1);
    CHECK(s.count(player, gold) == 5 + 10);
    CHECK(game_test::position_of(s, player) == game::Position{0, 0}); // the server's, as restored
    CHECK(s.entities == std::vector<game::Entity>{player});           // the monster stays gone
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());

    REQUIRE(a.session.last_report().has_value());
    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.outcome == resync::ResetOutcome::completed);
    CHECK(r.trigger.reason == resync::ResetReason::diverging_history);
    CHECK(r.mode_used == resync::ResetMode::recover);
    CHECK(r.unsynced_operations == 4);
    CHECK(r.lost_acknowledged == 1);
    CHECK(r.count(OperationFate::recovered) == 2);      // 4 arrows, 1 potion
    CHECK(r.count(OperationFate::quarantined) == 2);    // the offline step, the hit
    CHECK(r.count(OperationFate::lost_on_server) == 2); // 2 arrows and a step, acknowledged then lost
    REQUIRE(a.store.quarantined().size() == 4);
    CHECK(quarantined(a.store, game::pick_up(player, arrows, 2)));
    CHECK(quarantined(a.store, game::move_to(player, {1, 0})));
    CHECK(quarantined(a.store, game::move_to(player, {2, 0})));
    CHECK(quarantined(a.store, game::set_health(monster, 40)));
}

TEST_CASE("game world, server restored from a backup, RecoverAll: the pickup the server acknowledged and lost in the "
          "restore comes back with the offline ones",
          "[game][scenario][restore]") {
    game_test::Server server;
    GameClient<resync::RecoverAll<game::GameRules>> a(server);
    play_through_a_restore(server, a);

    INFO("client:\n" << game_test::to_text(a.world()) << "server:\n" << game_test::to_text(server.state()));
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 3 + 2 + 4);
    CHECK(s.count(player, potions) == 1);
    CHECK(s.count(player, gold) == 5 + 10);
    CHECK(game_test::position_of(s, player) == game::Position{0, 0});
    CHECK(s.entities == std::vector<game::Entity>{player});
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());

    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.outcome == resync::ResetOutcome::completed);
    CHECK(r.lost_acknowledged == 1);
    CHECK(r.count(OperationFate::lost_on_server) == 0);
    CHECK(r.count(OperationFate::recovered) == 3);   // 2 arrows (healed), 4 arrows, 1 potion
    CHECK(r.count(OperationFate::quarantined) == 3); // both steps, the hit
    REQUIRE(a.store.quarantined().size() == 3);
    CHECK(quarantined(a.store, game::move_to(player, {1, 0})));
    CHECK(quarantined(a.store, game::move_to(player, {2, 0})));
    CHECK(quarantined(a.store, game::set_health(monster, 40)));
}

} // namespace RESYNC_TEST_FILE
