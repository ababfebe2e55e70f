// Scenario: the cycle guard (DESIGN §4.3) in a storm of resets. A server that answers with a reset
// demand after every completed reset gets: the same mode once more, then the strategy's fallback,
// then a manual reset - each attempt after a growing, jittered, durable backoff - and never a loop.
// Through it all the keeping rule holds: every offline operation, including those written
// between attempts, is on the server once or kept (quarantine, backup file). A different cause
// starts the escalation over; attempts keep counting; once the server confirms a reset (the
// upload acknowledged and the download complete - also when there was nothing to upload, Realm
// #6195) the record clears and the next reset starts at attempt 1.

#include <support/keeping.hpp>
#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
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
using resync::ResetMode;
using resync::ResetReason;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;
using Link = resync::testing::LoopbackTransport<doc::Model>;

/// A synced client on a store of type S; a clock the test reads to see each attempt's backoff.
template <class S, class P>
struct Storm {
    resync_test::ScratchDir dir;
    Server server;
    resync_test::StoreBox<S> box{1};
    S& store = box.store;
    Link link{server, 3};
    std::int64_t now = 1'800'000'000'000;
    resync::SessionOptions options = [this] {
        auto o = resync_test::options_in(dir);
        o.clock = [this] { return now += 10; };
        return o;
    }();
    resync::SyncSession<S, Link, P> session{store, link, P{}, options};
    std::vector<resync::ResetReport> completed;
    std::vector<resync::ResetRequest> requests;
    std::vector<doc::Operation> offline;

    Storm() {
        REQUIRE(store.write([](doc::Writer& w) { w.create("items", "c").set("items", "c", "n", std::int64_t{0}); }));
        REQUIRE(session.run_until_idle() == SessionState::syncing);
        session.on_after_reset([this](const doc::State*, const S&, const resync::ResetReport& r) {
            completed.push_back(r);
        });
        session.on_reset_request([this](const resync::ResetRequest& r) { requests.push_back(r); });
    }

    /// One offline operation, unique by its delta.
    void write(std::int64_t delta) {
        const auto v = store.write([&](doc::Writer& w) { w.add("items", "c", "n", delta); });
        REQUIRE(v);
        offline.push_back(doc::AddInteger{"items", "c", "n", delta});
    }
    void demand(int code = resync::server_code::bad_server_version) {
        server.inject_error({code, resync::ServerAction::reset, "reset, please"});
    }
    /// Polls until `done`; returns the polls it took (or `max`).
    template <class F>
    int poll_until(F&& done, int max = 50000) {
        int polls = 0;
        while (polls < max && !done()) {
            session.poll();
            ++polls;
        }
        return polls;
    }
    std::int64_t not_before() const {
        const auto& r = store.sync_state().pending_reset;
        return r ? r->not_before_ms : 0;
    }
};

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::doc::RecoverOrDiscard, resync::doc::RecoverAll, resync::doc::Recover,
                                         resync::DiscardUnsynced>;

