// resync-demo: provokes a client reset on the embedded default - a MemoryStore syncing with the
// in-process reference server over a loopback link - under a strategy of your choice, shows the
// reset's progress, then its report, then checks on its own that nothing the client wrote was
// lost. Exit code: 0 when nothing was lost and the client ended in sync, 1 otherwise, 2 on
// wrong arguments.
//
//   resync-demo --scenario restore --strategy recover
//   resync-demo --scenario storm --strategy recover-or-discard --json

#include "check.hpp"
#include "cli.hpp"
#include "progress.hpp"
#include "report_json.hpp"
#include "report_table.hpp"
#include "run.hpp"
#include "world.hpp"

#include <filesystem>
#include <iostream>
#include <system_error>
#include <unistd.h>

int main(int argc, char** argv) {
    using namespace resync_demo;
    const CommandLine command = parse_command_line(argc, argv);
    if (!command.options) return command.exit_code;
    const Options& options = *command.options;

    // The folder the user named holds one folder per run, which the library creates owner-only.
    std::error_code ec;
    if (std::filesystem::create_directories(options.backup_dir, ec))
        std::filesystem::permissions(options.backup_dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
    if (ec) {
        std::cerr << "resync-demo: cannot create the backup folder " << options.backup_dir << ": " << ec.message()
                  << "\n";
        return 1;
    }

    World world(options);
    ProgressView progress(std::cerr, is_terminal(STDERR_FILENO));
    const Run run = resync_demo::run(world, progress);
    const Check check = check_keeping(world);

    if (options.json) print_json(std::cout, world, run, check);
    else print_table(std::cout, world, run, check);

    const bool in_sync = run.final_state == resync::SessionState::syncing && !run.timed_out;
    return check.passed() && in_sync ? 0 : 1;
}
