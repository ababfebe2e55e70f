// SqliteStore: a reset of N objects - the fresh copy staged in the database chunk by chunk,
// decoded in slices into the staged tables, committed with `Replace` (the staged tables renamed
// in) or `Diff` (only differing rows written) - against the baseline, a bulk insert of the same
// rows into the same table shape in one transaction. Also the peak heap of a reset (the target:
// about two encoded chunks plus SQLite's page cache, not proportional to N), and Realm's
// client-reset shape (10,000 objects: no change, the server deleted half, the client deleted half).
// Files live in $TMPDIR (bench/report points it at /dev/shm when there is one).

#include <support/alloc_counter.hpp>
#include <support/bench.hpp>

#include <resync/doc.hpp>
#include <resync/sqlite.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;

constexpr std::size_t chunk_bytes = 64 * 1024;
constexpr std::size_t slice_objects = 4096;

fs::path scratch(const char* name) {
    const char* tmp = std::getenv("TMPDIR");
    return fs::path(tmp ? tmp : "/tmp") / ("resync-bench-" + std::to_string(::getpid()) + "-" + name);
}

void remove_db(const fs::path& p) {
    fs::remove(p);
    fs::remove(p.string() + "-wal");
    fs::remove(p.string() + "-shm");
}

resync::SqliteStore open_new(const fs::path& p) {
    remove_db(p);
    auto s = resync::SqliteStore::open(p.string());
    if (!s) std::abort();
    return std::move(*s);
}

resync::doc::State make_state(std::size_t n, std::size_t skip_every = 0, int version = 0) {
    resync::doc::State s;
    auto& c = s.collections["items"];
    c.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (skip_every && i % skip_every == 0) continue;
        resync::doc::Object o;
        o["name"] = resync::doc::Value{"item " + std::to_string(i)};
        o["n"] = resync::doc::Value{static_cast<std::int64_t>(i + version)};
        o["flag"] = resync::doc::Value{i % 2 == 0};
        c.emplace("k" + std::to_string(i), std::move(o));
    }
    return s;
}

/// The baseline: the same rows, encoded the same way, inserted in one transaction.
void bulk_insert(resync::SqliteStore& store, const resync::doc::State& state) {
    auto& db = store.database();
    if (db.exec("BEGIN IMMEDIATE")) std::abort();
    for (const auto& [name, objects] : state.collections) {
        auto& c = db("INSERT OR IGNORE INTO collections(name) VALUES (?)");
        c.bind_blob(name);
        if (c.run()) std::abort();
        for (const auto& [key, object] : objects) {
            auto& o = db("INSERT INTO objects(collection, key, fields) VALUES (?, ?, ?)");
            o.bind_blob(name).bind_blob(key).bind_blob(resync::sqlite::encode_fields(object));
            if (o.run()) std::abort();
        }
    }
    if (db.exec("COMMIT")) std::abort();
}

/// A reset as the session drives one in the store: stage, decode in slices, commit.
resync::DiffStats reset(resync::SqliteStore& store, const std::string& encoded, resync::CommitKind kind) {
    resync::FreshCopyHeader h;
    h.position = {1, 1};
    h.new_ident = 2;
    h.total_bytes = encoded.size();
    if (store.stage_begin(h)) std::abort();
    for (std::size_t at = 0; at < encoded.size(); at += chunk_bytes)
        if (store.stage_append(std::string_view(encoded).substr(at, chunk_bytes))) std::abort();
    for (;;) {
        auto done = store.stage_decode(slice_objects);
        if (!done) std::abort();
        if (*done) break;
    }
    auto stats = store.commit_staged_reset({}, kind);
    if (!stats) std::abort();
    return *stats;
}

void BM_sqlite_bulk_insert(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const auto state = make_state(n);
    const auto file = scratch("bulk.db");
    for (auto _ : st) {
        st.PauseTiming();
        auto store = open_new(file);
        st.ResumeTiming();
        bulk_insert(store, state);
    }
    remove_db(file);
    st.counters["objects"] = static_cast<double>(n);
}

