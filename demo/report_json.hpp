#pragma once
// The end of a run as JSON (nlohmann-json stays in report_json.cpp); the schema is
// docs/demo-report.schema.json.

#include "check.hpp"
#include "run.hpp"
#include "world.hpp"

#include <iosfwd>

namespace resync_demo {

void print_json(std::ostream& out, const World& w, const Run& run, const Check& check);

} // namespace resync_demo
