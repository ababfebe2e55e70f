#pragma once
// The six scenarios, as steps on the World that need no session: the demo's driver (run.cpp)
// calls them in order, syncing in between with whichever strategy was chosen.

#include "world.hpp"

#include <cstddef>
#include <functional>

namespace resync_demo {

/// The shared data: the server holds `objects` objects, the client downloads them (`sync`); for
/// a restore, the server takes its backup and the client then syncs a few more changes, which
/// the restore will lose.
void prepare(World& w, const std::function<void()>& sync);

/// The cause: the client goes offline, the server does what the scenario says (and other
/// clients write: erase a few objects, edit others), and the client writes its offline changes.
void provoke(World& w);

/// One more offline change, between the attempts of a storm.
void write_one_more(World& w);

/// The server answers the client's next message with an error that asks for a reset.
void demand_reset(World& w);

} // namespace resync_demo
