// The recovery law suite, resync::testing::check_recovery_laws, run on the game world's rules
// (examples/game_world/game_world.hpp) over thousands of random cases with the game model's own
// hooks for law 4 (an unrelated entity) and law 7 (no entity resurrected), and shown to catch
// rule sets that break a law: one that resurrects a despawned entity, one that counts a pickup
// twice, one that swallows a pickup it reports as recovered.

#include <support/game_world.hpp>

#include <game_world/game_world.hpp>

#include <resync/history.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/report.hpp>
#include <resync/testing/recovery_laws.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using game::GameModel;
using game::Op;
using game::World;
using resync::OperationFate;
using Changesets = std::vector<resync::LocalChangeset<Op>>;

constexpr std::uint64_t seed = 20240611;
constexpr int cases = 4000;
constexpr game::Entity unrelated = 1000; // no generated operation touches it

struct Case {
    World fresh;
    World before;
    Changesets local;
};

/// A random case: a synced base; the server's changes since (the fresh copy); one to three local
/// changesets of one to five operations, applied to the base for the client's before-state.
Case random_case(game_test::RandomGame& random) {
    Case c;
    const World base = random.world(static_cast<int>(random.pick(0, 10)));
    c.fresh = c.before = base;
    for (auto n = random.pick(0, 8); n > 0; --n) GameModel::apply(c.fresh, random.op());
    resync::ClientVersion v = 1;
    for (auto n = random.pick(1, 3); n > 0; --n) {
        resync::LocalChangeset<Op> cs{v++, 0, {}};
        for (auto k = random.pick(1, 5); k > 0; --k) cs.ops.push_back(random.op());
        for (const auto& op : cs.ops) GameModel::apply(c.before, op);
        c.local.push_back(std::move(cs));
    }
    return c;
}

/// Law 7 for the game: entities in the result that the fresh copy lacks and no local operation spawns.
std::vector<std::string> resurrected(const World& fresh, const World& result, const Changesets& local) {
    std::vector<std::string> out;
    for (const game::Entity e : result.entities) {
        if (fresh.find(e)) continue;
        const bool spawned = std::any_of(local.begin(), local.end(), [&](const auto& cs) {
            return std::any_of(cs.ops.begin(), cs.ops.end(),
                               [&](const Op& op) { return op.kind == Op::spawn && op.entity == e; });
        });
        if (!spawned) out.push_back("entity " + std::to_string(e) + ", which the fresh copy lacks, came back without a local spawn");
    }
    return out;
}

/// The game model's law hooks.
resync::testing::LawHooks<GameModel> game_law_hooks() {
    resync::testing::LawHooks<GameModel> hooks;
    hooks.add_unrelated = [](World& w) {
        GameModel::apply(w, game::spawn(unrelated, {5, 5}));
        GameModel::apply(w, game::pick_up(unrelated, game_test::arrows, 9));
    };
    hooks.resurrected = &resurrected;
    return hooks;
}

/// A broken twin: an operation on an entity the server despawned spawns it again first.
struct ResurrectingRules {
    using Outcome = resync::recover::RuleOutcome<Op>;
    using Context = game::GameRules::Context;
    Context context(const World& fresh, const World* before) const { return game::GameRules{}.context(fresh, before); }
    Outcome recover(Context& c, const Op& op) const {
        if (op.kind == Op::spawn || op.kind == Op::despawn || c.now.find(op.entity)) return game::GameRules{}.recover(c, op);
        const Op respawn = game::spawn(op.entity, {0, 0});
        GameModel::apply(c.now, respawn);
        GameModel::apply(c.now, op);
        return {OperationFate::transformed, "spawned again to apply it", {respawn, op}, {}};
    }
};

/// A broken twin: a pickup is replayed twice (a delta must count once, however often it is recovered).
struct DoubleCountingRules {
    using Outcome = resync::recover::RuleOutcome<Op>;
    using Context = game::GameRules::Context;
    Context context(const World& fresh, const World* before) const { return game::GameRules{}.context(fresh, before); }
    Outcome recover(Context& c, const Op& op) const {
        auto out = game::GameRules{}.recover(c, op);
        if (op.kind == Op::inventory_add && out.fate == OperationFate::recovered) {
            GameModel::apply(c.now, op);
            out.emit.push_back(op);
        }
        return out;
    }
};

