// Manual reset: the session stops and hands the application a ResetRequest with a durable backup
// file. The application decides when to reset - here after a restart - and then re-applies the
// unsynced changes it finds in the backup by hand.
#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

using namespace resync;

using Session = SyncSession<MemoryStore, testing::LoopbackTransport<resync::doc::Model>, Manual>;

int main() {
    const auto backups = std::filesystem::temp_directory_path() / "resync-manual-example";
    testing::Server<resync::doc::Model> server;
    testing::LoopbackTransport<resync::doc::Model> link(server);
    MemoryStore store;

    std::optional<ResetRequest> request;
    {
        Session session(store, link, Manual{backup::File{backups}});
        session.on_reset_request([&](const ResetRequest& r) { request = r; });
        (void)store.write([](doc::Writer& w) { w.create("notes", "n1").set("notes", "n1", "text", std::string("hello")); });
        session.run_until_idle();

        // Sync is terminated and re-enabled on the server while the client writes offline.
        link.go_offline();
        server.terminate_and_reenable();
        (void)store.write([](doc::Writer& w) { w.create("notes", "n2").set("notes", "n2", "text", std::string("offline idea")); });
        link.go_online();
        session.run_until_idle();
        std::cout << "session state: " << to_string(session.state()) << "\n"
                  << "reason: " << to_string(request->trigger.reason) << "\n"
                  << "backup: " << request->backup_path << "\n"
                  << "local data untouched: " << store.state().object_count() << " notes\n";
        // The report of the waiting reset counts what the decision is about: the offline note,
        // one changeset of two operations (create, set).
        const ResetReport& waiting = *session.last_report();
        std::cout << "report: " << to_string(waiting.outcome) << ", " << waiting.unsynced_changesets
                  << " unsynced changeset(s), " << waiting.unsynced_operations << " operation(s)\n";
        if (waiting.unsynced_changesets != 1 || waiting.unsynced_operations != 2) return 1;
    } // the application quits; the request is durable in the store

    Session session(store, link, Manual{backup::File{backups}});
    session.poll();
    std::cout << "after a restart the request is still there: " << (session.pending_request() ? "yes" : "no") << "\n";
    auto saved = restore_backup(session.pending_request()->backup_path);
    if (!saved) {
        std::cerr << "cannot read the backup: " << saved.error().message() << "\n";
        return 1;
    }
    if (auto ec = session.execute_reset()) {
        std::cerr << "cannot reset: " << ec.message() << "\n";
        return 1;
    }
    session.run_until_idle();
    std::cout << "reset done: the client has " << store.state().object_count() << " note(s), like the server\n";

    // The application's own recovery: re-apply the unsynced changes from the backup.
    for (const auto& changeset : saved->unsynced)
        (void)store.write([&](doc::Writer& w) { for (const auto& op : changeset.ops) w.apply(op); });
    session.run_until_idle();
    std::cout << "re-applied " << saved->unsynced.size() << " unsynced change(s) from the backup; the server now has "
              << server.state().object_count() << " notes\n";
    std::filesystem::remove_all(backups);
    return server.state().object_count() == 2 && store.state() == server.state() ? 0 : 1;
}
