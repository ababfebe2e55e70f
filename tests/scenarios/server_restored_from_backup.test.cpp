// Scenario: the server is restored from an older backup. A client whose cursor is ahead of the
// restored server must notice by version (server rollback); once the restored server has moved
// past the client's version with new history, it must notice by salt (diverging history). The
// client may learn of it from a server error while it stays connected, or from the Welcome when
// it comes back online. Run under DiscardUnsynced and Manual.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::ResetReason;
using resync::SessionState;
using resync_test::num;
using resync_test::Replica;
using resync_test::str;

namespace {

enum class Path { stays_connected, reconnects };
enum class Restored { behind_client, moved_past_client };

const char* name(Path p) { return p == Path::stays_connected ? "client stays connected" : "client reconnects"; }
const char* name(Restored r) {
    return r == Restored::behind_client ? "restored server behind the client" : "restored server moved past the client";
}

/// What the client must conclude, and from which message.
struct Expected {
    ResetReason reason;
    int server_code; ///< 0: found from the Welcome's positions
};

Expected expected_for(Path path, Restored restored) {
    const bool by_version = restored == Restored::behind_client;
    if (path == Path::stays_connected)
        return by_version ? Expected{ResetReason::server_rollback, resync::server_code::bad_server_version}
                          : Expected{ResetReason::diverging_history, resync::server_code::diverging_histories};
    return by_version ? Expected{ResetReason::server_rollback, 0} : Expected{ResetReason::diverging_history, 0};
}

/// The client syncs two changesets; the server is backed up after the first and restored after
/// the second (so the second, though acknowledged, is lost). If `restored` says so, another
/// client then writes enough for the server to move past the client's version with new history.
/// Finally the client writes one unsynced change (create + set: two operations) and, on the
/// reconnect path, comes back online. The client has not yet heard of the restore.
template <class P, class S>
void restore_the_server(resync::testing::Server<resync::doc::Model>& server, Replica<P, resync_test::Loopback, S>& a,
                        Path path, Restored restored) {
    a.put("items", "kept", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "lost", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.sync_state().download.version == 2);
    REQUIRE(a.store.unsynced().empty());

    if (path == Path::reconnects) a.link().go_offline();
    server.restore(backup);
    REQUIRE(server.latest().version == 1);

    if (restored == Restored::moved_past_client) {
        Replica<resync::DiscardUnsynced, resync_test::Loopback, S> b(server);
        b.put("items", "other", "n", num(10));
        REQUIRE(b.sync() == SessionState::syncing);
        b.put("items", "other", "n", num(11));
        REQUIRE(b.sync() == SessionState::syncing);
        REQUIRE(server.latest().version == 3);
        REQUIRE(b.session().resets_completed() == 0);
    }

    a.put("items", "local", "note", str("unsynced"));
    REQUIRE(a.store.unsynced().size() == 1);
    if (path == Path::reconnects) a.link().go_online();
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::DiscardUnsynced, resync::Manual>;

TEMPLATE_LIST_TEST_CASE("a restored server is detected by version while behind the client and by salt once past it, "
                        "connected or not, and the client ends equal to the server",
                        "[scenario][restore]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const Path path = GENERATE(Path::stays_connected, Path::reconnects);
    const Restored restored = GENERATE(Restored::behind_client, Restored::moved_past_client);
    INFO(name(path) << ", " << name(restored));
    const Expected expected = expected_for(path, restored);

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server, resync_test::make_policy<P>(dir), resync_test::options_in(dir));
    restore_the_server(server, a, path, restored);
    const auto cursor = a.store.sync_state().download;
    const auto old_ident = a.ident();

    const SessionState stopped_at = a.sync();
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetTrigger trigger = a.session().last_report()->trigger;
    CHECK(trigger.reason == expected.reason);
    CHECK(trigger.server_error.code == expected.server_code);
    CHECK(trigger.recovery_allowed);
    CHECK(trigger.client_position == cursor);
    if (expected.server_code == 0) {
        // Found from the Welcome: the positions say what happened.
        CHECK(trigger.server_position == server.latest());
        if (restored == Restored::behind_client) CHECK(trigger.server_position.version < cursor.version);
        else CHECK(trigger.server_position.version > cursor.version);
    }

    if constexpr (std::is_same_v<P, resync::Manual>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        CHECK(a.session().last_report()->outcome == resync::ResetOutcome::awaiting_user);
        REQUIRE_FALSE(a.session().execute_reset());
    }
    REQUIRE(a.sync() == SessionState::syncing);

    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(a.store.state() == server.state());
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.ident() != old_ident);
    CHECK(server.knows_client(a.ident()));
    CHECK(a.store.sync_state().download == server.latest());
    // The unsynced change was discarded, not uploaded; the change the restore lost stays lost.
    CHECK(server.state().find("items", "local") == nullptr);
    CHECK(a.store.state().find("items", "local") == nullptr);
    CHECK(a.store.state().find("items", "lost") == nullptr);
    CHECK(a.store.get("items", "kept", "n") == num(1));
}

