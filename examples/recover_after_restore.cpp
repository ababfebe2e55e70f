// Recovery: a server restored from last night's backup loses a change it had already
// acknowledged, while the client also has an offline change. RecoverOrDiscard replays the
// offline change; RecoverAll also puts back the acknowledged change the restore lost.
#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <iostream>
#include <string>

using namespace resync;

template <class Strategy>
bool run(const char* name) {
    testing::Server<resync::doc::Model> server;
    testing::LoopbackTransport<resync::doc::Model> link(server);
    MemoryStore store;
    SyncSession<MemoryStore, testing::LoopbackTransport<resync::doc::Model>, Strategy> session(store, link);

    (void)store.write([](doc::Writer& w) {
        w.create("docs", "plan").set("docs", "plan", "title", std::string("Q3 plan"));
        w.list_push_back("docs", "plan", "items", std::string("hire"));
    });
    session.run_until_idle();
    const auto nightly = server.backup();

    (void)store.write([](doc::Writer& w) { w.set("docs", "plan", "owner", std::string("ana")); });
    session.run_until_idle(); // the server acknowledged "owner = ana"...

    link.go_offline();
    server.restore(nightly); // ...and loses it in the restore
    (void)store.write([](doc::Writer& w) { w.list_push_back("docs", "plan", "items", std::string("budget")); });
    link.go_online();
    session.run_until_idle();

    const ResetReport& report = *session.last_report();
    const doc::Value owner = server.state().get("docs", "plan", "owner");
    const doc::Value items = server.state().get("docs", "plan", "items");
    std::cout << name << ": " << to_string(report.trigger.reason) << ", recovered "
              << report.count(OperationFate::recovered) << " operations";
    if (report.count(OperationFate::lost_on_server))
        std::cout << "; the acknowledged change the restore lost is reported and kept in the quarantine ("
                  << store.quarantined().size() << " operation)";
    else if (report.lost_acknowledged)
        std::cout << " (and " << report.lost_acknowledged << " acknowledged change the restore lost)";
    std::cout << "\n  server now has " << std::get<doc::List>(items).elements.size() << " items; owner = "
              << (doc::is_null(owner) ? "(lost)" : std::get<std::string>(owner)) << "\n";
    return store.state() == server.state();
}

int main() {
    const bool a = run<doc::RecoverOrDiscard>("RecoverOrDiscard");
    const bool b = run<doc::RecoverAll>("RecoverAll");
    return a && b ? 0 : 1;
}
