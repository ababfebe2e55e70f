// Recovery (DESIGN §6): U unsynced local operations recovered onto a fresh copy of N objects -
// `recover::Rebase<resync::recover::DocumentRules>{}.recover_in_place(...)` onto the decoded copy and the commit
// that installs it, keeping the undo logs recovery recorded - vs. applying the same U operations directly, the way the store
// applies local writes (apply with an undo log, and keep the operations as local history).
//
// Two sweeps show that the cost grows with U, not with N: U = 10^2 .. 10^5 at N = 10^6, and
// N = 10^3 .. 10^6 at U = 10^3 (smaller in --short mode).
//
//   recovery/recover/N:<n>/U:<u>      Rebase<> recover_in_place + MemoryStore::commit_reset
//   recovery/direct/N:<n>/U:<u>       baseline: doc::apply with undo log + recorded history
//   recovery/apply_only/N:<n>/U:<u>   informative: doc::apply alone, nothing recorded
//
// The state the commit hands back (the old one, which a real reset releases or gives the
// callbacks) becomes the next iteration's fresh copy, so no iteration pays O(N) to set up:
// what is timed is only what recovery itself costs. Releasing the old state is the discard's
// cost, measured in discard.bench.

#include "support/bench.hpp"
#include "support/workload.hpp"

#include <resync/memory_store.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/reset_commit.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using resync::MemoryStore;
using resync::doc::Operation;
using Changesets = std::vector<resync::LocalChangeset<Operation>>;

constexpr std::size_t ops_per_changeset = 10;

/// Per N: the store and the fresh copy the recovery ping-pongs between, and the state the
/// direct baseline applies to. Built once: a state of 10^6 objects takes a second to build.
struct World {
    MemoryStore store{7};
    resync::doc::State fresh;
    resync::doc::State direct;
};

World& world(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<World>> cache;
    auto& w = cache[n];
    if (!w) {
        w = std::make_unique<World>();
        resync_bench::install(w->store, resync_bench::make_state(n), resync_bench::synced_state());
        w->fresh = resync_bench::make_state(n);
        w->direct = resync_bench::make_state(n);
    }
    return *w;
}

/// U local operations on random existing objects (fixed seed), 10 per changeset: 70% set an
/// integer, 20% set a string, 10% add to an integer.
const Changesets& unsynced(std::size_t n, std::size_t u) {
    static std::map<std::pair<std::size_t, std::size_t>, Changesets> cache;
    auto& out = cache[{n, u}];
    if (!out.empty()) return out;
    std::mt19937_64 rng(n * 1'000'003 + u);
    std::uniform_int_distribution<std::size_t> object(0, n - 1);
    std::uniform_int_distribution<int> kind(0, 9);
    for (std::size_t i = 0; i < u; ++i) {
        if (i % ops_per_changeset == 0) out.push_back({static_cast<resync::ClientVersion>(out.size() + 1), 0, {}});
        const std::string key = resync_bench::key(object(rng));
        const int k = kind(rng);
        const auto v = static_cast<std::int64_t>(i);
        if (k < 7)
            out.back().ops.emplace_back(resync::doc::SetField{resync_bench::collection, key, "n", resync::doc::Value{v}});
        else if (k < 9)
            out.back().ops.emplace_back(
                resync::doc::SetField{resync_bench::collection, key, "name", resync::doc::Value{"local-" + std::to_string(i % 100)}});
        else
            out.back().ops.emplace_back(resync::doc::AddInteger{resync_bench::collection, key, "n", 1});
    }
    return out;
}

void set_counters(benchmark::State& state, std::size_t u) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(u));
}

void recover(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto u = static_cast<std::size_t>(state.range(1));
    World& w = world(n);
    const Changesets& local = unsynced(n, u);
    resync::ResetTrigger trigger;
    trigger.reason = resync::ResetReason::server_rollback;
    trigger.recovery_allowed = true;
    resync::SyncState after = resync_bench::synced_state();
    after.client_ident = resync_bench::new_ident;
    after.download = resync_bench::restored_at;
    const resync::recover::Rebase<resync::recover::DocumentRules> rebase;

    for (auto _ : state) {
        // As the session recovers onto its decoded copy for a store that keeps the history so
        // applied (cap::recovered_in_place): each operation applied once, the commit keeps it.
        auto out = rebase.recover_in_place(w.store, w.fresh, trigger, local);
        if (!out || out->failure) return resync_bench::fail(state, "recovery failed");
        auto before = w.store.commit_reset(resync::ResetCommit<resync::doc::State, Operation>{
            std::move(w.fresh), std::move(out->history), after, {}, std::move(out->undo)});
        if (!before) return resync_bench::fail(state, "the commit failed");
        w.fresh = std::move(*before);
    }
    if (w.store.unsynced().size() != local.size())
        return resync_bench::fail(state, "recovery lost local changesets");
    if (w.store.state().object_count() != n) return resync_bench::fail(state, "the recovered state lost objects");
    set_counters(state, u);
}

void direct(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto u = static_cast<std::size_t>(state.range(1));
    World& w = world(n);
    const Changesets& local = unsynced(n, u);

    struct Entry {
        resync::LocalChangeset<Operation> changeset;
        std::vector<Operation> undo;
    };
    for (auto _ : state) {
        // What MemoryStore::write does for each changeset: apply with an undo log, keep the ops.
        std::vector<Entry> history;
        history.reserve(local.size());
        for (const auto& cs : local) {
            Entry e{{cs.client_version, 0, {}}, {}};
            e.changeset.ops.reserve(cs.ops.size());
            for (const auto& op : cs.ops) {
                resync::doc::apply(w.direct, op, &e.undo);
                e.changeset.ops.push_back(op);
            }
            history.push_back(std::move(e));
        }
        benchmark::DoNotOptimize(history.data());
    }
    set_counters(state, u);
}

void apply_only(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto u = static_cast<std::size_t>(state.range(1));
    World& w = world(n);
    const Changesets& local = unsynced(n, u);
    for (auto _ : state) {
        for (const auto& cs : local)
            for (const auto& op : cs.ops) resync::doc::apply(w.direct, op);
        benchmark::ClobberMemory();
    }
    set_counters(state, u);
}

void register_all() {
    const bool s = resync_bench::short_mode;
    const std::int64_t big_n = s ? 10'000 : 1'000'000;
    const std::int64_t fixed_u = s ? 100 : 1'000;
    const std::vector<std::int64_t> us = s ? std::vector<std::int64_t>{100, 1'000}
                                           : std::vector<std::int64_t>{100, 1'000, 10'000, 100'000};
    const std::vector<std::int64_t> ns = s ? std::vector<std::int64_t>{1'000, 10'000}
                                           : std::vector<std::int64_t>{1'000, 10'000, 100'000, 1'000'000};
    // Both sweeps, each point once, smallest N first (the worlds are built as they are first used).
    std::set<std::pair<std::int64_t, std::int64_t>> points;
    for (auto u : us) points.insert({big_n, u});
    for (auto n : ns) points.insert({n, fixed_u});
    for (const auto& [n, u] : points) {
        for (auto [name, fn] : {std::pair{"recovery/recover", &recover}, std::pair{"recovery/direct", &direct},
                                std::pair{"recovery/apply_only", &apply_only}})
            benchmark::RegisterBenchmark(name, fn)->Args({n, u})->ArgNames({"N", "U"})->Unit(benchmark::kMicrosecond);
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
