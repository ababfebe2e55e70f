// Scenario: a destructive schema change on the server (a field changes type). The client's
// local operations no longer mean anything, so it must reset with recovery NOT allowed, whether
// it hears of it from the server's error 217 (connected) or from the Welcome (reconnecting),
// and end on the new schema, equal to the server. Run under DiscardUnsynced and Manual.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <variant>
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

/// The migration: every integer field "n" of "items" becomes a string.
void n_becomes_a_string(resync::doc::State& s) {
    for (auto& [key, obj] : s.collections["items"]) {
        auto it = obj.find("n");
        if (it != obj.end() && std::holds_alternative<std::int64_t>(it->second))
            it->second = std::to_string(std::get<std::int64_t>(it->second));
    }
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::DiscardUnsynced, resync::Manual>;

TEMPLATE_LIST_TEST_CASE("a destructive schema change resets the client with recovery not allowed and leaves it on the new "
                   "schema, equal to the server", "[scenario][schema]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const bool reconnects = GENERATE(false, true);
    INFO((reconnects ? "client reconnects" : "client stays connected"));

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server, resync_test::make_policy<P>(dir), resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    a.put("items", "two", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_schema = server.schema_version();
    const auto old_ident = a.ident();
    REQUIRE(a.store.sync_state().schema_version == old_schema);

    if (reconnects) a.link().go_offline();
    server.change_schema(n_becomes_a_string);
    REQUIRE(server.schema_version() == old_schema + 1);
    REQUIRE(server.state().get("items", "one", "n") == str("1"));
    // An add-integer written against the old schema: meaningless on the new one.
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "one", "n", 41); }));
    REQUIRE(a.store.get("items", "one", "n") == num(42));
    const auto before = resync_test::image_of(a.store);
    if (reconnects) a.link().go_online();

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    const SessionState stopped_at = a.sync();

    REQUIRE(a.session().last_report().has_value());
    const resync::ResetTrigger& trigger = a.session().last_report()->trigger;
    CHECK(trigger.reason == ResetReason::schema_changed);
    CHECK_FALSE(trigger.recovery_allowed);
    if (reconnects) {
        CHECK(trigger.server_error.code == 0);
        CHECK(trigger.client_schema == old_schema);
        CHECK(trigger.server_schema == server.schema_version());
    } else {
        CHECK(trigger.server_error.code == resync::server_code::bad_client_file);
        CHECK(trigger.server_error.action == resync::ServerAction::reset_no_recovery);
    }

    if constexpr (std::is_same_v<P, resync::Manual>) {
        REQUIRE(stopped_at == SessionState::awaiting_user);
        REQUIRE(requests.size() == 1);
        CHECK(requests.front().trigger.reason == ResetReason::schema_changed);
        CHECK_FALSE(requests.front().trigger.recovery_allowed);
        auto contents = resync_test::read_backup<S>(requests.front().backup_path);
        REQUIRE(contents);
        CHECK(contents->state == before.state);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(contents->sync_state.schema_version == old_schema);
        CHECK(resync_test::image_of(a.store, false) == before);
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
    } else {
        CHECK(stopped_at == SessionState::syncing);
        CHECK(requests.empty());
        // Discarded into the store's quarantine (the keeping rule).
        CHECK(a.session().last_report()->count(resync::OperationFate::quarantined) == 1);
        CHECK(a.store.quarantined().size() == 1);
    }

    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(a.store.state() == server.state());
    CHECK(a.store.get("items", "one", "n") == str("1"));
    CHECK(a.store.get("items", "two", "n") == str("2"));
    CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(a.session().last_report()->mode_used != resync::ResetMode::recover);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.sync_state().schema_version == server.schema_version());
    CHECK(a.store.sync_state().download == server.latest());
    CHECK(a.ident() != old_ident);
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());

    // Normal sync goes on under the new schema.
    a.put("items", "three", "n", str("3"));
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(server.state().get("items", "three", "n") == str("3"));
    CHECK(a.session().resets_completed() == 1);
}

} // namespace RESYNC_TEST_FILE
