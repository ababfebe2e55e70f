// A game client across a match-server restore. The player walks and picks up items in a fixed-step
// loop (60 ticks per simulated second), synced to the match server through resync with one
// `session.poll()` per tick. The connection drops and the player plays on offline; meanwhile the
// match server crashes and is restored from its backup. Back online, the client detects the
// restore, resets with RecoverOrDiscard<GameRules>, and its offline pickups are recovered onto the
// restored server as deltas: the server's inventory ends exactly as the game expects.
#include "game_world.hpp"

#include <resync/report.hpp>
#include <resync/session_options.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>

namespace {

using game::Item;

constexpr int ticks_per_second = 60;
constexpr game::Entity player = 1, monster = 7;
constexpr Item arrows = 1, potions = 2, gold = 3;

// The match, scripted by tick.
constexpr int backup_at = 3 * ticks_per_second;  // the match server backs itself up
constexpr int offline_at = 4 * ticks_per_second; // the client's connection drops
constexpr int restore_at = 5 * ticks_per_second; // the match server crashes, restored from its backup
constexpr int grant_at = 330;                    // the restored server grants gold for the downtime
constexpr int slain_at = 340;                    // another player slays the monster on the server
constexpr int hit_at = 360;                      // the offline player hits the monster
constexpr int online_at = 7 * ticks_per_second;  // the connection is back
constexpr int end_at = 10 * ticks_per_second;
constexpr std::int32_t spawn_gold = 5, granted_gold = 10;

struct Pickup {
    int tick;
    Item item;
    std::int32_t count; ///< negative: used up
};
constexpr Pickup pickups[] = {{30, arrows, 3},  {90, potions, 1},  {150, arrows, 5}, {200, gold, 2},
                              {260, arrows, 3}, {320, potions, 1}, {350, potions, -1}, {380, arrows, 4}};

std::string name(Item item, std::int32_t n) {
    return item == arrows ? (n == 1 ? "arrow" : "arrows") : item == potions ? (n == 1 ? "potion" : "potions") : "gold";
}

std::ostream& at_tick(int tick) { return std::cout << "tick " << std::setw(3) << tick << "  "; }

std::string inventory(const game::World& world) {
    std::string s;
    for (Item item : {arrows, potions, gold}) {
        const std::int32_t n = world.count(player, item);
        s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + name(item, n);
    }
    return s;
}

} // namespace

int main() {
    using Link = resync::testing::LoopbackTransport<game::GameModel>;
    resync::testing::Server<game::GameModel> server; // the match server (its sync side)
    Link link(server);
    game::GameStore store; // the client's replica of the world
    resync::SyncSession<game::GameStore, Link, resync::RecoverOrDiscard<game::GameRules>> session(store, link);

    int tick = 0;
    session.on_after_reset([&](const game::World* before, const game::GameStore& after, const resync::ResetReport& r) {
        at_tick(tick) << "the client detects the restore and resets; the player moves back from x = "
                      << (before ? before->position[*before->find(player)].x : -1) << " to the server's x = "
                      << after.world().position[*after.world().find(player)].x << "\n"
                      << resync::to_string(r);
    });

    server.write({game::spawn(player, {0, 0}), game::pick_up(player, gold, spawn_gold), game::spawn(monster, {9, 0})});
    at_tick(0) << "the match server spawns the player with " << spawn_gold << " gold, and a monster; the client joins"
               << "\n";

    resync::testing::Server<game::GameModel>::Backup backup;
    for (tick = 0; tick <= end_at; ++tick) {
        // The match server's side of the script.
        if (tick == backup_at) {
            if (!store.unsynced().empty()) return 1; // the script assumes everything before is synced
            backup = server.backup();
            at_tick(tick) << "the match server takes a backup at version " << server.latest().version << "\n";
        }
        if (tick == offline_at) {
            if (!store.unsynced().empty()) return 1; // ... and that the server acknowledged the rest
            link.go_offline();
            at_tick(tick) << "the connection drops; the player plays on offline\n";
        }
        if (tick == restore_at) {
            const auto was = server.latest().version;
            server.restore(backup);
            at_tick(tick) << "the match server crashes and is restored from its backup: version " << was << " -> "
                          << server.latest().version << "; what it acknowledged since is gone\n";
        }
        if (tick == grant_at) {
            server.write({game::pick_up(player, gold, granted_gold)});
            at_tick(tick) << "the match server grants every player " << granted_gold << " gold for the downtime\n";
        }
        if (tick == slain_at) {
            server.write({game::despawn(monster)});
            at_tick(tick) << "another player slays the monster: the match server despawns it\n";
        }
        if (tick == online_at) {
            link.go_online();
            at_tick(tick) << "the connection is back\n";
        }

        // The game's side: the player walks a tile east every half second and picks things up.
        const game::World& world = store.world();
        if (const auto me = world.find(player); me && tick % 30 == 0 && tick > 0)
            store.write({game::move_to(player, {world.position[*me].x + 1, 0})});
        if (tick == hit_at) {
            store.write({game::set_health(monster, 40)});
            at_tick(tick) << "the player hits the monster (offline; on the server it is already gone)\n";
        }
        for (const auto& p : pickups) {
            if (p.tick != tick) continue;
            const std::int32_t n = p.count > 0 ? p.count : -p.count;
            store.write({p.count > 0 ? game::pick_up(player, p.item, n) : game::use_up(player, p.item, n)});
            at_tick(tick) << "the player " << (p.count > 0 ? "picks up " : "uses up ") << n << " " << name(p.item, n)
                          << (link.connected() ? "" : " (offline)") << "\n";
        }

        session.poll(resync::Budget{4, 256}); // once per tick: bounded work, never a stalled frame
    }
    session.run_until_idle();

    // What the game expects, worked out from the script alone: the server's backup holds what was
    // picked up before it; the restore loses what the server acknowledged after it (this strategy
    // keeps those in the store's quarantine; RecoverAll would put them back); every offline
    // pickup lands on top of whatever the restored server has, its grant included.
    std::map<Item, std::int32_t> expected{{gold, spawn_gold + granted_gold}};
    for (const auto& p : pickups)
        if (p.tick < backup_at || p.tick >= offline_at) expected[p.item] += p.count;
    bool as_expected = store.world() == server.state() && !server.state().find(monster); // never resurrected
    for (Item item : {arrows, potions, gold})
        as_expected = as_expected && server.state().count(player, item) == expected[item];

    at_tick(end_at) << "the server's inventory: " << inventory(server.state()) << "; expected " << expected[arrows]
                    << " " << name(arrows, expected[arrows]) << ", " << expected[potions] << " "
                    << name(potions, expected[potions]) << ", " << expected[gold] << " gold: "
                    << (as_expected ? "as expected" : "NOT AS EXPECTED") << "\n"
                    << "          the client's quarantine keeps " << store.quarantined().size()
                    << " operations the reset did not carry forward\n";
    return as_expected && session.resets_completed() == 1 ? 0 : 1;
}
