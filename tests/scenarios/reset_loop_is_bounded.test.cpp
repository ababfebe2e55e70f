// Scenario: a server that keeps demanding resets. The cycle guard's durable record makes the
// next reset for the same cause escalate (discard -> manual), and counts every reset the server
// has not confirmed whatever its cause, so alternating causes reach a manual reset after
// `SessionOptions::max_reset_attempts` automatic ones. The session never loops.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>

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

struct Demand {
    int code;
    ResetReason reason;
};

constexpr Demand rollback{resync::server_code::bad_server_version, ResetReason::server_rollback};
constexpr Demand expired{resync::server_code::client_file_expired, ResetReason::client_expired};

/// A synced client; the server will demand resets of it.
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server server;
    Replica<resync::DiscardUnsynced> a;
    std::vector<resync::ResetRequest> requests;
    std::vector<resync::ResetReport> completed;

    explicit World(std::uint32_t max_attempts = 3) : a(server, {}, options(dir, max_attempts)) {
        a.put("items", "one", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        a.session().on_reset_request([this](const resync::ResetRequest& r) { requests.push_back(r); });
        a.session().on_after_reset(
            [this](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport& r) {
                completed.push_back(r);
            });
    }

    static resync::SessionOptions options(const resync_test::ScratchDir& d, std::uint32_t max_attempts) {
        auto o = resync_test::options_in(d);
        o.max_reset_attempts = max_attempts;
        return o;
    }

    /// Demands a reset each time the previous demand led to a completed reset (before the
    /// server has confirmed it), the causes taken in turn from `causes`, for up to `polls` polls.
    void keep_demanding(const std::vector<Demand>& causes, int polls) {
        std::size_t demanded = 0;
        for (int i = 0; i < polls; ++i) {
            if (demanded == a.session().resets_completed() && a.session().state() != SessionState::awaiting_user) {
                const Demand& d = causes[demanded % causes.size()];
                server.inject_error({d.code, ServerAction::reset, "reset, again"});
                ++demanded;
            }
            a.session().poll();
        }
    }
};

} // namespace

TEST_CASE("a server that demands a reset for the same cause again before confirming the last one gets a manual reset "
          "at the second attempt",
          "[scenario][cycle-guard]") {
    World w;
    w.keep_demanding({rollback}, 3000);

    CHECK(w.a.session().state() == SessionState::awaiting_user);
    REQUIRE(w.completed.size() == 1);
    CHECK(w.completed[0].attempt == 1);
    CHECK(w.completed[0].mode_used == resync::ResetMode::discard);
    CHECK(w.a.session().resets_completed() == 1);
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests[0].attempt == 2);
    CHECK(w.requests[0].trigger.reason == ResetReason::server_rollback);
    REQUIRE(w.a.session().last_report().has_value());
    CHECK(w.a.session().last_report()->attempt == 2);
    CHECK(w.a.session().last_report()->mode_requested == resync::ResetMode::discard);
    CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::manual);
    CHECK(w.a.session().last_report()->outcome == resync::ResetOutcome::awaiting_user);
}

TEST_CASE("alternating reset causes do not reset the cycle guard's bound, a manual reset follows max_reset_attempts "
          "automatic ones",
          "[scenario][cycle-guard]") {
    const std::uint32_t max_attempts = GENERATE(1u, 3u, 5u);
    INFO("max_reset_attempts = " << max_attempts);
    World w(max_attempts);
    const std::vector<Demand> causes{rollback, expired};
    w.keep_demanding(causes, 6000);

    CHECK(w.a.session().state() == SessionState::awaiting_user);
    REQUIRE(w.completed.size() == max_attempts);
    for (std::size_t i = 0; i < w.completed.size(); ++i) {
        INFO("reset #" << i + 1);
        CHECK(w.completed[i].attempt == i + 1);
        CHECK(w.completed[i].mode_used == resync::ResetMode::discard);
        CHECK(w.completed[i].trigger.reason == causes[i % causes.size()].reason);
    }
    CHECK(w.a.session().resets_completed() == max_attempts);
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests[0].attempt == max_attempts + 1);
    CHECK(w.requests[0].trigger.reason == causes[max_attempts % causes.size()].reason);
    CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::manual);
}

TEST_CASE("a server that answers every message with a reset demand drives the session to a manual reset within "
          "max_reset_attempts attempts, never into a loop",
          "[scenario][cycle-guard]") {
    World w;
    const auto max_attempts = w.a.options.max_reset_attempts;
    std::size_t polls = 0;
    for (; polls < 5000 && w.a.session().state() != SessionState::awaiting_user; ++polls) {
        w.server.inject_error({resync::server_code::bad_server_version, ServerAction::reset, "reset, always"});
        w.a.session().poll();
    }
    INFO("after " << polls << " polls, session " << resync::to_string(w.a.session().state()));
    REQUIRE(w.a.session().state() == SessionState::awaiting_user);
    CHECK(w.a.session().resets_completed() <= max_attempts);
    REQUIRE(w.a.session().last_report().has_value());
    CHECK(w.a.session().last_report()->attempt <= max_attempts + 1);
    CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::manual);
    // And it stays there, however long the server goes on.
    const auto completed = w.a.session().resets_completed();
    for (int i = 0; i < 2000; ++i) {
        w.server.inject_error({resync::server_code::bad_server_version, ServerAction::reset, "reset, always"});
        REQUIRE(w.a.session().poll() == SessionState::awaiting_user);
    }
    CHECK(w.a.session().resets_completed() == completed);
    CHECK(w.requests.size() == 1);
}

TEST_CASE("a reset the server confirmed clears the guard, so a later unrelated reset starts again at attempt one",
          "[scenario][cycle-guard]") {
    World w;
    for (int round = 1; round <= 3; ++round) {
        INFO("round " << round);
        w.server.inject_error({resync::server_code::bad_server_version, ServerAction::reset, "restored"});
        w.a.put("items", "local" + std::to_string(round), "note", str("unsynced"));
        REQUIRE(w.a.sync() == SessionState::syncing);
        REQUIRE(w.a.session().last_report().has_value());
        CHECK(w.a.session().last_report()->attempt == 1);
        CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::discard);
        CHECK_FALSE(w.a.store.sync_state().pending_reset.has_value());
        CHECK(w.a.store.state() == w.server.state());
    }
    CHECK(w.a.session().resets_completed() == 3);
    CHECK(w.requests.empty());
}

} // namespace RESYNC_TEST_FILE
