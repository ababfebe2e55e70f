// Scenario: the server's data no longer fits the client's changes. A destructive schema change
// forbids recovery outright: Recover goes to a manual reset (a durable backup file holds the
// unsynced changes), RecoverOrDiscard and RecoverAll discard. A field whose type the server
// changed by a plain write (no schema bump) makes recovery fail part way: RecoverOrDiscard and
// RecoverAll fall back to discarding in the same attempt, Recover to a manual reset, the report
// names the operation that failed and why, and the local data is untouched until the one commit.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <type_traits>
#include <variant>
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
using resync::SessionState;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

template <class P>
constexpr bool falls_back_to_manual = std::is_same_v<P, resync::doc::Recover>;

/// Every integer field "n" of "items" becomes a string.
void n_becomes_a_string(resync::doc::State& s) {
    for (auto& [key, obj] : s.collections["items"]) {
        auto it = obj.find("n");
        if (it != obj.end() && std::holds_alternative<std::int64_t>(it->second))
            it->second = std::to_string(std::get<std::int64_t>(it->second));
    }
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::exists(dir)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
    return out;
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::Recover, resync::doc::RecoverOrDiscard, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("a destructive schema change forbids recovery: Recover waits for the user with a durable backup "
                        "of the unsynced changes, RecoverOrDiscard and RecoverAll discard them",
                        "[scenario][recovery][schema]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const bool reconnects = GENERATE(false, true);
    INFO((reconnects ? "client reconnects" : "client stays connected"));
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    a.put("items", "two", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_schema = server.schema_version();

    if (reconnects) a.link().go_offline();
    server.change_schema(n_becomes_a_string);
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.add("items", "one", "n", 41);
        w.create("items", "new").set("items", "new", "n", num(7));
    }));
    const auto before = resync_test::image_of(a.store);
    if (reconnects) a.link().go_online();

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    const SessionState stopped_at = a.sync();
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetReport report = *a.session().last_report();
    CHECK(report.trigger.reason == ResetReason::schema_changed);
    CHECK_FALSE(report.trigger.recovery_allowed);
    CHECK(report.mode_requested == ResetMode::recover);
    CHECK(report.attempt == 1);
    // Recovery was never tried: no operation was recovered or dropped.
    CHECK(report.count(OperationFate::recovered) == 0);
    CHECK(report.count(OperationFate::dropped) == 0);

    if constexpr (falls_back_to_manual<P>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        CHECK(report.mode_used == ResetMode::manual);
        CHECK(report.outcome == resync::ResetOutcome::awaiting_user);
        REQUIRE(requests.size() == 1);
        CHECK(requests.front().trigger.reason == ResetReason::schema_changed);
        // The durable backup holds the unsynced changes; the store is untouched, and stays so.
        const std::filesystem::path backup_path(requests.front().backup_path);
        CHECK(backup_path.parent_path() == dir.path() / "backups");
        CHECK(report.backup_location == requests.front().backup_path);
        auto contents = resync_test::read_backup<S>(backup_path.string());
        REQUIRE(contents);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(contents->state == before.state);
        CHECK(contents->sync_state.schema_version == old_schema);
        for (int i = 0; i < 100; ++i) REQUIRE(a.session().poll() == SessionState::awaiting_user);
        CHECK(resync_test::image_of(a.store, false) == before);
        CHECK(server.fresh_copies_started() == 0);
        CHECK(a.session().resets_completed() == 0);
        CHECK(a.store.quarantined().empty());
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
        CHECK(a.session().last_report()->mode_used == ResetMode::manual);
    } else {
        CHECK(stopped_at == SessionState::syncing);
        CHECK(requests.empty());
        CHECK(report.mode_used == ResetMode::discard);
        CHECK(report.outcome == resync::ResetOutcome::completed);
        // Discarded into the store's quarantine (the keeping rule).
        CHECK(report.count(OperationFate::quarantined) == 3);
        CHECK(a.store.quarantined().size() == 3);
        CHECK(report.lost_acknowledged == 0);
    }

    // Either way the client ends on the new schema, equal to the server; nothing local survived.
    CHECK(a.store.state() == server.state());
    CHECK(server.state().get("items", "one", "n") == str("1"));
    CHECK(server.state().get("items", "two", "n") == str("2"));
    CHECK(server.state().find("items", "new") == nullptr);
    CHECK(server.state().object_count() == 2);
    CHECK(a.store.sync_state().schema_version == server.schema_version());
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.session().resets_completed() == 1);
}

