#include "world.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace resync_demo {

namespace {

/// A folder of its own for this run under `base`, so that the check reads back only the backup
/// files this run wrote (a second run with the same seed writes the very same operations).
std::filesystem::path run_folder(const Options& o) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    return std::filesystem::path(o.backup_dir) /
           (std::string(to_string(o.scenario)) + "-" + std::string(to_string(o.strategy)) + "-" + stamp + "-" +
            std::to_string(::getpid()));
}

} // namespace

World::World(const Options& o)
    : options(o), backup_dir(run_folder(o)), server(resync::testing::ServerOptions{.seed = o.seed}),
      link(server, o.seed), store(o.seed), rng(o.seed) {}

std::string World::key(std::size_t i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "item-%06zu", i);
    return buffer;
}

std::vector<resync::doc::Operation> World::write(std::vector<resync::doc::Operation> ops) {
    auto written = store.write([&](resync::doc::Writer& w) {
        for (const auto& op : ops) w.apply(op);
    });
    if (!written || *written == 0) return {};
    return ops;
}

} // namespace resync_demo
