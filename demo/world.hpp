#pragma once
// The embedded default the demo runs on, all in this process: the reference server, one client's
// link to it and its MemoryStore - and what the demo itself wrote, so that it can look for every
// change afterwards without asking the session (check.hpp).

#include "options.hpp"

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace resync_demo {

using Server = resync::testing::Server<resync::doc::Model>;
using Link = resync::testing::LoopbackTransport<resync::doc::Model>;

/// The server, the client and the demo's own record of what the client wrote.
struct World {
    explicit World(const Options& options);

    Options options;
    std::filesystem::path backup_dir; ///< this run's own folder under --backup-dir
    Server server;
    Link link;
    resync::MemoryStore store;
    std::mt19937_64 rng;

    /// Operations the client wrote while it could not sync (the demo's oracle looks for each).
    std::vector<resync::doc::Operation> offline;
    /// Operations the server acknowledged and then lost when it was restored from its backup.
    std::vector<resync::doc::Operation> lost_by_restore;
    /// Objects another client erased on the server while this one could not sync.
    std::vector<std::size_t> erased_on_server;
    /// Shared objects the client must no longer edit (erased here or on the server), and how many
    /// offline changes it wrote so far: the state of scenario.cpp's writer.
    std::set<std::size_t> unavailable;
    std::size_t offline_changes_written = 0;
    /// The server's backup (the restore scenario).
    std::optional<Server::Backup> server_backup;
    /// What happened, in order, in words.
    std::vector<std::string> story;

    /// The key of the i-th shared object.
    static std::string key(std::size_t i);
    /// Writes `ops` as one local changeset and returns them (empty if the store refused).
    std::vector<resync::doc::Operation> write(std::vector<resync::doc::Operation> ops);
    void tell(std::string line) { story.push_back(std::move(line)); }
};

} // namespace resync_demo
