// backup::File (DESIGN §6: "measured separately, against writing the same bytes with write +
// fsync"): the durable backup of a store of N objects - export the state, encode it with the
// unsynced changes and the sync state, write a temporary file, fsync, link it to a new name,
// fsync the directory - vs. writing the very bytes that backup produced with open + write +
// fsync + close.
//
//   backup_file/backup/N:<n>       backup::File{dir}.backup(store, trigger)
//   backup_file/write_fsync/N:<n>  baseline: the same bytes, one open + write + fsync + close
//
// Both write into the same fresh directory under the system's temporary folder; the files are
// removed with the timer paused. The benchmark checks each backup reads back (restore_backup)
// with the store's object count. Counter: file_MB, the size of the backup file.

#include "support/bench.hpp"
#include "support/workload.hpp"

#include <resync/backup/file.hpp>
#include <resync/memory_store.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

/// A fresh directory for one benchmark, removed when it ends.
struct ScratchDir {
    fs::path path;
    ScratchDir() {
        std::string pattern = (fs::temp_directory_path() / "resync-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

/// A store of `n` simple objects with ten unsynced local changesets.
std::unique_ptr<resync::MemoryStore> make_store(std::size_t n) {
    auto store = std::make_unique<resync::MemoryStore>(7);
    resync_bench::install(*store, resync_bench::make_state(n), resync_bench::synced_state());
    for (std::int64_t i = 0; i < 10; ++i) {
        auto v = store->write([&](resync::doc::Writer& w) {
            w.set(resync_bench::collection, resync_bench::key(static_cast<std::size_t>(i)), "n", resync::doc::Value{i});
        });
        if (!v) return nullptr;
    }
    return store;
}

resync::ResetTrigger rollback() {
    resync::ResetTrigger t;
    t.reason = resync::ResetReason::server_rollback;
    return t;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void backup(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    ScratchDir dir;
    if (dir.path.empty()) return resync_bench::fail(state, "could not create a scratch directory");
    auto store = make_store(n);
    if (!store) return resync_bench::fail(state, "the store refused the set-up");
    const resync::backup::File policy{dir.path};
    const auto trigger = rollback();
    std::uintmax_t bytes = 0;
    for (auto _ : state) {
        auto path = policy.backup(*store, trigger, {});

        state.PauseTiming();
        if (!path) return resync_bench::fail(state, "the backup failed: " + path.error().message());
        auto back = resync::restore_backup(*path);
        if (!back || back->state.object_count() != n || back->unsynced.size() != 10)
            return resync_bench::fail(state, "the backup does not read back as the store it was taken from");
        std::error_code ec;
        bytes = fs::file_size(*path, ec);
        fs::remove(*path, ec);
        state.ResumeTiming();
    }
    state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
}

void write_fsync(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    ScratchDir dir;
    if (dir.path.empty()) return resync_bench::fail(state, "could not create a scratch directory");
    // The bytes: what backup::File writes for the same store.
    std::string bytes;
    {
        auto store = make_store(n);
        if (!store) return resync_bench::fail(state, "the store refused the set-up");
        auto path = resync::backup::File{dir.path}.backup(*store, rollback(), {});
        if (!path) return resync_bench::fail(state, "the reference backup failed");
        bytes = read_file(*path);
        std::error_code ec;
        fs::remove(*path, ec);
    }
    const std::string target = (dir.path / "plain").string();
    for (auto _ : state) {
        const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return resync_bench::fail(state, "open failed");
        std::string_view rest = bytes;
        while (!rest.empty()) {
            const ::ssize_t w = ::write(fd, rest.data(), rest.size());
            if (w <= 0) break;
            rest.remove_prefix(static_cast<std::size_t>(w));
        }
        const bool ok = rest.empty() && ::fsync(fd) == 0;
        ::close(fd);

        state.PauseTiming();
        if (!ok) return resync_bench::fail(state, "write or fsync failed");
        ::unlink(target.c_str());
        state.ResumeTiming();
    }
    state.counters["file_MB"] = static_cast<double>(bytes.size()) / 1e6;
}

void register_all() {
    const std::vector<std::int64_t> sizes = resync_bench::short_mode ? std::vector<std::int64_t>{1'000, 10'000}
                                                                     : std::vector<std::int64_t>{1'000, 10'000, 100'000};
    for (auto n : sizes) {
        for (auto [name, fn] : {std::pair{"backup_file/backup", &backup}, std::pair{"backup_file/write_fsync", &write_fsync}})
            benchmark::RegisterBenchmark(name, fn)->Arg(n)->ArgName("N")->Unit(benchmark::kMillisecond)->UseRealTime();
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
