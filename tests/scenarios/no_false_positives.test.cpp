// Scenario: no false positives. Thousands of random normal-sync steps across three clients -
// conflicting local writes on a small key space, disconnects and reconnects, dropped,
// duplicated and delayed messages, lost acknowledgements, and server-side writes - must never
// trigger a reset, and in the end every replica converges to the server's state, the server's
// state is what its own history says, and every local change was integrated exactly once.
// Fixed seeds throughout.
// The random steps run on every store (MemoryStore, SqliteStore).

#include <support/client.hpp>
#include <support/required_members_store.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>

#include <catch2/catch.hpp>

#include <resync/memory_store.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::SessionState;
using resync_test::Replica;

namespace {

using Rng = std::mt19937_64;

std::size_t pick(Rng& rng, std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

std::string random_key(Rng& rng) { return "k" + std::to_string(pick(rng, 6)); }

resync::doc::Value random_value(Rng& rng) {
    switch (pick(rng, 5)) {
    case 0: return resync::doc::Null{};
    case 1: return pick(rng, 2) == 1;
    case 2: return static_cast<std::int64_t>(pick(rng, 100));
    case 3: return static_cast<double>(pick(rng, 1000)) / 8.0;
    default: return std::string("s") + std::to_string(pick(rng, 50));
    }
}

/// One random operation on a small key space, so that clients conflict all the time.
resync::doc::Operation random_operation(Rng& rng) {
    const std::string collection = pick(rng, 4) == 0 ? "other" : "items";
    const std::string key = random_key(rng);
    switch (pick(rng, 10)) {
    case 0:
    case 1: return resync::doc::CreateObject{collection, key};
    case 2: return resync::doc::EraseObject{collection, key};
    case 3:
    case 4:
    case 5: return resync::doc::SetField{collection, key, pick(rng, 2) ? "a" : "b", random_value(rng)};
    case 6: return resync::doc::SetField{collection, key, "n", static_cast<std::int64_t>(pick(rng, 10))};
    default: return resync::doc::AddInteger{collection, key, "n", static_cast<std::int64_t>(pick(rng, 21)) - 10};
    }
}

/// Faults every link carries, at random, all the time.
resync::testing::LinkFaults background_faults() {
    resync::testing::LinkFaults f;
    f.drop_rate = 0.04;
    f.duplicate_rate = 0.08;
    f.delay_rate = 0.08;
    f.disconnect_rate = 0.005;
    return f;
}

} // namespace

TEMPLATE_LIST_TEST_CASE("thousands of random sync steps with disconnects, dropped, duplicated and delayed messages "
                        "and lost acknowledgements trigger no reset, and every replica converges to a "
                        "self-consistent server",
                        "[scenario][no-false-positives][property]", resync_test::ScenarioStores) {
    using S = TestType;
    using Client = Replica<resync::DiscardUnsynced, resync_test::Loopback, S>;
    constexpr int steps = 20000;
    resync_test::ScratchDir dir; // only an (erroneous) escalation to manual would write here
    resync::testing::Server<resync::doc::Model> server(resync::testing::ServerOptions{20240611, 256, 64 * 1024});
    std::vector<std::unique_ptr<Client>> clients;
    for (std::uint64_t seed : {101u, 202u, 303u}) {
        clients.push_back(std::make_unique<Client>(server, resync::DiscardUnsynced{}, resync_test::options_in(dir), seed));
        clients.back()->link().faults() = background_faults();
    }
    std::size_t resets_begun = 0;
    for (auto& c : clients) c->session().on_before_reset([&](const auto&, const auto&) { ++resets_begun; });

    Rng rng(19);
    std::size_t local_writes = 0, server_writes = 0, toggles = 0, scripted = 0, polls = 0;
    for (int step = 0; step < steps; ++step) {
        auto& c = *clients[pick(rng, clients.size())];
        const std::size_t roll = pick(rng, 100);
        if (roll < 25) {
            const std::size_t n = 1 + pick(rng, 3);
            auto v = c.store.write([&](resync::doc::Writer& w) {
                for (std::size_t i = 0; i < n; ++i) w.apply(random_operation(rng));
            });
            REQUIRE(v);
            REQUIRE(*v == c.store.last_client_version());
            ++local_writes;
        } else if (roll < 85) {
            const SessionState s = c.session().poll();
            ++polls;
            if (s == SessionState::stopped || s == SessionState::resetting || s == SessionState::awaiting_user) {
                FAIL_CHECK("step " << step << ": a client went " << resync::to_string(s) << ", last error: "
                                   << c.session().last_error().message());
                break;
            }
        } else if (roll < 90) {
            if (c.link().connected()) c.link().go_offline();
            else c.link().go_online();
            ++toggles;
        } else if (roll < 97) {
            auto& f = c.link().faults();
            switch (pick(rng, 5)) {
            case 0: ++f.lose_acks; break;
            case 1: ++f.drop_to_server; break;
            case 2: ++f.drop_to_client; break;
            case 3: ++f.duplicate_to_client; break;
            default: ++f.delay_to_client; break;
            }
            ++scripted;
        } else {
            server.write({random_operation(rng), random_operation(rng)});
            ++server_writes;
        }
    }
    INFO(local_writes << " local writes, " << server_writes << " server writes, " << polls << " polls, " << toggles
                      << " disconnects/reconnects, " << scripted << " scripted faults");
    REQUIRE(local_writes > 1000);
    REQUIRE(server_writes > 50);
    REQUIRE(toggles > 200);

    // Quiet the links and let everyone catch up.
    for (auto& c : clients) {
        c->link().faults() = {};
        c->link().go_online();
    }
    for (int round = 0; round < 3; ++round)
        for (auto& c : clients) REQUIRE(c->sync(5000) == SessionState::syncing);

    CHECK(resets_begun == 0);
    std::map<std::pair<resync::ClientIdent, resync::ClientVersion>, int> integrated;
    for (const auto& e : server.history())
        if (e.origin != 0) ++integrated[{e.origin, e.client_version}];
    for (const auto& [key, count] : integrated) {
        INFO("client " << key.first << " version " << key.second);
        CHECK(count == 1);
    }

    const resync::doc::State reference = resync_test::replay_history(server);
    INFO("server:\n" << resync_test::to_text(server.state()) << "reference:\n" << resync_test::to_text(reference));
    CHECK(server.state() == reference);
    REQUIRE(server.history_floor() == 0);

    std::size_t changesets = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto& c = *clients[i];
        INFO("client #" << i << " (ident " << c.ident() << ")\n" << resync_test::to_text(c.store.state()));
        CHECK(c.session().resets_completed() == 0);
        CHECK_FALSE(c.session().last_report().has_value());
        CHECK(c.session().idle());
        CHECK(c.store.state() == server.state());
        CHECK(c.store.unsynced().empty());
        CHECK(c.store.sync_state().download == server.latest());
        CHECK_FALSE(c.store.sync_state().pending_reset.has_value());
        // Every local changeset reached the server, once.
        const resync::ClientVersion last = c.store.last_client_version();
        CHECK(server.last_integrated(c.ident()) == last);
        for (resync::ClientVersion v = 1; v <= last; ++v) {
            auto it = integrated.find({c.ident(), v});
            if (it == integrated.end() || it->second != 1)
                FAIL_CHECK("client version " << v << " was integrated "
                                             << (it == integrated.end() ? 0 : it->second) << " times");
        }
        changesets += last;
    }
    CHECK(changesets == local_writes);
    std::size_t from_clients = 0;
    for (const auto& e : server.history()) from_clients += e.origin != 0;
    CHECK(from_clients == local_writes);
    CHECK(resync_test::file_count(dir) == 0);
}

