#pragma once
// The demo's own oracle for the keeping rule, computed without the session's report: each
// operation the client wrote offline (and each acknowledged one a restore lost) is looked for on
// the server, still unsynced in the store, in the store's quarantine, and in the backup files of
// this run, read back from disk. It must be somewhere, and never on the server twice.

#include "world.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace resync_demo {

/// Where the demo found what it wrote.
struct Check {
    std::size_t looked_for = 0;  ///< operations looked for
    std::size_t on_server = 0;   ///< in the server's history of client changes, once
    std::size_t unsynced = 0;    ///< not on the server, still unsynced in the store
    std::size_t quarantined = 0; ///< not on the server, in the store's quarantine
    std::size_t in_backup = 0;   ///< only in a backup file
    std::size_t twice = 0;       ///< on the server more than once
    std::size_t gone = 0;        ///< nowhere
    std::vector<std::string> problems;     ///< the first few, in words
    std::vector<std::string> backup_files; ///< this run's backup files, read back
    std::vector<std::string> unreadable;   ///< backup files that failed to read back, with why
    bool converged = false;                ///< the client's data equals the server's

    bool nothing_lost() const noexcept { return gone == 0 && twice == 0 && looked_for > 0; }
    bool passed() const noexcept { return nothing_lost() && converged; }
};

/// Looks for every operation in `w.offline` and `w.lost_by_restore`.
Check check_keeping(const World& w);

} // namespace resync_demo