/// A broken twin: a pickup is reported recovered and not replayed.
struct SwallowingRules {
    using Outcome = resync::recover::RuleOutcome<Op>;
    using Context = game::GameRules::Context;
    Context context(const World& fresh, const World* before) const { return game::GameRules{}.context(fresh, before); }
    Outcome recover(Context& c, const Op& op) const {
        if (op.kind == Op::inventory_add && op.value > 0 && c.now.find(op.entity)) return {};
        return game::GameRules{}.recover(c, op);
    }
};

/// How often each law-breaking message came up over the random cases, for rules `R`.
template <class R>
std::map<std::string, int> broken_laws(const R& rules) {
    game_test::RandomGame random(seed);
    const auto hooks = game_law_hooks();
    std::map<std::string, int> seen;
    for (int i = 0; i < cases; ++i) {
        const Case c = random_case(random);
        for (const auto& law : resync::testing::check_recovery_laws<GameModel>(c.fresh, c.before, c.local, rules, hooks))
            ++seen[law];
    }
    return seen;
}

bool mentions(const std::map<std::string, int>& seen, const std::string& words) {
    return std::any_of(seen.begin(), seen.end(), [&](const auto& s) { return s.first.find(words) != std::string::npos; });
}

} // namespace

TEST_CASE("the game world's recovery rules obey every recovery law on thousands of random cases, and every rule is "
          "exercised",
          "[game][laws]") {
    game_test::RandomGame random(seed);
    const auto hooks = game_law_hooks();
    std::map<OperationFate, int> fates;
    std::map<std::string, int> reasons;
    for (int i = 0; i < cases; ++i) {
        const Case c = random_case(random);
        const auto broken = resync::testing::check_recovery_laws<GameModel>(c.fresh, c.before, c.local, game::GameRules{}, hooks);
        if (!broken.empty()) {
            std::string words;
            for (const auto& b : broken) words += "\n  " + b;
            FAIL("seed " << seed << ", case " << i << ": broken laws:" << words << "\nfresh:\n"
                         << game_test::to_text(c.fresh) << "before:\n"
                         << game_test::to_text(c.before));
        }
        auto ctx = game::GameRules{}.context(c.fresh, &c.before);
        for (const auto& cs : c.local)
            for (const auto& op : cs.ops) {
                const auto out = game::GameRules{}.recover(ctx, op);
                ++fates[out.fate];
                ++reasons[out.reason];
            }
    }
    // The generator reaches every rule: kept, clamped, and each of the three reasons to drop.
    CHECK(fates[OperationFate::recovered] > 100);
    CHECK(fates[OperationFate::transformed] > 10);
    CHECK(fates[OperationFate::dropped] > 100);
    CHECK(reasons["the server's position wins; a move made offline is not replayed"] > 10);
    CHECK(reasons["the server holds none of it"] > 10);
    CHECK(std::any_of(reasons.begin(), reasons.end(), [](const auto& r) {
        return r.first.find("is gone on the server; never resurrected") != std::string::npos && r.second > 10;
    }));
}

TEST_CASE("the game world's law hooks find an entity that came back without a local spawn, and only then",
          "[game][laws]") {
    World fresh;
    GameModel::apply(fresh, game::spawn(1, {0, 0}));
    World result = fresh;
    GameModel::apply(result, game::spawn(2, {0, 0}));
    CHECK(resurrected(fresh, result, {}).size() == 1);
    CHECK(resurrected(fresh, result, {{1, 0, {game::spawn(2, {3, 3})}}}).empty());
    CHECK(resurrected(fresh, fresh, {}).empty());
}

TEST_CASE("the recovery laws catch a game rule set that resurrects an entity the server despawned (the twin of the "
          "game rules passing)",
          "[game][laws]") {
    const auto seen = broken_laws(ResurrectingRules{});
    INFO("seed " << seed);
    CHECK(mentions(seen, "came back without a local spawn"));
}

TEST_CASE("the recovery laws catch a game rule set that counts a recovered pickup twice", "[game][laws]") {
    const auto seen = broken_laws(DoubleCountingRules{});
    INFO("seed " << seed);
    CHECK(mentions(seen, "recovering twice differs from recovering once"));
}

TEST_CASE("the recovery laws catch a game rule set that reports a pickup recovered and drops it", "[game][laws]") {
    const auto seen = broken_laws(SwallowingRules{});
    INFO("seed " << seed);
    CHECK(mentions(seen, "reported recovered was neither replayed nor already in effect"));
}

} // namespace RESYNC_TEST_FILE
