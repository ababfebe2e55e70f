// A session used from a file that does not compile it: session.hpp declares it, session.cpp
// compiles it once, and this file - like every other file of a larger application - only calls
// it. The server is restored from a backup that lacks the client's 2nd task, while the client,
// offline, writes a 3rd: the reset recovers the 3rd onto the server's copy (the 2nd, which the
// restore lost, goes to the store's quarantine), and both end with tasks 1 and 3.
#include "session.hpp"

#include <resync/testing/server.hpp>

#include <iostream>
#include <string>

int main() {
    resync::testing::Server<resync::doc::Model> server;
    tasks::Link link(server);
    resync::MemoryStore store;
    tasks::Session session(store, link);

    auto add_task = [&](const std::string& key, const std::string& title) {
        (void)store.write([&](resync::doc::Writer& w) { w.create("tasks", key).set("tasks", key, "title", title); });
    };

    add_task("t1", "write the report");
    session.run_until_idle();
    auto nightly = server.backup();

    add_task("t2", "book the train");
    session.run_until_idle();

    link.go_offline();
    server.restore(nightly);
    add_task("t3", "call the plumber");
    link.go_online();
    session.run_until_idle();

    const auto tasks_on_server = server.state().object_count();
    std::cout << "resets: " << session.resets_completed() << "; tasks on the server: " << tasks_on_server
              << "; the client holds the same: " << (store.state() == server.state() ? "yes" : "no") << "\n";
    // One reset (the restore); tasks 1 and 3 on the server, the client the same.
    const bool t3_recovered = store.state().find("tasks", "t3") != nullptr;
    return session.resets_completed() == 1 && tasks_on_server == 2 && t3_recovered && store.state() == server.state()
               ? 0
               : 1;
}