// A reset over store `S` that found b and c on the client and only a on the restored server: the
// report of the DiscardUnsynced reset it ran.
template <class S>
resync::ResetReport report_of_a_reset(S& store) {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server, 3);
    resync_test::ScratchDir dir;
    resync::SyncSession<S, resync::testing::LoopbackTransport<resync::doc::Model>, resync::DiscardUnsynced>
        session(store, link, {}, resync_test::options_in(dir));
    const auto put = [&](const char* key) {
        REQUIRE(store.inner.write([&](resync::doc::Writer& w) { w.create("items", key); }));
    };
    put("a");
    REQUIRE(session.run_until_idle(1000) == SessionState::syncing);
    const auto backup = server.backup();
    put("b");
    REQUIRE(session.run_until_idle(1000) == SessionState::syncing);
    server.restore(backup);
    put("c");
    session.run_until_idle(1000);
    REQUIRE(session.resets_completed() == 1);
    REQUIRE(session.last_report().has_value());
    REQUIRE(store.inner.state().collection_size("items") == 1);
    return *session.last_report();
}

// About stores with a live view and no object count, so it runs on those test doubles only:
// MemoryStore and SqliteStore count their objects themselves.
TEST_CASE("a store that lends its live snapshot has its objects counted in reports, one whose view "
          "is a copy has none rather than a copy made to count them",
          "[scenario][store][report]") {
    resync_test::LendingViewStore lending;
    const auto lent = report_of_a_reset(lending);
    CHECK(lent.objects_before == 3); // a, b and c
    CHECK(lent.objects_after == 1);  // a, as on the restored server

    resync_test::CopyingViewStore copying;
    const auto copied = report_of_a_reset(copying);
    CHECK_FALSE(copied.objects_before.has_value());
    CHECK_FALSE(copied.objects_after.has_value());
    CHECK(copying.copies == 0);
}

