// Realm's shape: the workload of realm-core's own client-reset benchmark
// (test/object-store/benchmarks/client_reset.cpp), so figures can be set beside Realm's:
// 10,000 simple objects (a few scalar fields each), reset with discard (Realm's DiscardLocal,
// here DiscardUnsynced) and with recovery (Realm's Recover, here RecoverOrDiscard), in four cases:
//
//   empty          nothing on either side
//   no_change      the fresh copy equals the client's state
//   server_erased  the server deleted half of the objects
//   client_erased  the client deleted half of the objects, unsynced (recover replays the erases)
//
//   realm_shape/<discard|recover>/<case>   the whole reset through the session
//   realm_shape/import/<case>              baseline: decode + commit of the same fresh copy into an empty store
//
// Realm's harness times only its recovery and transfer (no download, no decode); ours is the
// whole reset, so these figures are an upper bound of the matching part.

#include "support/alloc_counter.hpp"
#include "support/bench.hpp"
#include "support/workload.hpp"

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace {

using resync::MemoryStore;

constexpr std::size_t objects = 10'000;

enum Case : int { empty, no_change, server_erased, client_erased };
constexpr std::array<const char*, 4> case_names{"empty", "no_change", "server_erased", "client_erased"};

struct Fixture {
    resync::doc::State client;   ///< the client's synced base
    std::string fresh_bytes;     ///< the server's state, encoded
    std::size_t fresh_objects = 0;
};

const Fixture& fixture(Case c) {
    static std::array<std::unique_ptr<Fixture>, 4> cache;
    auto& f = cache[static_cast<std::size_t>(c)];
    if (f) return *f;
    f = std::make_unique<Fixture>();
    const std::size_t n = c == empty ? 0 : objects;
    f->client = resync_bench::make_state(n);
    resync::doc::State fresh = f->client;
    if (c == server_erased)
        for (std::size_t i = 0; i < n; i += 2) fresh.collections[resync_bench::collection].erase(resync_bench::key(i));
    f->fresh_objects = fresh.object_count();
    f->fresh_bytes = resync::doc::encode_snapshot(fresh);
    return *f;
}

/// Objects the store must hold after the reset.
std::size_t expected_after(Case c, bool recovers) {
    if (c == empty) return 0;
    if (c == server_erased) return objects / 2;
    if (c == client_erased) return recovers ? objects / 2 : objects;
    return objects;
}

template <class Policy, bool recovers>
void reset(benchmark::State& state, Case c) {
    using Session = resync::SyncSession<MemoryStore, resync_bench::RestoredServerLink, Policy>;
    const Fixture& f = fixture(c);
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        resync_bench::install(*store, f.client, resync_bench::synced_state());
        if (c == client_erased) {
            auto v = store->write([](resync::doc::Writer& w) {
                for (std::size_t i = 0; i < objects; i += 2) w.erase(resync_bench::collection, resync_bench::key(i));
            });
            if (!v) return resync_bench::fail(state, "the local erase failed");
        }
        resync_bench::RestoredServerLink link(f.fresh_bytes);
        auto session = std::make_unique<Session>(*store, link);
        state.ResumeTiming();

        const bool ok = resync_bench::run_one_reset(*session);

        state.PauseTiming();
        const auto& report = session->last_report();
        if (!ok || !report || report->outcome != resync::ResetOutcome::completed)
            return resync_bench::fail(state, "the reset did not complete");
        if (store->state().object_count() != expected_after(c, recovers))
            return resync_bench::fail(state, "the store holds " + std::to_string(store->state().object_count()) +
                                                 " objects after the reset, expected " +
                                                 std::to_string(expected_after(c, recovers)));
        session.reset();
        store.reset();
        state.ResumeTiming();
    }
    state.counters["objects_after"] = static_cast<double>(expected_after(c, recovers));
}

void import(benchmark::State& state, Case c) {
    const Fixture& f = fixture(c);
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        state.ResumeTiming();
        auto fresh = resync::doc::decode_snapshot(f.fresh_bytes);
        if (!fresh) return resync_bench::fail(state, "the snapshot did not decode");
        auto old = store->commit_reset(resync::ResetCommit<resync::doc::State, resync::doc::Operation>{
            std::move(*fresh), {}, resync_bench::synced_state(), {}});
        (void)old;
        state.PauseTiming();
        if (store->state().object_count() != f.fresh_objects) return resync_bench::fail(state, "the import lost objects");
        store.reset();
        state.ResumeTiming();
    }
}

void register_all() {
    for (Case c : {empty, no_change, server_erased, client_erased}) {
        const std::string suffix = std::string("/") + case_names[static_cast<std::size_t>(c)];
        benchmark::RegisterBenchmark(("realm_shape/import" + suffix).c_str(), import, c)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("realm_shape/discard" + suffix).c_str(), reset<resync::DiscardUnsynced, false>, c)
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("realm_shape/recover" + suffix).c_str(), reset<resync::doc::RecoverOrDiscard, true>, c)
            ->Unit(benchmark::kMillisecond);
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
