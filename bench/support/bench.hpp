#pragma once
// The main of every benchmark binary: reads `--short` (CI mode: small sizes, few iterations)
// before the benchmarks are registered, so each benchmark picks its ranges from it.

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <cstring>
#include <string>
#include <vector>

namespace resync_bench {

/// Set by `--short`: small sizes and few iterations, so CI runs everything in a few minutes.
inline bool short_mode = false;

/// Set when a benchmark found the code under test misbehaving (not a timing: a wrong result);
/// the binary then exits with status 1, so CI fails.
inline bool failed = false;

/// Marks the benchmark as failed with `why` and makes the binary exit with status 1.
inline void fail(benchmark::State& state, const std::string& why) {
    failed = true;
    state.SkipWithError(why.c_str());
}

/// Takes `--short` out of the arguments, registers the benchmarks, runs them.
inline int run(int argc, char** argv, void (*register_all)()) {
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--short") == 0)
            short_mode = true;
        else
            args.push_back(argv[i]);
    }
    int n = static_cast<int>(args.size());
    args.push_back(nullptr);
    // glibc: keep freed memory in the process instead of handing it back to the kernel at once.
    // Otherwise whichever side of a comparison happens to hold more memory at a time (a reset
    // holds the old state while it decodes the new one) pays for the kernel zeroing pages that a
    // baseline run in a warm loop gets for free. Long-running processes see a warm heap too.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    register_all();
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
    benchmark::AddCustomContext("resync.mode", short_mode ? "short" : "full");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return failed ? 1 : 0;
}

} // namespace resync_bench

/// Defines `main` for a benchmark binary whose benchmarks `register_all()` registers.
#define RESYNC_BENCH_MAIN(register_all)                                                            \
    int main(int argc, char** argv) { return resync_bench::run(argc, argv, register_all); }
