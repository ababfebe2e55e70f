#pragma once
// The command line of resync-demo (CLI11 stays in cli.cpp).

#include "options.hpp"

#include <optional>

namespace resync_demo {

/// What parsing the command line gave: the options to run with, or the exit code to end with
/// at once (0 after --help, 2 after wrong arguments, usage printed either way).
struct CommandLine {
    std::optional<Options> options;
    int exit_code = 0;
};

CommandLine parse_command_line(int argc, char** argv);

} // namespace resync_demo
