// The command line, parsed by CLI11. Wrong arguments print what is wrong and the usage to stderr
// and end with exit code 2 (CLI11's own codes vary by error kind; scripts expect 2, like getopt
// tools).
#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <string>

namespace resync_demo {

namespace {

/// The command-line names of `values`, for CLI11's CheckedTransformer.
template <class Enum, std::size_t N>
std::map<std::string, Enum> names_of(const std::array<Enum, N>& values) {
    std::map<std::string, Enum> out;
    for (Enum v : values) out.emplace(std::string(to_string(v)), v);
    return out;
}

} // namespace

CommandLine parse_command_line(int argc, char** argv) {
    Options o;
    CLI::App app{"resync-demo: provokes a client reset on an in-process server and shows what the reset did to "
                 "every offline change (MemoryStore + testing::Server + testing::LoopbackTransport)",
                 "resync-demo"};
    // Parsed as names, then looked up: CLI11 2.1 cannot print the default of an enum whose
    // to_string returns a string_view.
    const auto scenario_names = names_of(scenarios);
    const auto strategy_names = names_of(strategies);
    std::string scenario{to_string(o.scenario)}, strategy{to_string(o.strategy)};
    app.add_option("--scenario", scenario, "what makes the client reset")
        ->check(CLI::IsMember(scenario_names))
        ->capture_default_str();
    app.add_option("--strategy", strategy, "how the client resets")
        ->check(CLI::IsMember(strategy_names))
        ->capture_default_str();
    app.add_option("--objects", o.objects, "objects client and server share before the reset")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
        ->capture_default_str();
    app.add_option("--offline-changes", o.offline_changes, "changes the client writes while it cannot sync")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seeds the server, the client and the choice of changes")->capture_default_str();
    app.add_option("--backup-dir", o.backup_dir, "where backup files go (created owner-only if missing)")
        ->capture_default_str();
    app.add_flag("--json", o.json, "print the report as JSON (docs/demo-report.schema.json) instead of a table");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return {std::nullopt, 0};
    } catch (const CLI::ParseError& e) {
        std::cerr << "resync-demo: " << e.what() << "\n\n" << app.help();
        return {std::nullopt, 2};
    }
    o.scenario = scenario_names.at(scenario);
    o.strategy = strategy_names.at(strategy);
    return {o, 0};
}

} // namespace resync_demo
