// Realm's workload, like for like: the workload of realm-core's own client-reset benchmark
// (support/realm_workload.hpp says how it maps onto the document model), timed over the same
// region as Realm's and, separately, as the whole reset through the session.
//
//   realm_shape/region/<mode>/<workload>/<case>   the region Realm's benchmark times: inside
//       the reset, with the fresh copy already downloaded and decoded, only the recovery of the
//       unsynced changesets onto it (`recover::Rebase<DocumentRules>{}.recover_in_place(...)`, Recover
//       only) and the commit that makes the live state equal to it by writing only the objects
//       that differ (`MemoryStore::commit_reset_diff_keeping_before`, what `discard::Diff`
//       commits with when a backup keeps the before-state): Realm's recovery replay and
//       `transfer_group`. No download, no decode. The before-state the commit hands back (the
//       objects it replaced or erased, and the copy's twins of those it left alone) is released
//       after the region, as Realm releases its fresh copy and frozen before-version after its
//       own; that release is timed apart (counter release_ms, thread CPU time).
//   realm_shape/whole/<mode>/<workload>/<case>    the whole reset through the session: detect
//       (a rollback in the Welcome), guard, backup (`backup::Snapshot`: the before-state handed
//       to the callbacks, as Realm's frozen before-version), fetch in 64 KiB pieces, decode,
//       recover, commit by `discard::Diff`, release.
//
//   mode       discard (Realm's DiscardLocal) | recover (Realm's Recover; falls back to discard)
//   workload   objects (10,000 objects) | links (5,000 objects + 5,000 sources linking to them)
//   case       no_change | server_deleted_half | client_deleted_half
//
// Each iteration starts from a store that holds the client's synced state and its 2 unsynced
// changesets, built with the timer paused. After each one the store must equal the expected
// state (object -42 with value 4 after Recover and absent after DiscardLocal, object 1 as in the
// fresh copy, the right half erased), and hold the 2 recovered changesets as unsynced (none after
// DiscardLocal); otherwise the run fails.

#include "support/bench.hpp"
#include "support/realm_workload.hpp"
#include "support/workload.hpp"

#include <resync/backup/snapshot.hpp>
#include <resync/discard/diff.hpp>
#include <resync/doc/codec.hpp>
#include <resync/execute.hpp>
#include <resync/memory_store.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/reset_commit.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <type_traits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace realm = resync_bench::realm;
using realm::Case;
using realm::Workload;
using resync::MemoryStore;
using Rules = resync::recover::DocumentRules;

/// Realm's DiscardLocal and Recover, composed as ours with the commit Realm's transfer does (a diff).
using DiscardLocal = resync::Strategy<resync::backup::Snapshot, resync::discard::Diff>;
using Recover = resync::Strategy<resync::backup::Snapshot, resync::recover::Rebase<Rules>, resync::discard::Diff,
                                 resync::fallback::Discard>;

/// One workload and case: the states the reset starts from and must end in. Built once.
struct Fixture {
    resync::doc::State base;             ///< the client's synced state
    resync::doc::State fresh;            ///< the server's fresh copy, decoded
    std::string fresh_bytes;             ///< the same, encoded as the server sends it
    resync::doc::State expected_discard; ///< the store after DiscardLocal
    resync::doc::State expected_recover; ///< the store after Recover
};

const Fixture& fixture(Workload w, Case c) {
    static std::map<std::pair<int, int>, std::unique_ptr<Fixture>> cache;
    auto& f = cache[{static_cast<int>(w), static_cast<int>(c)}];
    if (f) return *f;
    f = std::make_unique<Fixture>();
    f->base = realm::base_state(w);
    f->fresh = realm::fresh_state(w, c);
    f->fresh_bytes = resync::doc::encode_snapshot(f->fresh);
    f->expected_discard = realm::expected_state(w, c, false);
    f->expected_recover = realm::expected_state(w, c, true);
    return *f;
}

/// Why the store is not in the state the reset must leave, or empty when it is.
std::string check(const MemoryStore& store, const Fixture& f, bool recovers) {
    const auto& s = store.state();
    const auto created = s.get(realm::objects_table, realm::key(realm::created_pk), "value");
    if (recovers && created != resync::doc::Value{realm::created_value})
        return "object -42 does not hold value 4 after Recover";
    if (!recovers && s.find(realm::objects_table, realm::key(realm::created_pk)) != nullptr)
        return "object -42 survived DiscardLocal";
    const auto* changed = s.find(realm::objects_table, realm::key(realm::changed_pk));
    if (!changed || *changed != *f.fresh.find(realm::objects_table, realm::key(realm::changed_pk)))
        return "object 1 differs from the fresh copy";
    if (!(s == (recovers ? f.expected_recover : f.expected_discard)))
        return "the store's state differs from the expected state (" + std::to_string(s.object_count()) + " objects)";
    const std::size_t unsynced = store.unsynced().size();
    if (unsynced != (recovers ? 2u : 0u))
        return "the store holds " + std::to_string(unsynced) + " unsynced changesets after the reset";
    return {};
}

