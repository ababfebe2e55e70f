// GameStore (examples/game_world/game_world.hpp) against the Store contract, by hand: local
// writes, server changesets integrated under the local ones, its own changesets coming back,
// acknowledgements, bad input that changes nothing, the reset commit, and retention.

#include <support/game_world.hpp>

#include <game_world/game_world.hpp>

#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/reset_commit.hpp>
#include <resync/sync_state.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using game::GameStore;
using game::Op;
using game_test::arrows;
using game_test::player;
using Remote = resync::RemoteChangeset<Op>;
using Acks = std::vector<std::pair<resync::ClientVersion, std::uint64_t>>;

constexpr resync::ClientIdent me = 5;

/// A store that has synced the server's spawn of the player at version 1, as client `me`.
GameStore synced_store() {
    GameStore s;
    resync::SyncState state;
    state.client_ident = me;
    state.epoch = 9;
    REQUIRE_FALSE(s.write_sync_state(state));
    const std::vector<Remote> spawn{{1, 111, 0, 0, {game::spawn(player, {0, 0})}}};
    REQUIRE_FALSE(s.integrate(spawn));
    return s;
}

struct Image {
    game::World world;
    std::vector<resync::LocalChangeset<Op>> unsynced, acknowledged;
    resync::SyncState sync;
    friend bool operator==(const Image&, const Image&) = default;
};
Image image_of(const GameStore& s) { return {s.world(), s.unsynced(), s.acknowledged_after(0), s.sync_state()}; }

} // namespace

TEST_CASE("a game store applies local writes at once and lists them as unsynced, oldest first", "[game][store]") {
    GameStore s = synced_store();
    CHECK(s.write({}) == 0);
    CHECK(s.write({game::pick_up(player, arrows, 3)}) == 1);
    CHECK(s.write({game::move_to(player, {2, 0}), game::pick_up(player, arrows, 1)}) == 2);
    CHECK(s.world().count(player, arrows) == 4);
    CHECK(game_test::position_of(s.world(), player) == game::Position{2, 0});
    const auto unsynced = s.unsynced();
    REQUIRE(unsynced.size() == 2);
    CHECK(unsynced[0].client_version == 1);
    CHECK(unsynced[1].ops.size() == 2);
    CHECK(s.acknowledged_after(0).empty());
    CHECK(s.live_view() == s.world());
    CHECK(s.export_snapshot() == s.world());
}

TEST_CASE("a game store integrates server changesets under its local ones, and its own coming back into the base",
          "[game][store]") {
    GameStore s = synced_store();
    REQUIRE(s.write({game::pick_up(player, arrows, 3)}) == 1);
    REQUIRE(s.write({game::move_to(player, {1, 1})}) == 2);

    // Another client's pickup and move land first on the server: the local ones replay on top.
    const std::vector<Remote> theirs{{2, 222, 8, 1, {game::pick_up(player, arrows, 10), game::move_to(player, {5, 5})}}};
    REQUIRE_FALSE(s.integrate(theirs));
    CHECK(s.world().count(player, arrows) == 13);
    CHECK(game_test::position_of(s.world(), player) == game::Position{1, 1});
    CHECK(s.unsynced().size() == 2);
    CHECK(s.sync_state().download == resync::ServerPosition{2, 222});

    // The server acknowledges the first, then sends both back.
    const Acks acks{{1, 3}};
    REQUIRE_FALSE(s.acknowledge(1, acks));
    CHECK(s.unsynced().size() == 1);
    CHECK(s.sync_state().upload_acked == 1);
    const std::vector<Remote> mine{{3, 333, me, 1, {game::pick_up(player, arrows, 3)}},
                                   {4, 444, me, 2, {game::move_to(player, {1, 1})}}};
    REQUIRE_FALSE(s.integrate(mine));
    CHECK(s.unsynced().empty());
    CHECK(s.sync_state().upload_acked == 2);
    CHECK(s.world().count(player, arrows) == 13);
    const auto acked = s.acknowledged_after(0);
    REQUIRE(acked.size() == 2);
    CHECK(acked[0].server_version == 3);
    CHECK(acked[1].server_version == 4);
    CHECK(s.acknowledged_after(3).size() == 1);
}

