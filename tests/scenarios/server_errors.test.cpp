// Scenario: the server answers a client's message with an error: every code the library knows
// by name and an unknown one, with every action. The action decides: `reset` and
// `reset_no_recovery` reset (with the reason the code names, server_requested for an unknown
// code), `warning` / `transient` / `none` never reset and the session keeps syncing, and
// `protocol_violation` stops the session. The error may answer a request of a bound session or
// the Hello of a new connection. Run under DiscardUnsynced and Manual.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::ResetReason;
using resync::ServerAction;
using resync::SessionState;
using resync_test::num;
using resync_test::Replica;
using resync_test::str;

namespace {

/// The documented reason for each code (detect::ServerErrors' table).
ResetReason documented_reason(int code) {
    switch (code) {
    case 208: return ResetReason::client_unknown;
    case 209: return ResetReason::server_rollback;
    case 210: return ResetReason::diverging_history;
    case 211: return ResetReason::diverging_history;
    case 217: return ResetReason::schema_changed;
    case 222: return ResetReason::client_expired;
    default: return ResetReason::server_requested;
    }
}

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::DiscardUnsynced, resync::Manual>;

TEMPLATE_LIST_TEST_CASE("every injected server error code with every action does what the action says, reset with the "
                   "documented reason, carry on or stop", "[scenario][server-error]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const int code = GENERATE(208, 209, 210, 211, 217, 222, 4242);
    const ServerAction action = GENERATE(ServerAction::reset, ServerAction::reset_no_recovery, ServerAction::warning,
                                         ServerAction::transient, ServerAction::none, ServerAction::protocol_violation);
    const bool answers_hello = GENERATE(false, true);
    INFO("code " << code << ", action " << resync::to_string(action)
                 << (answers_hello ? ", answering the Hello" : ", answering a request"));

    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server, resync_test::make_policy<P>(dir), resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto old_ident = a.ident();
    a.put("items", "local", "note", str("unsynced"));
    const auto before = resync_test::image_of(a.store);

    const resync::ServerError error{code, action, "injected error " + std::to_string(code)};
    if (answers_hello) a.link().go_offline();
    server.inject_error(error, old_ident);
    if (answers_hello) a.link().go_online();

    std::vector<resync::ResetRequest> requests;
    a.session().on_reset_request([&](const resync::ResetRequest& r) { requests.push_back(r); });
    const SessionState ended = a.sync();

    if (action == ServerAction::reset || action == ServerAction::reset_no_recovery) {
        REQUIRE(a.session().last_report().has_value());
        const resync::ResetTrigger& trigger = a.session().last_report()->trigger;
        CHECK(trigger.reason == documented_reason(code));
        CHECK(trigger.recovery_allowed == (action == ServerAction::reset && code != 217));
        CHECK(trigger.server_error == error);
        if constexpr (std::is_same_v<P, resync::Manual>) {
            REQUIRE(ended == SessionState::awaiting_user);
            REQUIRE(requests.size() == 1);
            CHECK(requests.front().trigger.reason == documented_reason(code));
            CHECK(requests.front().trigger.server_error.code == code);
            CHECK(resync_test::image_of(a.store, false) == before);
            REQUIRE_FALSE(a.session().execute_reset());
            REQUIRE(a.sync() == SessionState::syncing);
        } else {
            CHECK(ended == SessionState::syncing);
        }
        CHECK(a.session().last_report()->outcome == resync::ResetOutcome::completed);
        CHECK(a.session().resets_completed() == 1);
        CHECK(a.store.state() == server.state());
        CHECK(a.store.state().find("items", "local") == nullptr);
        CHECK(a.store.get("items", "one", "n") == num(1));
        CHECK(a.ident() != old_ident);
        CHECK(a.store.unsynced().empty());
        CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    } else if (action == ServerAction::protocol_violation) {
        CHECK(ended == SessionState::stopped);
        CHECK(a.session().last_error() == resync::errc::protocol_violation);
        CHECK_FALSE(a.session().last_report().has_value());
        for (int i = 0; i < 50; ++i) REQUIRE(a.session().poll() == SessionState::stopped);
        CHECK(resync_test::image_of(a.store) == before);
        CHECK(server.state().find("items", "local") == nullptr);
        CHECK(requests.empty());
    } else {
        // warning, transient, none: logged, and normal sync goes on.
        CHECK(ended == SessionState::syncing);
        CHECK(a.session().last_error() == resync::errc::server_error);
        CHECK(a.session().resets_completed() == 0);
        CHECK_FALSE(a.session().last_report().has_value());
        CHECK(requests.empty());
        CHECK(a.ident() == old_ident);
        CHECK(a.store.unsynced().empty());
        CHECK(server.state().get("items", "local", "note") == str("unsynced"));
        CHECK(a.store.state() == server.state());
    }
}

TEMPLATE_LIST_TEST_CASE("a reset an unknown server error code asks for is a server-requested reset, with or without recovery as the "
          "action says", "[scenario][server-error]", resync_test::ScenarioStores) {
    using S = TestType;
    const ServerAction action = GENERATE(ServerAction::reset, ServerAction::reset_no_recovery);
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> a(server);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    server.inject_error({4242, action, "the operator asks every client to reset"});
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == ResetReason::server_requested);
    CHECK(a.session().last_report()->trigger.recovery_allowed == (action == ServerAction::reset));
    CHECK(a.session().last_report()->trigger.server_error.message == "the operator asks every client to reset");
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