/// The sync state the reset installs: the server's new ident and position.
resync::SyncState state_after_reset() {
    resync::SyncState s = resync_bench::synced_state();
    s.client_ident = resync_bench::new_ident;
    s.download = resync_bench::restored_at;
    return s;
}

/// Thread CPU time, for a cost measured while the benchmark's timer is paused.
double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

template <bool recovers>
void region(benchmark::State& state, Workload w, Case c) {
    using Commit = resync::ResetCommit<resync::doc::State, resync::doc::Operation>;
    const Fixture& f = fixture(w, c);
    resync::ResetTrigger trigger;
    trigger.reason = resync::ResetReason::server_rollback;
    trigger.recovery_allowed = true;
    const resync::SyncState after = state_after_reset();
    const resync::recover::Rebase<Rules> rebase;
    std::size_t written = 0;
    double release_ms = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        if (!realm::prepare_client(*store, f.base, w, c)) return resync_bench::fail(state, "the local writes failed");
        resync::doc::State fresh = f.fresh;
        state.ResumeTiming();

        std::vector<resync::LocalChangeset<resync::doc::Operation>> history;
        std::vector<std::vector<resync::doc::Operation>> undo;
        if constexpr (recovers) {
            // As the session recovers for MemoryStore (cap::recovered_in_place): each operation
            // applied once, onto the decoded copy; the commit keeps the undo logs.
            auto recovered = rebase.recover_in_place(*store, fresh, trigger, store->unsynced());
            if (!recovered || recovered->failure) return resync_bench::fail(state, "the recovery failed");
            history = std::move(recovered->history);
            undo = std::move(recovered->undo);
        }
        // What discard::Diff commits with when a backup keeps the before-state: the objects it
        // replaced or erased, and the copy's twins of those it left alone, come back in `before`.
        auto done = store->commit_reset_diff_keeping_before(
            Commit{std::move(fresh), std::move(history), after, {}, std::move(undo)});

        state.PauseTiming();
        if (!done) return resync_bench::fail(state, "the commit failed");
        if (auto why = check(*store, f, recovers); !why.empty()) return resync_bench::fail(state, why);
        written = done->stats.written();
        // Released after the region, as Realm releases its fresh copy and before-version after
        // its; what that costs is reported beside the region.
        const double t0 = thread_cpu_ms();
        done->before = resync::doc::State{};
        release_ms += thread_cpu_ms() - t0;
        store.reset();
        state.ResumeTiming();
    }
    state.counters["objects_written"] = static_cast<double>(written);
    state.counters["release_ms"] = state.iterations() ? release_ms / static_cast<double>(state.iterations()) : 0;
}

template <bool recovers>
void whole(benchmark::State& state, Workload w, Case c) {
    using Session = resync::SyncSession<MemoryStore, resync_bench::RestoredServerLink,
                                        std::conditional_t<recovers, Recover, DiscardLocal>>;
    const Fixture& f = fixture(w, c);
    std::size_t written = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = std::make_unique<MemoryStore>(7);
        if (!realm::prepare_client(*store, f.base, w, c)) return resync_bench::fail(state, "the local writes failed");
        resync_bench::RestoredServerLink link(f.fresh_bytes);
        auto session = std::make_unique<Session>(*store, link);
        state.ResumeTiming();

        const bool ok = resync_bench::run_one_reset(*session);

        state.PauseTiming();
        const auto& report = session->last_report();
        if (!ok || !report || report->outcome != resync::ResetOutcome::completed)
            return resync_bench::fail(state, "the reset did not complete");
        if (report->mode_used != (recovers ? resync::ResetMode::recover : resync::ResetMode::discard))
            return resync_bench::fail(state, "the reset ran in another mode than asked");
        if (store->sync_state().client_ident != resync_bench::new_ident)
            return resync_bench::fail(state, "the store did not take the fresh copy's ident");
        if (auto why = check(*store, f, recovers); !why.empty()) return resync_bench::fail(state, why);
        written = report->diff ? report->diff->written() : 0;
        session.reset();
        store.reset();
        state.ResumeTiming();
    }
    state.counters["objects_written"] = static_cast<double>(written);
}

void register_all() {
    for (Workload w : {Workload::objects, Workload::links}) {
        for (Case c : {Case::no_change, Case::server_deleted_half, Case::client_deleted_half}) {
            const std::string suffix = std::string("/") + realm::name(w) + "/" + realm::name(c);
            auto add = [&](const std::string& name, void (*fn)(benchmark::State&, Workload, Case)) {
                // A fixed count: each iteration rebuilds the client's store (untimed, ~10x the region).
                benchmark::RegisterBenchmark(name.c_str(), fn, w, c)
                    ->Unit(benchmark::kMillisecond)
                    ->Iterations(resync_bench::short_mode ? 3 : 20);
            };
            add("realm_shape/region/discard" + suffix, region<false>);
            add("realm_shape/region/recover" + suffix, region<true>);
            add("realm_shape/whole/discard" + suffix, whole<false>);
            add("realm_shape/whole/recover" + suffix, whole<true>);
        }
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
