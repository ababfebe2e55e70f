// Discard (DESIGN §6): a reset of N objects in MemoryStore through the session - detect, guard,
// backup, fetch, decode, commit - with discard::Replace and discard::Diff, each with
// backup::None and backup::Snapshot, vs. a bare import of the same snapshot into an empty store.
//
// The client stands at v100; the bench-only link answers its Hello with a server restored to v50
// (a rollback) and serves a pre-encoded fresh copy in pieces, as a server would. The fresh copy
// differs from the client's state in 1.5% of the objects (0.5% updated, erased, created), so
// Diff has something to write, and the benchmark checks it wrote exactly those.
//
//   discard/import/N:<n>               baseline: decode_snapshot + commit_reset into an empty store
//   discard/import_over_old/N:<n>      informative: the same into a store holding the old state
//                                      (so it also releases the old state, as any reset must)
//   discard/<replace|diff>+<none|snapshot>/N:<n>   the session's reset
//
// The session frees what the reset replaced over the polls after it (a slice of Budget::work
// objects each), not inside the reset: those polls are not in the reset's time. They run after
// it, untimed by the benchmark, and are reported as counters: release_polls, release_ms (their
// CPU time, best of the repetitions) and release_worst_poll_ms (the longest one's CPU time).
//
// Counters: peak_x_state = the most heap the store and session held at once during the reset
// (and the polls that free what it replaced),
// over the size of one state (the old state counts: it is live when the reset starts; the
// encoded copy the fake server holds does not); state_MB, the heap one state takes; copy_MB, the
// size of the encoded fresh copy; for Diff, the objects written and diff_exact = 1 when they are
// exactly the objects that differ.

#include "support/alloc_counter.hpp"
#include "support/bench.hpp"
#include "support/workload.hpp"

#include <resync/backup/none.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/discard/diff.hpp>
#include <resync/discard/replace.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace heap = resync_bench::heap;
using resync::MemoryStore;

/// What a reset of N objects starts from and must end in; built once per N.
struct Fixture {
    resync::doc::State old_state; ///< the client's state before the reset
    std::string fresh_bytes;      ///< the server's state, encoded as the server sends it
    std::size_t fresh_objects = 0;
    std::size_t state_bytes = 0;  ///< heap held by `old_state`
    resync::DiffStats expected;   ///< what a minimal diff must write
};

const Fixture& fixture(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<Fixture>> cache;
    auto& f = cache[n];
    if (f) return *f;
    f = std::make_unique<Fixture>();
    const std::size_t live0 = heap::live;
    f->old_state = resync_bench::make_state(n);
    f->state_bytes = heap::live - live0;
    // The server's state: every 200th object updated, the next one erased, and as many new ones.
    resync::doc::State fresh = f->old_state;
    auto& c = fresh.collections[resync_bench::collection];
    for (std::size_t i = 0; i < n; i += 200) {
        c[resync_bench::key(i)] = resync_bench::simple_object(i, 7);
        ++f->expected.updated;
        if (i + 1 < n) {
            c.erase(resync_bench::key(i + 1));
            ++f->expected.erased;
        }
        c.emplace(resync_bench::key(n + i), resync_bench::simple_object(n + i));
        ++f->expected.created;
    }
    f->expected.unchanged = n - f->expected.updated - f->expected.erased;
    f->fresh_objects = fresh.object_count();
    f->fresh_bytes = resync::doc::encode_snapshot(fresh);
    return *f;
}

void set_memory_counters(benchmark::State& state, const Fixture& f, std::size_t peak) {
    state.counters["peak_x_state"] = static_cast<double>(peak) / static_cast<double>(f.state_bytes);
    state.counters["state_MB"] = static_cast<double>(f.state_bytes) / 1e6;
    state.counters["copy_MB"] = static_cast<double>(f.fresh_bytes.size()) / 1e6;
}

