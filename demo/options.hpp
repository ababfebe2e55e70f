#pragma once
// What the demo was asked to do: the scenario, the strategy and the sizes, as parsed from the
// command line (cli.cpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace resync_demo {

/// The cause of the reset the demo provokes on the in-process server.
enum class Scenario { restore, reenable, schema, expire, error, storm };

/// The ready-made strategy the client runs.
enum class StrategyName { manual, discard, recover, recover_or_discard, recover_all };

inline constexpr std::array scenarios{Scenario::restore, Scenario::reenable, Scenario::schema,
                                      Scenario::expire,  Scenario::error,    Scenario::storm};
inline constexpr std::array strategies{StrategyName::manual, StrategyName::discard, StrategyName::recover,
                                       StrategyName::recover_or_discard, StrategyName::recover_all};

/// The name on the command line.
constexpr std::string_view to_string(Scenario s) noexcept {
    switch (s) {
    case Scenario::restore: return "restore";
    case Scenario::reenable: return "reenable";
    case Scenario::schema: return "schema";
    case Scenario::expire: return "expire";
    case Scenario::error: return "error";
    case Scenario::storm: return "storm";
    }
    return "unknown";
}

/// What the scenario does to the server, in words.
constexpr std::string_view describe(Scenario s) noexcept {
    switch (s) {
    case Scenario::restore: return "the server is restored from a backup taken before the client's last sync";
    case Scenario::reenable: return "sync is terminated and re-enabled on the server (a new epoch)";
    case Scenario::schema: return "a destructive schema change: the integer field n becomes a string";
    case Scenario::expire: return "the client stays offline while the server compacts its history past it";
    case Scenario::error: return "the server answers the client with an error that asks for a reset";
    case Scenario::storm: return "the server demands a reset again after every completed one";
    }
    return "unknown";
}

/// The name on the command line.
constexpr std::string_view to_string(StrategyName s) noexcept {
    switch (s) {
    case StrategyName::manual: return "manual";
    case StrategyName::discard: return "discard";
    case StrategyName::recover: return "recover";
    case StrategyName::recover_or_discard: return "recover-or-discard";
    case StrategyName::recover_all: return "recover-all";
    }
    return "unknown";
}

/// The library type the strategy name stands for.
constexpr std::string_view type_name(StrategyName s) noexcept {
    switch (s) {
    case StrategyName::manual: return "resync::Manual";
    case StrategyName::discard: return "resync::DiscardUnsynced";
    case StrategyName::recover: return "resync::doc::Recover";
    case StrategyName::recover_or_discard: return "resync::doc::RecoverOrDiscard";
    case StrategyName::recover_all: return "resync::doc::RecoverAll";
    }
    return "unknown";
}

/// Everything the command line says.
struct Options {
    Scenario scenario = Scenario::restore;
    StrategyName strategy = StrategyName::recover_or_discard;
    std::size_t objects = 10000;        ///< objects the client and server share before the cause
    std::size_t offline_changes = 200;  ///< changesets the client writes while it cannot sync
    std::uint64_t seed = 1;             ///< seeds the server, the store and the choice of changes
    std::string backup_dir = "resync-demo-backups";
    bool json = false;
};

} // namespace resync_demo
