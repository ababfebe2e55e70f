// Scenario, on the game world: a destructive schema change on the match server (health becomes
// tenths of a point) while the player is offline. Recovery is not allowed: RecoverOrDiscard
// discards the offline pickups - kept in the store's quarantine, by the keeping rule. A store
// that keeps no quarantine gets them kept in a backup file in SessionOptions::backup_directory,
// and without one the session stops with errc::no_backup_directory, touching nothing.

#include <support/game_world.hpp>
#include <support/temp_dir.hpp>

#include <game_world/game_world.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/concepts/capabilities.hpp>
#include <resync/error.hpp>
#include <resync/report.hpp>
#include <resync/session_options.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/trigger.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using game_test::arrows;
using game_test::player;
using game_test::potions;
using resync::OperationFate;
using resync::SessionState;
using Policy = resync::RecoverOrDiscard<game::GameRules>;

/// The game store without its quarantine: what the keeping rule does with a store that keeps none.
struct StoreWithoutQuarantine : game::GameStore {
    using store_capabilities = resync::capabilities<resync::cap::live_view, resync::cap::acknowledged_history>;
};

const std::vector<game::Op> offline_pickups{game::pick_up(player, arrows, 4), game::pick_up(player, potions, 1)};

/// The player syncs 3 arrows, goes offline and picks up 4 arrows and a potion (two changesets);
/// the server changes its schema (health in tenths); the player comes back online.
template <class Client>
void play_through_a_schema_change(game_test::Server& server, Client& a) {
    game_test::start_match(server);
    REQUIRE(a.sync() == SessionState::syncing);
    a.write({game::pick_up(player, arrows, 3)});
    REQUIRE(a.sync() == SessionState::syncing);
    a.link.go_offline();
    a.write({offline_pickups[0]});
    a.write({offline_pickups[1]});
    server.change_schema([](game::World& w) {
        for (auto& h : w.health) h *= 10;
    });
}

} // namespace

TEST_CASE("game world, destructive schema change: recovery is not allowed, the offline pickups are discarded into "
          "the store's quarantine and the client takes the migrated world",
          "[game][scenario][schema]") {
    game_test::Server server;
    game_test::GameClient<Policy> a(server);
    play_through_a_schema_change(server, a);
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);

    INFO("client:\n" << game_test::to_text(a.world()) << "server:\n" << game_test::to_text(server.state()));
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 3);
    CHECK(s.count(player, potions) == 0);
    CHECK(s.health[*s.find(player)] == 1000);
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());
    CHECK(a.store.sync_state().schema_version == server.schema_version());

    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.trigger.reason == resync::ResetReason::schema_changed);
    CHECK_FALSE(r.trigger.recovery_allowed);
    CHECK(r.mode_requested == resync::ResetMode::recover);
    CHECK(r.mode_used == resync::ResetMode::discard);
    CHECK(r.operations.size() == 2);
    CHECK(r.count(OperationFate::quarantined) == 2);
    CHECK(r.keeping_location.empty()); // the quarantine holds them: no file needed

    REQUIRE(a.store.quarantined().size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& q = a.store.quarantined()[i];
        CHECK(q.operation == offline_pickups[i]);
        CHECK(q.index == 0);
        CHECK(q.cause == resync::ResetReason::schema_changed);
        CHECK_FALSE(q.reason.empty());
    }
}

TEST_CASE("game world, destructive schema change, a store without a quarantine: the discarded pickups are kept in a "
          "backup file in the session's backup directory, which restore_backup<GameModel> reads back",
          "[game][scenario][schema][keeping]") {
    resync_test::TempDir dir;
    resync::SessionOptions options;
    options.backup_directory = (dir.path() / "backups").string();
    game_test::Server server;
    game_test::GameClient<Policy, StoreWithoutQuarantine> a(server, {}, options);
    play_through_a_schema_change(server, a);
    const game::World before = a.world();
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::syncing);

    CHECK(server.state().count(player, arrows) == 3);
    CHECK(a.world() == server.state());
    const resync::ResetReport& r = *a.session.last_report();
    CHECK(r.mode_used == resync::ResetMode::discard);
    CHECK(r.count(OperationFate::discarded) == 2);
    REQUIRE_FALSE(r.keeping_location.empty());
    CHECK(std::filesystem::path(r.keeping_location).parent_path() == dir.path() / "backups");

    auto kept = resync::restore_backup<game::GameModel>(r.keeping_location);
    REQUIRE(kept);
    CHECK(kept->state == before);
    REQUIRE(kept->unsynced.size() == 2);
    CHECK(kept->unsynced[0].ops == std::vector<game::Op>{offline_pickups[0]});
    CHECK(kept->unsynced[1].ops == std::vector<game::Op>{offline_pickups[1]});
    CHECK(kept->trigger.reason == resync::ResetReason::schema_changed);
}

TEST_CASE("game world, destructive schema change, a store without a quarantine and no backup directory: the session "
          "stops with no_backup_directory and the world and the offline pickups are untouched",
          "[game][scenario][schema][keeping]") {
    game_test::Server server;
    game_test::GameClient<Policy, StoreWithoutQuarantine> a(server);
    play_through_a_schema_change(server, a);
    const game::World before = a.world();
    const auto unsynced = a.store.unsynced();
    a.link.go_online();

    CHECK(a.sync() == SessionState::stopped);
    CHECK(a.session.last_error() == resync::errc::no_backup_directory);
    CHECK(a.world() == before);
    CHECK(a.store.unsynced() == unsynced);
    CHECK(server.state().count(player, arrows) == 3);
    REQUIRE(a.session.last_report().has_value());
    CHECK(a.session.last_report()->outcome == resync::ResetOutcome::abandoned);
    CHECK(a.session.last_report()->failed_phase == resync::ResetPhase::commit);
}

} // namespace RESYNC_TEST_FILE