TEMPLATE_LIST_TEST_CASE("a field the server rewrote with another type makes recovery fail part way: RecoverOrDiscard "
                        "and RecoverAll discard in the same attempt, Recover waits for the user, and the report names "
                        "the operation and why",
                        "[scenario][recovery][schema][fallback]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));                  // v1
    a.put("items", "two", "n", num(2));                  // v2
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "three", "n", num(3));                // v3: acknowledged, then lost by the restore
    REQUIRE(a.sync() == SessionState::syncing);

    // The server is restored, and an administrator rewrites a field as a string (no schema bump).
    server.restore(backup);
    server.write({resync::doc::SetField{"items", "one", "n", str("uno")}});
    REQUIRE(server.schema_version() == a.store.sync_state().schema_version);

    // Offline: a recoverable changeset, then one writing an integer where the server now has a
    // string, then another recoverable one.
    REQUIRE(a.store.write([](resync::doc::Writer& w) {     // v4
        w.set("items", "two", "n", num(20));
        w.create("items", "new").set("items", "new", "n", num(7));
    }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {     // v5: #0 fails
        w.set("items", "one", "n", num(5));
    }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "two", "n", 1); })); // v6
    const auto before = resync_test::image_of(a.store);
    const auto server_before = server.state();

    resync::doc::State seen_before;
    bool before_called = false;
    a.session().on_before_reset([&](const resync::ResetTrigger&, const S& s) {
        before_called = true;
        seen_before = s.state();
    });
    std::vector<std::pair<std::error_code, std::string>> errors;
    a.session().on_error([&](std::error_code ec, std::string_view d) { errors.emplace_back(ec, std::string(d)); });

    const SessionState stopped_at = a.sync();
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetReport report = *a.session().last_report();
    INFO(resync::to_string(report));
    CHECK(report.trigger.reason == ResetReason::diverging_history);
    CHECK(report.trigger.recovery_allowed);
    CHECK(report.mode_requested == ResetMode::recover);
    CHECK(report.attempt == 1);
    CHECK(report.lost_acknowledged == 1); // v3: acknowledged, then lost by the restore
    // Which operation failed, and why.
    CHECK_THAT(report.detail, Catch::Contains("v5#0"));
    CHECK_THAT(report.detail, Catch::Contains("field 'n' holds string on the server"));
    CHECK_THAT(report.detail, Catch::Contains("writes int"));
    // The error handler heard of it too, and a human reading the printed report sees it.
    std::size_t mismatches = 0;
    for (const auto& [ec, words] : errors)
        if (ec == resync::errc::schema_mismatch) {
            ++mismatches;
            CHECK_THAT(words, Catch::Contains("v5#0"));
        }
    CHECK(mismatches == 1);
    CHECK_THAT(resync::to_string(report), Catch::Contains("v5#0") && Catch::Contains("holds string on the server"));
    // Nothing of the partial recovery reached the server.
    CHECK(resync_test::no_duplicate_uploads(server));

    if constexpr (falls_back_to_manual<P>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        CHECK(report.mode_used == ResetMode::manual);
        CHECK(report.outcome == resync::ResetOutcome::awaiting_user);
        CHECK_FALSE(before_called);
        // The store is untouched, and its unsynced changes are in a durable backup file.
        CHECK(resync_test::image_of(a.store, false) == before);
        CHECK(a.store.sync_state().pending_reset.has_value());
        CHECK(a.store.sync_state().pending_reset->awaiting_user);
        const auto files = files_in(dir.path() / "backups");
        REQUIRE(files.size() == 1);
        CHECK(report.backup_location == files.front().string());
        auto contents = resync_test::read_backup<S>(files.front().string());
        REQUIRE(contents);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(contents->state == before.state);
        CHECK(server.state() == server_before);
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
    } else {
        REQUIRE(stopped_at == SessionState::syncing);
        CHECK(report.mode_used == ResetMode::discard);
        CHECK(report.outcome == resync::ResetOutcome::completed);
        // The fallback ran in the same attempt: one reset, one fresh copy.
        CHECK(a.session().resets_completed() == 1);
        CHECK(server.fresh_copies_started() == 1);
        // Everything is reported: the five unsynced operations, discarded into the store's
        // quarantine, and the two of v3, acknowledged and then lost by the restore (kept there too).
        constexpr std::size_t given = 7;
        CHECK(report.count(OperationFate::quarantined) == 5);
        CHECK(report.count(OperationFate::lost_on_server) == 2);
        CHECK(a.store.quarantined().size() == given);
        REQUIRE(report.operations.size() == given);
        CHECK(report.operations.front().client_version == 3u);
        CHECK(report.operations.back().client_version == 6);
        // The store was untouched until the commit.
        REQUIRE(before_called);
        CHECK(seen_before == before.state);
    }

    // Discarded: the client is the server's copy, which did not change.
    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(server.state() == server_before);
    CHECK(a.store.state() == server.state());
    CHECK(server.state().get("items", "one", "n") == str("uno"));
    CHECK(server.state().get("items", "two", "n") == num(2));
    CHECK(server.state().find("items", "new") == nullptr);
    CHECK(server.state().find("items", "three") == nullptr);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.session().resets_completed() == 1);
}

} // namespace RESYNC_TEST_FILE