TEST_CASE("a game store refuses impossible server input and acknowledgements, and changes nothing", "[game][store]") {
    GameStore s = synced_store();
    REQUIRE(s.write({game::pick_up(player, arrows, 3)}) == 1);
    const Image before = image_of(s);

    const std::vector<Remote> stale{{1, 111, 0, 0, {game::despawn(player)}}};
    CHECK(s.integrate(stale) == resync::errc::impossible_position);
    const std::vector<Remote> out_of_order{{3, 3, 0, 0, {game::despawn(player)}}, {2, 2, 0, 0, {}}};
    CHECK(s.integrate(out_of_order) == resync::errc::impossible_position);
    const std::vector<Remote> not_mine_yet{{2, 2, 0, 0, {game::despawn(player)}}, {3, 3, me, 7, {}}};
    CHECK(s.integrate(not_mine_yet) == resync::errc::impossible_position);
    CHECK(s.acknowledge(2, Acks{}) == resync::errc::impossible_position);
    CHECK(s.acknowledge(1, Acks{{2, 9}}) == resync::errc::impossible_position);
    CHECK(s.acknowledge(1, Acks{{1, 0}}) == resync::errc::impossible_position);
    CHECK(image_of(s) == before);
}

TEST_CASE("a game store's reset commit installs the fresh world with the recovered changes on top, keeps the "
          "quarantine and hands back the world before",
          "[game][store]") {
    GameStore s = synced_store();
    REQUIRE(s.write({game::pick_up(player, arrows, 3)}) == 1);
    const game::World old = s.world();

    game::World fresh;
    game::GameModel::apply(fresh, game::spawn(player, {4, 4}));
    game::GameModel::apply(fresh, game::pick_up(player, game_test::gold, 10));
    resync::ResetCommit<game::World, Op> commit{fresh, {{7, 0, {game::pick_up(player, arrows, 3)}}}, {}, {}};
    commit.sync_state.client_ident = 6;
    commit.sync_state.download = {20, 2020};
    commit.quarantine.push_back({1, 0, game::move_to(player, {9, 9}), "the server's position wins",
                                 resync::ResetReason::server_rollback, 1});
    auto before = s.commit_reset(std::move(commit));
    REQUIRE(before);
    CHECK(*before == old);
    CHECK(s.world().count(player, arrows) == 3);
    CHECK(s.world().count(player, game_test::gold) == 10);
    CHECK(game_test::position_of(s.world(), player) == game::Position{4, 4});
    REQUIRE(s.unsynced().size() == 1);
    CHECK(s.unsynced()[0].client_version == 7);
    CHECK(s.sync_state().client_ident == 6);
    REQUIRE(s.quarantined().size() == 1);
    CHECK(s.quarantined()[0].operation == game::move_to(player, {9, 9}));
    CHECK(s.write({game::use_up(player, arrows, 1)}) == 8); // versions go on after the recovered ones

    // The server sends the fresh world's next change: integrated under the two local changes.
    const std::vector<Remote> next{{21, 2121, 0, 0, {game::pick_up(player, arrows, 1)}}};
    REQUIRE_FALSE(s.integrate(next));
    CHECK(s.world().count(player, arrows) == 3);
}

TEST_CASE("a game store keeps the last 1024 acknowledged changesets for rollback-aware recovery", "[game][store]") {
    GameStore s = synced_store();
    std::vector<Remote> back;
    for (resync::ClientVersion v = 1; v <= 1100; ++v) {
        REQUIRE(s.write({game::pick_up(player, arrows, 1)}) == v);
        back.push_back({v + 1, v, me, v, {game::pick_up(player, arrows, 1)}});
    }
    REQUIRE_FALSE(s.integrate(back));
    CHECK(s.unsynced().empty());
    const auto kept = s.acknowledged_after(0);
    REQUIRE(kept.size() == 1024);
    CHECK(kept.front().client_version == 1100 - 1023);
    CHECK(s.world().count(player, arrows) == 1100);
}

} // namespace RESYNC_TEST_FILE
