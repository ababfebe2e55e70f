// A client whose server is restored from a backup: it detects the reset, backs its data up to
// a file, discards, and carries on in sync - and nothing it wrote is lost. Everything runs in
// this process.
#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <iostream>
#include <string>

using namespace resync;

// Back up to a durable file, then discard and take the server's copy.
using BackUpThenDiscard = Strategy<backup::File, discard::Replace>;
using Link = testing::LoopbackTransport<doc::Model>;

int main() {
    testing::Server<doc::Model> server; // the in-process reference server
    Link link(server);                   // this client's connection to it
    MemoryStore store;                   // this client's local replica
    SessionOptions options;
    options.backup_directory = "quickstart-backups"; // durable, owner-only; created if missing
    SyncSession<MemoryStore, Link, BackUpThenDiscard> session(store, link, {}, options);

    auto add_task = [&](const std::string& key, const std::string& title) {
        (void)store.write([&](doc::Writer& w) { w.create("tasks", key).set("tasks", key, "title", title); });
    };

    add_task("t1", "write the report");
    session.run_until_idle();
    auto nightly = server.backup();
    std::cout << "synced 1 task; the server takes a backup at version " << server.latest().version << "\n";

    add_task("t2", "book the train");
    session.run_until_idle();
    std::cout << "synced a 2nd task; the server is at version " << server.latest().version << "\n";

    link.go_offline();
    server.restore(nightly);
    std::cout << "the server crashes and is restored from its backup, back to version "
              << server.latest().version << "\n";
    add_task("t3", "call the plumber");
    std::cout << "offline, the client adds a 3rd task (not yet synced)\n";

    session.on_after_reset([](const doc::State*, const MemoryStore& after, const ResetReport& report) {
        std::cout << "\nreset detected: " << to_string(report.trigger.reason) << " (the client had version "
                  << report.trigger.client_position.version << ", the server has "
                  << report.trigger.server_position.version << ")\n"
                  << "backed up " << report.objects_before.value_or(0) << " tasks and " << report.unsynced_changesets
                  << " unsynced change to " << report.backup_location << "\n"
                  << "discarded the unsynced change (" << report.count(OperationFate::discarded)
                  << " operations, in the backup file); the 2nd task, which the restore lost, is reported ("
                  << report.count(OperationFate::lost_on_server) << " operations) and kept in the quarantine\n"
                  << "the client now has " << after.state().object_count() << " task, as the server does\n";
    });
    link.go_online();
    session.run_until_idle();

    auto backup = restore_backup(session.last_report()->backup_location);
    std::cout << "the backup file holds " << backup->state.object_count() << " tasks and "
              << backup->unsynced.size() << " unsynced change; the quarantine holds "
              << store.quarantined().size() << " operations: nothing was lost\n";
    return store.state() == server.state() && backup->unsynced.size() == 1 ? 0 : 1;
}
