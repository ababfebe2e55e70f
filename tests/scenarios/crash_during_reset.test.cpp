// Scenario: the process ends during a reset - before or after any one of its durable steps (every
// write to the store, every step of a backup or staging file) - and starts again on what reached
// storage. For every shipped strategy and three causes (a server restored from a backup, sync
// terminated and re-enabled, a destructive schema change), at every crash point, the keeping rule
// holds: each offline operation ends on the server exactly once, or is still unsynced, or is in
// the store's quarantine or a backup file. A crash is never taken for the same cause again: the
// interrupted attempt resumes from its checkpoint.
// Run on every store (MemoryStore, SqliteStore); the restart opens the store again.

#include <support/keeping.hpp>
#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/faults.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;
using Link = resync::testing::LoopbackTransport<doc::Model>;
using GuardedLink = resync::testing::CrashingTransport<Link>;

enum class Cause { restore, reenable, schema };

const char* name(Cause c) {
    switch (c) {
    case Cause::restore: return "server restored from a backup";
    case Cause::reenable: return "sync terminated and re-enabled";
    case Cause::schema: return "destructive schema change";
    }
    return "?";
}

/// One client on a store `S` and its server, brought to the moment the client comes back online
/// with offline work after `cause`: a counter add, a list insert, a field set and a create, in
/// two changesets; for a restore also an add the server acknowledged and then lost.
template <class S>
struct World {
    resync_test::ScratchDir dir;
    Server server;
    resync_test::StoreBox<S> box{1};
    S& store = box.store;
    Link link{server, 5};
    resync::SessionOptions options = resync_test::options_in(dir);
    std::vector<doc::Operation> offline;   ///< the keeping rule's subjects
    std::vector<doc::Operation> lost_ack;  ///< acknowledged, then lost by a restore

    template <class P>
    World(Cause cause, const P& policy) {
        {
            resync::SyncSession<S, Link, P> s(store, link, policy, options);
            REQUIRE(store.write([](doc::Writer& w) {
                for (const char* k : {"c1", "c2"}) w.create("items", k).set("items", k, "n", std::int64_t{0});
                w.create("lists", "l");
                w.list_push_back("lists", "l", "tags", std::string("m"));
            }));
            REQUIRE(s.run_until_idle() == SessionState::syncing);
            std::optional<Server::Backup> backup;
            if (cause == Cause::restore) {
                backup = server.backup();
                REQUIRE(store.write([](doc::Writer& w) { w.add("items", "c2", "n", 7); }));
                REQUIRE(s.run_until_idle() == SessionState::syncing);
                lost_ack = store.acknowledged_after(0).back().ops;
            }
            link.go_offline();
            switch (cause) {
            case Cause::restore: server.restore(*backup); break;
            case Cause::reenable: server.terminate_and_reenable(); break;
            case Cause::schema: server.change_schema(); break;
            }
        }
        const auto before = store.unsynced().size();
        REQUIRE(store.write([](doc::Writer& w) {
            w.add("items", "c1", "n", 5);
            w.list_push_back("lists", "l", "tags", std::string("x"));
        }));
        REQUIRE(store.write([](doc::Writer& w) {
            w.set("items", "c2", "s", std::string("offline"));
            w.create("items", "o4");
        }));
        auto unsynced = store.unsynced();
        unsynced.erase(unsynced.begin(), unsynced.begin() + static_cast<std::ptrdiff_t>(before));
        offline = resync_test::operations_of(unsynced);
        link.go_online();
    }
};

/// Polls `session` until `done`, answering a manual reset's request at once; at most `polls`.
template <class Session, class F>
void drive(Session& session, F&& done, int polls = 20000) {
    for (int i = 0; i < polls && !done(); ++i) {
        if (session.state() == SessionState::awaiting_user) (void)session.execute_reset();
        session.poll();
    }
}

/// Runs a reset of `w` that crashes as `plan` says, then restarts and runs to the end. Returns
/// the durable steps the crashed run took.
template <class S, class P>
std::size_t crash_and_restart(World<S>& w, const P& policy, resync::testing::FaultPlan& plan, std::string& story) {
    {
        resync::testing::CrashingStore<S> store(w.store, plan);
        GuardedLink link(w.link, plan);
        auto options = w.options;
        options.file_hook = plan.file_hook();
        resync::SyncSession<resync::testing::CrashingStore<S>, GuardedLink, P> session(store, link, policy, options);
        drive(session, [&] { return plan.crashed() || session.idle(); });
        if (session.last_report()) story += resync::to_string(*session.last_report());
    }
    // The restart: a new session over what reached storage (the store opened again, and a new
    // connection).
    resync_test::reopen(w.box);
    w.link.go_offline();
    w.link.go_online();
    resync::SyncSession<S, Link, P> session(w.store, w.link, policy, w.options);
    drive(session, [&] { return session.idle(); });
    if (session.last_report()) story += "after the restart: " + resync::to_string(*session.last_report());
    CHECK(session.idle());
    return plan.steps();
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::Manual, resync::DiscardUnsynced, resync::doc::Recover,
                                         resync::doc::RecoverOrDiscard, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("a process that ends before or after any durable step of a reset loses no offline operation "
                        "and applies none twice: the restart resumes the interrupted attempt",
                        "[scenario][keeping][crash][slow]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const Cause cause = GENERATE(Cause::restore, Cause::reenable, Cause::schema);
    INFO(name(cause));
    const P policy{};

    // A clean run first, to learn how many durable steps the reset takes.
    std::size_t clean_steps = 0;
    {
        World<S> w(cause, policy);
        resync::testing::FaultPlan plan;
        std::string story;
        clean_steps = crash_and_restart(w, policy, plan, story);
        INFO(story);
        CHECK(resync_test::keeping_violations(w.offline, w.server, w.store, w.dir.path()).empty());
        CHECK(w.store.state() == w.server.state());
        REQUIRE(clean_steps >= 4); // the record, the backup checkpoint, the fetch checkpoint, the commit ...
    }

    std::size_t runs = 0;
    for (std::size_t k = 1; k <= clean_steps + 1; ++k) {
        for (const bool after : {false, true}) {
            World<S> w(cause, policy);
            resync::testing::FaultPlan plan;
            if (after) plan.crash_after(k);
            else plan.crash_before(k);
            std::string story;
            crash_and_restart(w, policy, plan, story);
            ++runs;
            INFO("crash " << (after ? "after" : "before") << " durable step " << k << " of " << clean_steps << " ("
                          << (k <= plan.log().size() ? plan.log()[k - 1] : std::string("none")) << ")\n"
                          << story);
            const auto violations = resync_test::keeping_violations(w.offline, w.server, w.store, w.dir.path());
            for (const auto& v : violations) FAIL_CHECK(v);
            // Converged, whatever happened.
            CHECK(w.store.state() == w.server.state());
            CHECK_FALSE(w.store.sync_state().pending_reset.has_value());
            CHECK(w.store.unsynced().empty());
            // What the restore lost after acknowledging it: re-applied by RecoverAll, kept by the others.
            if (!w.lost_ack.empty()) {
                const auto where = resync_test::locate(w.lost_ack, w.server, w.store, w.dir.path());
                const auto& lost = where.at(resync_test::mark_of(w.lost_ack.front()));
                CHECK(lost.on_server <= 1);
                CHECK((lost.on_server == 1 || lost.quarantined || lost.in_backup));
            }
        }
    }
    CHECK(runs == 2 * (clean_steps + 1));
}

} // namespace RESYNC_TEST_FILE