// About a store that lacks an optional capability (has_unsynced()), so it runs on that test
// double only: MemoryStore and SqliteStore both have the capability.
TEST_CASE("a store without has_unsynced() uploads, goes idle and finishes a reset the same way",
          "[scenario][store]") {
    resync::testing::Server<resync::doc::Model> server;
    // Only what the Store concept requires: no has_unsynced(), so the session lists unsynced()
    // to decide whether to upload and whether it is idle.
    resync_test::RequiredMembersStore store;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server, 3);
    resync_test::ScratchDir dir;
    resync::SyncSession<resync_test::RequiredMembersStore, resync::testing::LoopbackTransport<resync::doc::Model>,
                        resync::DiscardUnsynced>
        session(store, link, {}, resync_test::options_in(dir));
    const auto put = [&](const char* key) {
        REQUIRE(store.inner.write([&](resync::doc::Writer& w) { w.create("items", key); }));
    };

    put("a");
    REQUIRE(session.run_until_idle(1000) == SessionState::syncing);
    CHECK(session.idle());
    CHECK(store.unsynced().empty());
    CHECK(server.latest().version == 1);

    const auto backup = server.backup();
    put("b");
    REQUIRE(session.run_until_idle(1000) == SessionState::syncing);
    CHECK(server.latest().version == 2);
    server.restore(backup);
    put("c"); // unsynced when the restore is found: DiscardUnsynced discards it
    session.run_until_idle(1000);
    CHECK(session.resets_completed() == 1);
    // This store keeps no quarantine: the discarded create is kept in a backup file.
    REQUIRE(session.last_report().has_value());
    REQUIRE_FALSE(session.last_report()->keeping_location.empty());
    auto kept = resync::restore_backup(session.last_report()->keeping_location);
    REQUIRE(kept.has_value());
    REQUIRE(kept->unsynced.size() == 1);
    CHECK(kept->unsynced.front().ops == resync::doc::Changeset{resync::doc::CreateObject{"items", "c"}});
    CHECK(session.idle());
    CHECK_FALSE(store.sync_state().pending_reset.has_value());
    CHECK(store.unsynced().empty());
    CHECK(store.inner.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
