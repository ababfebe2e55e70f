#pragma once
// Shared helpers for the tests of the game-world example (examples/game_world/game_world.hpp): a
// game client (GameStore, loopback link and session) on a testing::Server<GameModel>, the names
// of the match's entities and items, and a seeded generator of random worlds and operations.

#include <game_world/game_world.hpp>

#include <resync/session_options.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace game_test {

using Server = resync::testing::Server<game::GameModel>;
using Link = resync::testing::LoopbackTransport<game::GameModel>;

constexpr game::Entity player = 1, monster = 7;
constexpr game::Item arrows = 1, potions = 2, gold = 3;

/// One game client: its store, its link to the match server and its session.
template <class Policy, class Store = game::GameStore>
struct GameClient {
    Store store;
    Link link;
    resync::SyncSession<Store, Link, Policy> session;

    explicit GameClient(Server& server, Policy policy = {}, resync::SessionOptions options = {},
                        std::uint64_t link_seed = 7)
        : link(server, link_seed), session(store, link, std::move(policy), std::move(options)) {}

    resync::ClientVersion write(std::vector<game::Op> ops) { return store.write(std::move(ops)); }
    resync::SessionState sync(std::size_t max_polls = 20000) { return session.run_until_idle(max_polls); }
    const game::World& world() const { return store.world(); }
};

/// The match every scenario starts from: the server spawns the player (at the origin, with 5
/// gold) and a monster; the client joins and syncs.
inline void start_match(Server& server) {
    server.write({game::spawn(player, {0, 0}), game::pick_up(player, gold, 5), game::spawn(monster, {9, 0})});
}

/// Where an entity stands, or {-1, -1} when the world lacks it.
inline game::Position position_of(const game::World& w, game::Entity e) {
    const auto at = w.find(e);
    return at ? w.position[*at] : game::Position{-1, -1};
}

/// A short text rendering of a world, for failure messages.
inline std::string to_text(const game::World& w) {
    std::string out;
    for (std::size_t i = 0; i < w.entities.size(); ++i) {
        out += "entity " + std::to_string(w.entities[i]) + " at (" + std::to_string(w.position[i].x) + "," +
               std::to_string(w.position[i].y) + ") health " + std::to_string(w.health[i]) + " items {";
        for (const auto& [item, n] : w.inventory[i]) out += " " + std::to_string(item) + ":" + std::to_string(n);
        out += " }\n";
    }
    return out.empty() ? std::string("(empty)\n") : out;
}

/// Random operations on a handful of entities (ids 1 to `entities`), items 1 to 3: spawns,
/// despawns, moves, health, pickups and use-ups, with a fixed seed.
class RandomGame {
public:
    explicit RandomGame(std::uint64_t seed, game::Entity entities = 8) : rng_(seed), entities_(entities) {}

    game::Op op() {
        const game::Entity e = pick(1, entities_);
        const auto n = static_cast<std::int32_t>(pick(1, 6));
        switch (pick(0, 9)) {
        case 0: return game::spawn(e, position());
        case 1: return game::despawn(e);
        case 2:
        case 3: return game::move_to(e, position());
        case 4: return game::set_health(e, static_cast<std::int32_t>(pick(0, 100)));
        case 5:
        case 6:
        case 7: return game::pick_up(e, item(), n);
        default: return game::use_up(e, item(), n);
        }
    }

    /// A world: most entities spawned, then `changes` random operations applied.
    game::World world(int changes) {
        game::World w;
        for (game::Entity e = 1; e <= entities_; ++e)
            if (pick(0, 3) != 0) game::GameModel::apply(w, game::spawn(e, position()));
        for (int i = 0; i < changes; ++i) game::GameModel::apply(w, op());
        return w;
    }

    std::uint32_t pick(std::uint32_t lo, std::uint32_t hi) { return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_); }

private:
    game::Position position() {
        return {static_cast<std::int32_t>(pick(0, 20)) - 10, static_cast<std::int32_t>(pick(0, 20)) - 10};
    }
    game::Item item() { return static_cast<game::Item>(pick(1, 3)); }

    std::mt19937_64 rng_;
    game::Entity entities_;
};

} // namespace game_test
