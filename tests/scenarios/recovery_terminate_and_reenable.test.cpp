// Scenario: sync is terminated and re-enabled on the server: the data is kept, the history
// starts over in a new epoch and every client is forgotten. Recovery is allowed, so under
// Recover, RecoverOrDiscard and RecoverAll the unsynced changes of every client end up on the new
// epoch's server. RecoverAll never re-uploads acknowledged changes across epochs: the server kept
// them in its data, and uploading them again would apply them twice - even when the server's
// error claims a rollback.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::OperationFate;
using resync::ResetMode;
using resync::ResetReason;
using resync::ServerAction;
using resync::SessionState;
using resync_test::el;
using resync_test::list_values;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

/// How client A learns of the re-enable.
enum class Path {
    reconnects,      ///< from the Welcome: another epoch
    stays_connected, ///< from the server's error: it no longer knows A
    claims_rollback, ///< the server's error says "rollback", though the epoch changed
};

const char* name(Path p) {
    switch (p) {
    case Path::reconnects: return "reconnects";
    case Path::stays_connected: return "stays connected";
    case Path::claims_rollback: return "server claims a rollback";
    }
    return "?";
}

ResetReason reason_for(Path p) {
    switch (p) {
    case Path::reconnects: return ResetReason::epoch_changed;
    case Path::stays_connected: return ResetReason::client_unknown;
    case Path::claims_rollback: return ResetReason::server_rollback;
    }
    return ResetReason::server_requested;
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::Recover, resync::doc::RecoverOrDiscard, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("after sync is terminated and re-enabled the unsynced changes of every client are recovered onto "
                   "the new epoch, and acknowledged changes are never uploaded again", "[scenario][recovery][epoch]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const Path path = GENERATE(Path::reconnects, Path::stays_connected, Path::claims_rollback);
    INFO(name(path));

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    Peer<P, resync_test::Loopback, S> b(server, 2, {}, resync_test::options_in(dir), 11);

    // Epoch 1: everything acknowledged, in several changesets.
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.create("items", "counter").set("items", "counter", "c", num(10));
        w.create("items", "kept").set("items", "kept", "n", num(1));
        w.create("lists", "l");
        w.list_push_back("lists", "l", "tags", el("a"));
    }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.add("items", "counter", "c", 5);
        w.list_push_back("lists", "l", "tags", el("b"));
    }));
    REQUIRE(a.sync() == SessionState::syncing);
    b.put("items", "two", "n", num(2));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.acknowledged_after(0).size() == 2);
    const auto old_epoch = server.epoch();
    const auto old_ident = a.ident();

    if (path == Path::reconnects) a.link().go_offline();
    server.terminate_and_reenable();
    REQUIRE(server.epoch() != old_epoch);
    REQUIRE(server.history().empty());

    // B has offline work too; it resets first and goes on writing in the new epoch.
    b.put("items", "from_b", "n", num(3));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(b.session().resets_completed() == 1);
    b.put("items", "two", "n", num(20));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(server.state().get("items", "from_b", "n") == num(3));

    // A's offline work: an add-integer, a field set, a create, a list insert.
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 1); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "kept", "n", num(100)); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.create("items", "new").set("items", "new", "note", str("fresh"));
        w.list_push_back("lists", "l", "tags", el("c"));
    }));
    const auto unsynced_versions = [&] {
        std::vector<resync::ClientVersion> v;
        for (const auto& cs : a.store.unsynced()) v.push_back(cs.client_version);
        return v;
    }();
    REQUIRE(unsynced_versions == std::vector<resync::ClientVersion>{3, 4, 5});
    if (path == Path::reconnects) a.link().go_online();
    if (path == Path::claims_rollback)
        server.inject_error({resync::server_code::bad_server_version, ServerAction::reset, "restored (says the server)"});

    REQUIRE(a.sync() == SessionState::syncing);
    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetReport& report = *a.session().last_report();
    CHECK(report.trigger.reason == reason_for(path));
    CHECK(report.trigger.recovery_allowed);
    CHECK(report.outcome == resync::ResetOutcome::completed);
    CHECK(report.mode_used == ResetMode::recover);
    CHECK(report.lost_acknowledged == 0);
    REQUIRE(report.operations.size() == 5);
    CHECK(report.count(OperationFate::recovered) == 5);

    // The exact state, on the client and the server: epoch 1's data, B's and A's offline work.
    CHECK(a.store.state() == server.state());
    CHECK(server.state().get("items", "counter", "c") == num(16));
    CHECK(server.state().get("items", "kept", "n") == num(100));
    CHECK(server.state().get("items", "new", "note") == str("fresh"));
    CHECK(server.state().get("items", "two", "n") == num(20));
    CHECK(server.state().get("items", "from_b", "n") == num(3));
    CHECK(list_values(server.state(), "lists", "l", "tags") ==
          std::vector<resync::doc::Scalar>{el("a"), el("b"), el("c")});
    CHECK(server.state().object_count() == 6);

    // A is in the new epoch under a new ident, and uploaded only its unsynced changesets, once.
    CHECK(a.store.sync_state().epoch == server.epoch());
    CHECK(a.ident() != old_ident);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(resync_test::no_duplicate_uploads(server));
    std::vector<resync::ClientVersion> uploaded_by_a;
    for (const auto& [key, n] : resync_test::history_keys(server))
        if (key.first == a.ident()) uploaded_by_a.push_back(key.second);
    CHECK(uploaded_by_a == unsynced_versions);
    CHECK(resync_test::writes_on_server(server, "items", "counter", "c") == 1);

    // B catches up with A's recovered changes and converges.
    REQUIRE(b.sync() == SessionState::syncing);
    CHECK(b.store.state() == server.state());
    CHECK(b.session().resets_completed() == 1);
}

} // namespace RESYNC_TEST_FILE
