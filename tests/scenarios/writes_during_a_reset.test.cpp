// Scenario: the application keeps writing while a reset runs - while its fresh copy downloads,
// while a manual reset waits for the user, while recovered changes wait for their upload - and
// nothing it writes is lost: a recovering reset recovers it, a discarding one keeps it (in the
// store's quarantine, or a backup file for a store without one), and a repeat trigger during the
// replay recovers what is not uploaded yet instead of discarding it.

#include <support/client.hpp>
#include <support/keeping.hpp>
#include <support/required_members_store.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/file.hpp>
#include <resync/doc.hpp>
#include <resync/replay/batched.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::OperationFate;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;
using Link = resync::testing::LoopbackTransport<doc::Model>;

std::vector<doc::Scalar> list_of(const doc::State& s) {
    std::vector<doc::Scalar> out;
    const auto v = s.get("lists", "l", "tags");
    if (const auto* l = std::get_if<doc::List>(&v))
        for (const auto& e : l->elements) out.push_back(e.value);
    return out;
}

const doc::Scalar m = std::string("m"), x = std::string("x");

/// The store under test, and the store the application writes to: the same one, except for a
/// RequiredMembersStore, which the application writes to through the MemoryStore inside it.
template <class S>
struct Held {
    resync_test::StoreBox<S> box{1};
    S& store = box.store;
    S& app() { return store; }
};
template <>
struct Held<resync_test::RequiredMembersStore> {
    resync_test::RequiredMembersStore store{1};
    resync::MemoryStore& app() { return store.inner; }
};

/// Every store under test, and a store with only the required members (no quarantine).
using StoresAndBareStore = decltype(std::tuple_cat(std::declval<resync_test::ScenarioStores>(),
                                                   std::declval<std::tuple<resync_test::RequiredMembersStore>>()));

} // namespace