TEMPLATE_LIST_TEST_CASE("under DiscardUnsynced a client of a restored server reports its unsynced changes as "
                        "discarded into the quarantine, and what the restore lost, and calls its callbacks with the "
                        "before-state and the store after",
                        "[scenario][restore][discard-unsynced]", resync_test::ScenarioStores) {
    using S = TestType;
    const Path path = GENERATE(Path::stays_connected, Path::reconnects);
    const Restored restored = GENERATE(Restored::behind_client, Restored::moved_past_client);
    INFO(name(path) << ", " << name(restored));

    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> a(server);
    restore_the_server(server, a, path, restored);
    const auto before = resync_test::image_of(a.store);
    const auto local_version = a.store.last_client_version();
    const auto old_ident = a.ident();

    std::vector<std::string> events;
    resync::doc::State state_seen_before, snapshot_after, state_after, server_state_at_after;
    std::size_t unsynced_seen_before = 0;
    bool had_snapshot = false, record_still_pending_at_after = false;
    resync::ResetReport report_at_after;
    a.session().on_before_reset([&](const resync::ResetTrigger& t, const S& s) {
        events.push_back(std::string("before:") + std::string(resync::to_string(t.reason)));
        state_seen_before = s.state();
        unsynced_seen_before = s.unsynced().size();
    });
    a.session().on_after_reset([&](const resync::doc::State* b, const S& s, const resync::ResetReport& r) {
        events.push_back("after");
        had_snapshot = b != nullptr;
        if (b) snapshot_after = *b;
        state_after = s.state();
        server_state_at_after = server.state();
        report_at_after = r;
        record_still_pending_at_after = s.sync_state().pending_reset.has_value();
    });

    REQUIRE(a.sync() == SessionState::syncing);

    const std::string reason(resync::to_string(expected_for(path, restored).reason));
    REQUIRE(events == std::vector<std::string>{"before:" + reason, "after"});
    // Before: the store is untouched, the doomed change still in it.
    CHECK(state_seen_before == before.state);
    CHECK(state_seen_before.find("items", "local") != nullptr);
    CHECK(unsynced_seen_before == 1);
    // After: the before-state (with the change) and a store equal to the server.
    REQUIRE(had_snapshot);
    CHECK(snapshot_after == before.state);
    CHECK(snapshot_after.find("items", "local") != nullptr);
    CHECK(state_after == server_state_at_after);
    // The record stays until the server has confirmed the reset (phase 9), then clears.
    CHECK(record_still_pending_at_after);
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());

    const resync::ResetReport& report = *a.session().last_report();
    CHECK(report.outcome == resync::ResetOutcome::completed);
    CHECK(report.mode_requested == resync::ResetMode::discard);
    CHECK(report.mode_used == resync::ResetMode::discard);
    CHECK(report.attempt == 1);
    CHECK(report.backup_location == "memory");
    CHECK(report.unsynced_changesets == 1);
    CHECK(report.unsynced_operations == 2);
    // Four operations: the acknowledged create + set the restore lost (reported, not re-applied
    // by this strategy) and the unsynced create + set, discarded - into the store's quarantine,
    // as the keeping rule wants of a discard that no backup file holds. All four are kept there.
    REQUIRE(report.operations.size() == 4);
    CHECK(report.lost_acknowledged == 1);
    CHECK(report.count(resync::OperationFate::lost_on_server) == 2);
    CHECK(report.count(resync::OperationFate::quarantined) == 2);
    std::size_t unsynced_seen = 0;
    for (const auto& op : report.operations) {
        if (op.client_version != local_version) continue;
        CHECK(op.index == unsynced_seen++);
        CHECK(op.fate == resync::OperationFate::quarantined);
    }
    CHECK(unsynced_seen == 2);
    CHECK(a.store.quarantined().size() == 4);
    CHECK(report_at_after.operations.size() == report.operations.size());
    CHECK(report_at_after.count(resync::OperationFate::quarantined) == 2);
    CHECK_FALSE(report.error);

    CHECK(a.store.state() == server.state());
    CHECK(a.ident() != old_ident);
    CHECK(a.store.unsynced().empty());
}

