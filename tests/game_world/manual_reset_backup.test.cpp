// Scenario, on the game world: a resync::Manual reset. The match server is restored from a backup
// while the player is offline; the client stops with a durable backup file (backup::File, in
// SessionOptions::backup_directory) that resync::restore_backup<GameModel> reads back with the
// world and the unsynced pickups, and touches nothing until the game executes the reset.

#include <support/game_world.hpp>
#include <support/temp_dir.hpp>

#include <game_world/game_world.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/doc/model.hpp> // only to read a game backup as the wrong model
#include <resync/error.hpp>
#include <resync/report.hpp>
#include <resync/reset_request.hpp>
#include <resync/session_options.hpp>
#include <resync/strategy/manual.hpp>
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

using game_test::arrows;
using game_test::gold;
using game_test::player;
using game_test::potions;
using resync::SessionState;

TEST_CASE("game world, Manual reset: the backup file in the session's backup directory holds the world and the "
          "unsynced pickups, read back with restore_backup<GameModel>, and the reset runs when the game says so",
          "[game][scenario][manual]") {
    resync_test::TempDir dir;
    resync::SessionOptions options;
    options.backup_directory = (dir.path() / "backups").string();
    game_test::Server server;
    game_test::GameClient<resync::Manual> a(server, resync::Manual{}, options);

    game_test::start_match(server);
    REQUIRE(a.sync() == SessionState::syncing);
    a.write({game::pick_up(player, arrows, 3)});
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.write({game::pick_up(player, gold, 2)}); // acknowledged, then lost in the restore
    REQUIRE(a.sync() == SessionState::syncing);
    a.link.go_offline();
    a.write({game::pick_up(player, arrows, 4)});
    a.write({game::pick_up(player, potions, 1), game::move_to(player, {2, 0})});
    server.restore(backup);
    const game::World before = a.world();
    const auto unsynced = a.store.unsynced();
    REQUIRE(unsynced.size() == 2);

    std::vector<resync::ResetRequest> requests;
    a.session.on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    a.link.go_online();
    REQUIRE(a.sync() == SessionState::awaiting_user);
    REQUIRE(requests.size() == 1);
    const std::filesystem::path path(requests.front().backup_path);
    CHECK(path.parent_path() == dir.path() / "backups");
    CHECK(requests.front().trigger.reason == resync::ResetReason::server_rollback);

    auto contents = resync::restore_backup<game::GameModel>(path.string());
    REQUIRE(contents);
    CHECK(contents->state == before);
    CHECK(contents->state.count(player, arrows) == 3 + 4);
    CHECK(contents->state.count(player, gold) == 5 + 2);
    CHECK(contents->unsynced == unsynced);
    CHECK(contents->unsynced[0].ops == std::vector<game::Op>{game::pick_up(player, arrows, 4)});
    CHECK(contents->trigger.reason == resync::ResetReason::server_rollback);
    CHECK(contents->sync_state.client_ident == a.store.sync_state().client_ident);
    // The file is the game model's: read as the document model's (restore_backup's default, which
    // needs <resync/doc/model.hpp>), it is an error, never a crash.
    CHECK(resync::restore_backup(path.string()).error() == resync::errc::backup_corrupt);

    // Nothing is touched while the request waits.
    for (int i = 0; i < 50; ++i) REQUIRE(a.session.poll() == SessionState::awaiting_user);
    CHECK(a.world() == before);
    CHECK(a.store.unsynced() == unsynced);

    REQUIRE_FALSE(a.session.execute_reset());
    REQUIRE(a.sync() == SessionState::syncing);
    const game::World& s = server.state();
    CHECK(s.count(player, arrows) == 3); // a manual reset discards: the pickups are in the file
    CHECK(s.count(player, potions) == 0);
    CHECK(s.count(player, gold) == 5);
    CHECK(a.world() == s);
    CHECK(a.store.unsynced().empty());
    CHECK(a.session.last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session.last_report()->backup_location == path.string());
    CHECK(std::filesystem::is_regular_file(path)); // the game's to keep
}

} // namespace RESYNC_TEST_FILE
