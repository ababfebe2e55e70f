#pragma once
// The end of a run as readable tables: what happened, each reset (what was detected and why, what
// was backed up and where, each operation's fate and reason, the time per phase), and the check.

#include "check.hpp"
#include "run.hpp"
#include "world.hpp"

#include <iosfwd>

namespace resync_demo {

void print_table(std::ostream& out, const World& w, const Run& run, const Check& check);

} // namespace resync_demo