template <class Backup, class Discard>
void reset(benchmark::State& state) {
    using Policy = resync::Strategy<Backup, Discard>;
    using Session = resync::SyncSession<MemoryStore, resync_bench::RestoredServerLink, Policy>;
    const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
    std::size_t peak = 0;
    std::optional<resync::DiffStats> diff;
    double release_ms = 1e300, worst_poll_ms = 0;
    std::size_t release_polls = 0;
    // CPU time of this thread: on a loaded machine, wall time mostly measures the other processes.
    auto cpu_ms = [] {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
    };
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        resync_bench::install(*store, f.old_state, resync_bench::synced_state());
        resync_bench::RestoredServerLink link(f.fresh_bytes);
        auto session = std::make_unique<Session>(*store, link);
        const std::size_t live0 = heap::live;
        heap::reset_peak();
        state.ResumeTiming();

        const bool ok = resync_bench::run_one_reset(*session);

        state.PauseTiming();
        // The polls that follow free what the reset replaced, a slice each.
        const double freeing = cpu_ms();
        std::size_t polls = 0;
        while (session->replaced_objects_pending() > 0 && polls < 10'000'000) {
            const double one = cpu_ms();
            session->poll();
            worst_poll_ms = std::max(worst_poll_ms, cpu_ms() - one);
            ++polls;
        }
        release_ms = std::min(release_ms, cpu_ms() - freeing);
        release_polls = polls;
        peak = std::max(peak, heap::peak - live0 + f.state_bytes);
        const auto& report = session->last_report();
        if (!ok || !report || report->outcome != resync::ResetOutcome::completed)
            return resync_bench::fail(state, "the reset did not complete");
        if (store->state().object_count() != f.fresh_objects || store->sync_state().client_ident != resync_bench::new_ident)
            return resync_bench::fail(state, "the store does not hold the fresh copy after the reset");
        diff = report->diff;
        session.reset();
        store.reset();
        state.ResumeTiming();
    }
    set_memory_counters(state, f, peak);
    state.counters["objects"] = static_cast<double>(state.range(0));
    state.counters["release_polls"] = static_cast<double>(release_polls);
    state.counters["release_ms"] = release_ms;
    state.counters["release_worst_poll_ms"] = worst_poll_ms;
    if constexpr (std::is_same_v<Discard, resync::discard::Diff>) {
        if (!diff) return resync_bench::fail(state, "discard::Diff reported no diff");
        state.counters["written"] = static_cast<double>(diff->written());
        state.counters["differing"] = static_cast<double>(f.expected.written());
        state.counters["diff_exact"] = *diff == f.expected ? 1 : 0;
        if (!(*diff == f.expected)) return resync_bench::fail(state, "discard::Diff wrote other objects than those that differ");
    }
}

/// The baseline: decode the same bytes and make them the state of a store, nothing else. With
/// `over_old`, the store holds the old state, which the import then releases.
template <bool over_old>
void import(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
    std::size_t peak = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        if constexpr (over_old) resync_bench::install(*store, f.old_state, resync_bench::synced_state());
        const std::size_t live0 = heap::live;
        heap::reset_peak();
        state.ResumeTiming();

        auto fresh = resync::doc::decode_snapshot(f.fresh_bytes);
        if (!fresh) return resync_bench::fail(state, "the snapshot did not decode");
        resync::SyncState s = resync_bench::synced_state();
        s.client_ident = resync_bench::new_ident;
        s.download = resync_bench::restored_at;
        auto old = store->commit_reset(
            resync::ResetCommit<resync::doc::State, resync::doc::Operation>{std::move(*fresh), {}, s, {}});
        (void)old;
        old = resync::doc::State{}; // an import over an old state releases it, as the reset does

        state.PauseTiming();
        peak = std::max(peak, heap::peak - live0 + (over_old ? f.state_bytes : 0));
        if (store->state().object_count() != f.fresh_objects) return resync_bench::fail(state, "the import lost objects");
        store.reset();
        state.ResumeTiming();
    }
    set_memory_counters(state, f, peak);
    state.counters["objects"] = static_cast<double>(state.range(0));
}

void register_all() {
    using namespace resync;
    const std::vector<std::int64_t> sizes = resync_bench::short_mode
                                                ? std::vector<std::int64_t>{1'000, 10'000}
                                                : std::vector<std::int64_t>{1'000, 10'000, 100'000, 1'000'000};
    for (auto n : sizes) {
        auto add = [&](const char* name, void (*fn)(benchmark::State&)) {
            auto* b = benchmark::RegisterBenchmark(name, fn)->Arg(n)->ArgName("N")->Unit(benchmark::kMillisecond);
            if (n >= 1'000'000) b->Iterations(1);
            else if (n >= 100'000) b->Iterations(3);
        };
        add("discard/import", import<false>);
        add("discard/import_over_old", import<true>);
        add("discard/replace+none", reset<backup::None, discard::Replace>);
        add("discard/replace+snapshot", reset<backup::Snapshot, discard::Replace>);
        add("discard/diff+none", reset<backup::None, discard::Diff>);
        add("discard/diff+snapshot", reset<backup::Snapshot, discard::Diff>);
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