TEMPLATE_LIST_TEST_CASE("a storm of completed resets for one cause runs the same mode once more, then the fallback, "
                        "then manual, with a growing backoff between attempts, and keeps every offline operation",
                        "[scenario][cycle-guard][storm][keeping]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    Storm<S, P> s;
    constexpr ResetMode requested = P::requested_mode;
    constexpr ResetMode fallback = P::fallback_type::mode;
    // The modes the guard must run, attempt by attempt, until manual.
    std::vector<ResetMode> expected{requested, requested};
    if (requested == ResetMode::recover) expected.push_back(fallback);
    if (expected.back() != ResetMode::manual) expected.push_back(ResetMode::manual);

    std::vector<std::int64_t> waits; // the backoff before each attempt after the first
    s.write(1);
    s.demand();
    for (std::size_t attempt = 1; attempt <= expected.size(); ++attempt) {
        INFO("attempt " << attempt);
        const bool manual = expected[attempt - 1] == ResetMode::manual;
        const auto done = [&] {
            return manual ? s.session.state() == SessionState::awaiting_user : s.completed.size() == attempt;
        };
        const auto polls = s.poll_until([&] {
            if (s.store.sync_state().pending_reset && s.store.sync_state().pending_reset->attempt == attempt &&
                waits.size() + 1 < attempt)
                waits.push_back(s.not_before() - s.store.sync_state().pending_reset->started_at_ms);
            return done();
        });
        REQUIRE(polls < 50000);
        const auto& record = *s.store.sync_state().pending_reset;
        CHECK(record.attempt == attempt);
        CHECK(record.mode == expected[attempt - 1]);
        if (manual) break;
        CHECK(s.completed.back().attempt == attempt);
        CHECK(s.completed.back().mode_used == expected[attempt - 1]);
        // Before the server confirms it, the same cause again - and a write between attempts.
        s.write(static_cast<std::int64_t>(10 * attempt + 1));
        s.demand();
    }
    REQUIRE(s.session.state() == SessionState::awaiting_user);
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests.front().attempt == expected.size());
    // A growing backoff: none before the first attempt, then each at least the previous one's
    // half (the jitter scales each between half and all of a doubling wait).
    REQUIRE(waits.size() == expected.size() - 1);
    for (std::size_t i = 0; i < waits.size(); ++i) {
        INFO("wait before attempt " << i + 2 << ": " << waits[i] << " ms");
        CHECK(waits[i] >= s.options.backoff_base_ms / 2 << i);
        CHECK(waits[i] <= s.options.backoff_base_ms << i);
    }
    // It never loops: many polls later it still waits, and the store is as the last attempt left it.
    const auto image = resync_test::image_of(s.store);
    for (int i = 0; i < 3000; ++i) REQUIRE(s.session.poll() == SessionState::awaiting_user);
    CHECK(resync_test::image_of(s.store) == image);
    // The user resets; nothing of the offline work is lost, nothing is applied twice.
    REQUIRE_FALSE(s.session.execute_reset());
    REQUIRE(s.session.run_until_idle() == SessionState::syncing);
    CHECK(s.store.state() == s.server.state());
    CHECK_FALSE(s.store.sync_state().pending_reset.has_value());
    const auto violations = resync_test::keeping_violations(s.offline, s.server, s.store, s.dir.path());
    for (const auto& v : violations) FAIL_CHECK(v);
}

TEMPLATE_LIST_TEST_CASE("a different cause starts the escalation over, while the attempts keep counting to the manual "
                        "bound",
                        "[scenario][cycle-guard]", resync_test::ScenarioStores) {
    Storm<TestType, resync::doc::RecoverOrDiscard> s;
    // Causes that alternate never escalate (each a different reason), but the bound still holds.
    const int causes[] = {resync::server_code::bad_server_version, resync::server_code::client_file_expired};
    std::vector<ResetMode> modes;
    s.write(1);
    s.demand(causes[0]);
    for (std::uint32_t attempt = 1; attempt <= s.options.max_reset_attempts + 1; ++attempt) {
        REQUIRE(s.poll_until([&] {
            return s.session.state() == SessionState::awaiting_user || s.completed.size() == attempt;
        }) < 50000);
        modes.push_back(s.store.sync_state().pending_reset->mode);
        if (s.session.state() == SessionState::awaiting_user) break;
        s.demand(causes[attempt % 2]);
    }
    // Recover every time, until the bound: then manual.
    std::vector<ResetMode> expected(s.options.max_reset_attempts, ResetMode::recover);
    expected.push_back(ResetMode::manual);
    CHECK(modes == expected);
    CHECK(s.store.sync_state().pending_reset->attempt == s.options.max_reset_attempts + 1);
}

TEMPLATE_LIST_TEST_CASE("once the server confirms a reset - also one with nothing to upload - the record clears and "
                        "the next reset is attempt 1 again",
                        "[scenario][cycle-guard]", resync_test::ScenarioStores) {
    Storm<TestType, resync::doc::RecoverOrDiscard> s;
    s.demand(); // nothing unsynced: the replay uploads nothing (Realm #6195 never cleared it)
    REQUIRE(s.poll_until([&] { return s.completed.size() == 1; }) < 50000);
    REQUIRE(s.poll_until([&] { return !s.store.sync_state().pending_reset.has_value(); }) < 50000);
    s.write(5);
    s.demand();
    REQUIRE(s.poll_until([&] { return s.completed.size() == 2; }) < 50000);
    CHECK(s.completed.back().attempt == 1);
    CHECK(s.completed.back().mode_used == ResetMode::recover);
    REQUIRE(s.session.run_until_idle() == SessionState::syncing);
    CHECK(s.server.state().get("items", "c", "n") == doc::Value{std::int64_t{5}});
}

} // namespace RESYNC_TEST_FILE