TEMPLATE_LIST_TEST_CASE("a repeat trigger while recovered changes wait for their upload recovers them again: two "
                        "offline inserts of x end as [m, x, x]",
                        "[scenario][keeping][cycle-guard][replay]", resync_test::ScenarioStores) {
    // One changeset per upload, so the trigger can come between the two.
    using P = resync::Strategy<resync::backup::Snapshot, resync::recover::Rebase<resync::recover::DocumentRules>,
                               resync::fallback::Discard, resync::replay::Batched<1>>;
    resync_test::ScratchDir dir;
    Server server;
    Held<TestType> held;
    auto& store = held.store;
    Link link(server, 3);
    resync::SyncSession<TestType, Link, P> session(store, link, P{}, resync_test::options_in(dir));
    REQUIRE(store.write([](doc::Writer& w) {
        w.create("lists", "l");
        w.list_push_back("lists", "l", "tags", m);
    }));
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    const auto backup = server.backup();
    REQUIRE(store.write([](doc::Writer& w) { w.create("items", "after-backup"); })); // past the backup point
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    link.go_offline();
    server.restore(backup);
    REQUIRE(store.write([](doc::Writer& w) { w.list_push_back("lists", "l", "tags", x); }));
    REQUIRE(store.write([](doc::Writer& w) { w.list_push_back("lists", "l", "tags", x); }));
    link.go_online();

    // The reset recovers both; the first is uploaded; before the second is, the same cause again.
    bool demanded = false;
    for (int i = 0; i < 20000 && !(demanded && session.idle()); ++i) {
        session.poll();
        if (!demanded && list_of(server.state()).size() == 2) {
            REQUIRE(store.unsynced().size() == 1);
            server.inject_error({resync::server_code::bad_server_version, resync::ServerAction::reset, "again"});
            demanded = true;
        }
    }
    REQUIRE(demanded);
    REQUIRE(session.idle());
    INFO(resync::to_string(*session.last_report()));
    CHECK(session.resets_completed() == 2);
    CHECK(session.last_report()->attempt == 2);
    CHECK(session.last_report()->mode_used == resync::ResetMode::recover);
    CHECK(list_of(server.state()) == std::vector<doc::Scalar>{m, x, x});
    CHECK(store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("writes made while the fresh copy downloads are recovered, or kept by a discarding reset - in "
                        "the quarantine, or a backup file for a store without one",
                        "[scenario][keeping][fetch]", StoresAndBareStore) {
    using Strategy = resync::Strategy<resync::backup::File, resync::discard::Replace>; // discards, with a file
    resync_test::ScratchDir dir;
    Server server;
    Held<TestType> held;
    auto& store = held.store;
    auto& memory = held.app();
    Link link(server, 3);
    auto options = resync_test::options_in(dir);
    options.fresh_chunk_bytes = 16; // the copy arrives over many polls
    resync::SyncSession<TestType, Link, Strategy> session(store, link, Strategy{}, options);
    REQUIRE(memory.write([](doc::Writer& w) {
        for (int i = 0; i < 20; ++i) w.create("items", "k" + std::to_string(i)).set("items", "k" + std::to_string(i), "n", std::int64_t{i});
    }));
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    const auto backup = server.backup();
    // The client moves on past the backup point, so the restore is a rollback for it.
    REQUIRE(memory.write([](doc::Writer& w) { w.create("items", "after-backup"); }));
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    link.go_offline();
    server.restore(backup);
    REQUIRE(memory.write([](doc::Writer& w) { w.set("items", "k1", "n", std::int64_t{100}); }));
    const auto before_reset = memory.unsynced();
    link.go_online();

    // While the copy downloads, the application writes again.
    std::vector<doc::Operation> during;
    std::size_t chunks = 0;
    session.on_progress([&](const resync::Progress& p) {
        if (p.step == resync::ProgressStep::download && ++chunks == 3) {
            REQUIRE(memory.write([](doc::Writer& w) { w.set("items", "k2", "n", std::int64_t{200}); }));
            during.push_back(doc::SetField{"items", "k2", "n", std::int64_t{200}});
        }
    });
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    REQUIRE(during.size() == 1);
    const auto& report = *session.last_report();
    INFO(resync::to_string(report));
    // The backup file was written before the fetch: it holds the first write, not the second.
    auto file = resync_test::read_backup<TestType>(report.backup_location);
    REQUIRE(file);
    CHECK(resync_test::operations_of(file->unsynced) == resync_test::operations_of(before_reset));
    // Both writes are in the report; the second is kept too - in the quarantine or a keeping file.
    CHECK(report.unsynced_operations == 2);
    // (A store that keeps acknowledged history reports the create the restore lost too.)
    CHECK(report.operations.size() == 2 + report.count(OperationFate::lost_on_server));
    if constexpr (resync::store_requirements::keeps_quarantine<TestType>) {
        CHECK(report.count(OperationFate::discarded) == 1);   // in the backup file
        CHECK(report.count(OperationFate::quarantined) == 1); // written after it
        CHECK(report.keeping_location.empty());
    } else {
        CHECK(report.count(OperationFate::discarded) == 2);
        REQUIRE_FALSE(report.keeping_location.empty());
        auto kept = resync::restore_backup(report.keeping_location);
        REQUIRE(kept);
        CHECK(resync_test::operations_of(kept->unsynced) == during);
    }
    auto all = resync_test::operations_of(before_reset);
    all.insert(all.end(), during.begin(), during.end());
    const auto violations = resync_test::keeping_violations(all, server, memory, dir.path());
    for (const auto& v : violations) FAIL_CHECK(v);
    CHECK(memory.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("writes made while a manual reset waits for the user are kept when it runs - also after a "
                        "restart - and the report accounts for them",
                        "[scenario][keeping][manual]", resync_test::ScenarioStores) {
    resync_test::ScratchDir dir;
    Server server;
    auto options = resync_test::options_in(dir);
    resync_test::Replica<resync::Manual, Link, TestType> a(server, resync::Manual{}, options);
    a.put("items", "one", "n", resync_test::num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    server.terminate_and_reenable();
    a.put("items", "before", "n", resync_test::num(2));
    const auto first = a.store.unsynced();
    a.link().go_online();
    REQUIRE(a.sync() == SessionState::awaiting_user);
    const auto request = a.session().pending_request();
    REQUIRE(request);
    // While the application thinks about it, it writes, and restarts.
    a.put("items", "while-waiting", "n", resync_test::num(3));
    auto all = resync_test::operations_of(a.store.unsynced());
    a.restart();
    REQUIRE(a.sync() == SessionState::awaiting_user);
    REQUIRE_FALSE(a.session().execute_reset());
    REQUIRE(a.sync() == SessionState::syncing);
    const auto& report = *a.session().last_report();
    INFO(resync::to_string(report));
    // The request's backup holds what was unsynced then; what came later is in the quarantine.
    auto file = resync_test::read_backup<TestType>(request->backup_path);
    REQUIRE(file);
    CHECK(file->unsynced == first);
    CHECK(report.operations.size() == all.size());
    CHECK(report.count(OperationFate::discarded) == resync_test::operations_of(first).size());
    CHECK(report.count(OperationFate::quarantined) == all.size() - resync_test::operations_of(first).size());
    const auto violations = resync_test::keeping_violations(all, server, a.store, dir.path());
    for (const auto& v : violations) FAIL_CHECK(v);
    CHECK(a.store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