TEMPLATE_LIST_TEST_CASE("under Manual a client of a restored server stops with a durable backup of everything and "
                        "touches nothing until the reset is executed",
                        "[scenario][restore][manual]", resync_test::ScenarioStores) {
    using S = TestType;
    const Path path = GENERATE(Path::stays_connected, Path::reconnects);
    const Restored restored = GENERATE(Restored::behind_client, Restored::moved_past_client);
    INFO(name(path) << ", " << name(restored));
    const Expected expected = expected_for(path, restored);

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::Manual, resync_test::Loopback, S> a(server, resync_test::make_policy<resync::Manual>(dir),
                                                        resync_test::options_in(dir));
    restore_the_server(server, a, path, restored);
    const auto before = resync_test::image_of(a.store);
    const auto old_ident = a.ident();
    REQUIRE_FALSE(before.sync.pending_reset.has_value());

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    bool callbacks_called = false;
    a.session().on_before_reset([&](const auto&, const auto&) { callbacks_called = true; });

    REQUIRE(a.sync() == SessionState::awaiting_user);
    REQUIRE(requests.size() == 1);
    const resync::ResetRequest request = requests.front();
    CHECK(request.trigger.reason == expected.reason);
    CHECK(request.trigger.server_error.code == expected.server_code);
    CHECK(request.attempt == 1);
    REQUIRE_FALSE(request.backup_path.empty());
    const std::filesystem::path backup_path(request.backup_path);
    CHECK(backup_path.parent_path() == dir.path() / "manual");
    CHECK(std::filesystem::is_regular_file(backup_path));
    REQUIRE(a.session().pending_request().has_value());
    CHECK(a.session().pending_request()->backup_path == request.backup_path);
    CHECK(a.session().pending_request()->trigger.reason == expected.reason);
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::awaiting_user);
    CHECK(a.session().last_report()->mode_used == resync::ResetMode::manual);
    CHECK(a.session().last_report()->backup_location == request.backup_path);

    // The backup holds the pre-reset replica, unsynced change included.
    auto contents = resync_test::read_backup<S>(backup_path.string());
    REQUIRE(contents);
    CHECK(contents->state == before.state);
    CHECK(contents->state.find("items", "local") != nullptr);
    CHECK(contents->unsynced == before.unsynced);
    CHECK(contents->sync_state == before.sync);
    CHECK(contents->trigger.reason == expected.reason);

    // Nothing is touched and nothing syncs while the request waits, however long.
    for (int i = 0; i < 200; ++i) REQUIRE(a.session().poll() == SessionState::awaiting_user);
    CHECK(resync_test::image_of(a.store, false) == before);
    CHECK(a.store.sync_state().pending_reset.has_value());
    CHECK(server.fresh_copies_started() == 0);
    CHECK(server.state().find("items", "local") == nullptr);
    CHECK(requests.size() == 1);
    CHECK(a.session().resets_completed() == 0);
    CHECK_FALSE(callbacks_called);

    // Executed: discard, fresh copy, and back to normal sync.
    REQUIRE_FALSE(a.session().execute_reset());
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(a.store.state() == server.state());
    CHECK(a.store.unsynced().empty());
    CHECK(a.ident() != old_ident);
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.session().resets_completed() == 1);
    CHECK(callbacks_called);
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session().last_report()->mode_used == resync::ResetMode::manual);
    CHECK(a.session().last_report()->backup_location == request.backup_path);
    CHECK(a.session().execute_reset() == resync::errc::no_reset_pending);
    // The backup is the user's to keep.
    CHECK(std::filesystem::is_regular_file(backup_path));
    CHECK(resync_test::file_count(dir) == 1);
}

TEMPLATE_LIST_TEST_CASE("under Manual a reset request survives a restart, the new session reports it at its first "
                        "poll and can execute it",
                        "[scenario][restore][manual][restart]", resync_test::ScenarioStores) {
    using S = TestType;
    const Path path = GENERATE(Path::stays_connected, Path::reconnects);
    const Restored restored = GENERATE(Restored::behind_client, Restored::moved_past_client);
    INFO(name(path) << ", " << name(restored));
    const Expected expected = expected_for(path, restored);

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::Manual, resync_test::Loopback, S> a(server, resync_test::make_policy<resync::Manual>(dir),
                                                        resync_test::options_in(dir));
    restore_the_server(server, a, path, restored);
    const auto before = resync_test::image_of(a.store);
    const auto old_ident = a.ident();

    REQUIRE(a.sync() == SessionState::awaiting_user);
    REQUIRE(a.session().pending_request().has_value());
    const std::string backup_path = a.session().pending_request()->backup_path;

    a.restart();
    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    CHECK(a.session().state() == SessionState::disconnected); // nothing happens before the first poll
    CHECK(requests.empty());

    REQUIRE(a.session().poll() == SessionState::awaiting_user);
    REQUIRE(requests.size() == 1);
    CHECK(requests.front().trigger.reason == expected.reason);
    CHECK(requests.front().trigger.server_error.code == expected.server_code);
    CHECK(requests.front().backup_path == backup_path);
    CHECK(resync_test::image_of(a.store, false) == before);
    for (int i = 0; i < 50; ++i) REQUIRE(a.session().poll() == SessionState::awaiting_user);
    CHECK(requests.size() == 1);
    CHECK(resync_test::image_of(a.store, false) == before);

    REQUIRE_FALSE(a.session().execute_reset());
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(a.store.state() == server.state());
    CHECK(a.store.unsynced().empty());
    CHECK(a.ident() != old_ident);
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.session().resets_completed() == 1);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session().last_report()->trigger.reason == expected.reason);
    CHECK(a.session().last_report()->backup_location == backup_path);

    // The backup written before the restart still restores the pre-reset replica.
    auto contents = resync_test::read_backup<S>(backup_path);
    REQUIRE(contents);
    CHECK(contents->state == before.state);
    CHECK(contents->unsynced == before.unsynced);
}

} // namespace RESYNC_TEST_FILE