void reset_bench(benchmark::State& st, resync::CommitKind kind, std::size_t skip_every_live, std::size_t skip_every_fresh,
                 int version) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const auto live = make_state(n, skip_every_live);
    const auto encoded = resync::doc::encode_snapshot(make_state(n, skip_every_fresh, version));
    const auto file = scratch("reset.db");
    std::size_t peak = 0;
    resync::DiffStats stats;
    for (auto _ : st) {
        st.PauseTiming();
        {
            auto store = open_new(file);
            bulk_insert(store, live);
        }
        auto store = resync::SqliteStore::open(file.string());
        if (!store) std::abort();
        resync_bench::heap::reset_peak();
        const std::size_t base = resync_bench::heap::live;
        st.ResumeTiming();
        stats = reset(*store, encoded, kind);
        st.PauseTiming();
        peak = std::max(peak, resync_bench::heap::peak - base);
        if (store->object_count() != n - (skip_every_fresh ? (n + skip_every_fresh - 1) / skip_every_fresh : 0))
            resync_bench::fail(st, "the reset did not install the fresh copy");
        st.ResumeTiming();
    }
    remove_db(file);
    st.counters["objects"] = static_cast<double>(n);
    st.counters["peak_heap_bytes"] = static_cast<double>(peak);
    st.counters["encoded_bytes"] = static_cast<double>(encoded.size());
    st.counters["written"] = static_cast<double>(stats.written());
}

void BM_sqlite_reset_replace(benchmark::State& st) { reset_bench(st, resync::CommitKind::replace, 0, 0, 1); }
// Every object differs: the most a diff writes.
void BM_sqlite_reset_diff(benchmark::State& st) { reset_bench(st, resync::CommitKind::diff, 0, 0, 1); }
// Realm's client-reset shapes, 10,000 objects: nothing changed; the server deleted half (the
// fresh copy lacks every other object); the client deleted half (the live state lacks them).
void BM_sqlite_realm_no_change(benchmark::State& st) { reset_bench(st, resync::CommitKind::diff, 0, 0, 0); }
void BM_sqlite_realm_server_deleted_half(benchmark::State& st) { reset_bench(st, resync::CommitKind::diff, 0, 2, 0); }
void BM_sqlite_realm_client_deleted_half(benchmark::State& st) { reset_bench(st, resync::CommitKind::diff, 2, 0, 0); }

void register_all() {
    // 10^4 and 10^5 rows (10^4 only in short mode): the peak heap must not grow with N.
    const long sizes[] = {10000, resync_bench::short_mode ? 0 : 100000};
    const int iterations = resync_bench::short_mode ? 1 : 5;
    using Bench = void (*)(benchmark::State&);
    const std::pair<const char*, Bench> at_n[] = {{"sqlite/bulk_insert", BM_sqlite_bulk_insert},
                                                  {"sqlite/reset_replace", BM_sqlite_reset_replace},
                                                  {"sqlite/reset_diff", BM_sqlite_reset_diff}};
    for (const long n : sizes)
        for (const auto& [name, f] : at_n)
            if (n) benchmark::RegisterBenchmark(name, f)->Arg(n)->ArgName("N")->Unit(benchmark::kMillisecond)->Iterations(iterations);
    // Realm's shapes are 10,000 objects (their baseline: the bulk insert of 10,000 above).
    const std::pair<const char*, Bench> realm[] = {{"sqlite/realm/no_change", BM_sqlite_realm_no_change},
                                                   {"sqlite/realm/server_deleted_half", BM_sqlite_realm_server_deleted_half},
                                                   {"sqlite/realm/client_deleted_half", BM_sqlite_realm_client_deleted_half}};
    for (const auto& [name, f] : realm)
        benchmark::RegisterBenchmark(name, f)->Arg(10000)->ArgName("N")->Unit(benchmark::kMillisecond)->Iterations(iterations);
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
