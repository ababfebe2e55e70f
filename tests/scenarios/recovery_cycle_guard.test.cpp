// Scenario: the cycle guard (DESIGN §4.3) under the recovering strategies. Its durable record is
// committed alone before any reset work; a repeat trigger for the same reason before the server
// confirmed the last reset escalates recover -> discard -> manual (a failed recovery that fell
// back to discard counts as discard); a different reason starts the mode over; a server that
// keeps demanding resets never gets a loop; the record clears only once the replayed upload is
// acknowledged and the download is complete - also when there is nothing to upload (Realm
// #6195); and an abandoned attempt is retried only after a backoff.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
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
using resync_test::num;
using resync_test::Peer;
using resync_test::str;
using resync_test::TapTransport;

namespace {

struct Demand {
    int code;
    ResetReason reason;
};

constexpr Demand rollback{resync::server_code::bad_server_version, ResetReason::server_rollback};
constexpr Demand expired{resync::server_code::client_file_expired, ResetReason::client_expired};

void demand(resync::testing::Server& server, Demand d) {
    server.inject_error({d.code, ServerAction::reset, "reset, please"});
}

/// A synced client under `P` that records every completed reset and every manual request.
template <class P, class Link = resync::testing::LoopbackTransport>
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server server;
    Peer<P, Link> a;
    std::vector<resync::ResetReport> completed;
    std::vector<resync::ResetRequest> requests;

    explicit World(std::uint32_t max_attempts = 3, P policy = {}) : a(server, 1, std::move(policy), options(dir, max_attempts)) {
        a.put("items", "one", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        a.session().on_reset_request([this](const resync::ResetRequest& r) { requests.push_back(r); });
        a.session().on_after_reset([this](const resync::doc::State*, const resync::MemoryStore&,
                                          const resync::ResetReport& r) { completed.push_back(r); });
    }

    static resync::SessionOptions options(const resync_test::ScratchDir& d, std::uint32_t max_attempts) {
        auto o = resync_test::options_in(d);
        o.max_reset_attempts = max_attempts;
        return o;
    }

    /// Each time the previous demand has led to a completed reset - before the server could
    /// confirm it - demands another, for the causes in turn; a local change is written first.
    void keep_demanding(const std::vector<Demand>& causes, int polls) {
        std::size_t demanded = 0;
        for (int i = 0; i < polls; ++i) {
            if (demanded == a.session().resets_completed() && a.session().state() != SessionState::awaiting_user) {
                a.put("items", "local" + std::to_string(demanded), "n", num(static_cast<std::int64_t>(demanded)));
                demand(server, causes[demanded % causes.size()]);
                ++demanded;
            }
            a.session().poll();
        }
    }
};

} // namespace

TEMPLATE_TEST_CASE("repeat demands for the same reason before the server confirms escalate recover, then the "
                   "strategy's fallback (discard, then manual; or manual at once); once the server confirms, the next "
                   "reset starts over",
                   "[scenario][recovery][cycle-guard]", resync::Recover, resync::RecoverOrDiscard, resync::RecoverAll) {
    // A failed recover attempt becomes the strategy's fallback: discard, whose failure becomes
    // manual (RecoverOrDiscard, RecoverAll); or manual at once (Recover, which never discards).
    constexpr bool discards = !std::is_same_v<TestType, resync::Recover>;
    World<TestType> w;
    w.keep_demanding({rollback}, 3000);

    REQUIRE(w.a.session().state() == SessionState::awaiting_user);
    REQUIRE(w.completed.size() == (discards ? 2u : 1u));
    CHECK(w.completed[0].attempt == 1);
    CHECK(w.completed[0].mode_used == ResetMode::recover);
    CHECK(w.completed[0].count(OperationFate::recovered) == 2);
    if (discards) {
        CHECK(w.completed[1].attempt == 2);
        CHECK(w.completed[1].mode_requested == ResetMode::recover);
        CHECK(w.completed[1].mode_used == ResetMode::discard);
        CHECK(w.completed[1].count(OperationFate::discarded) == w.completed[1].operations.size());
        CHECK(w.completed[1].operations.size() == 4); // the recovered change, and the new one
    }
    const std::uint32_t manual_attempt = discards ? 3 : 2;
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests[0].attempt == manual_attempt);
    CHECK(w.requests[0].trigger.reason == ResetReason::server_rollback);
    REQUIRE(w.a.session().last_report().has_value());
    CHECK(w.a.session().last_report()->attempt == manual_attempt);
    CHECK(w.a.session().last_report()->mode_used == ResetMode::manual);
    CHECK(w.a.session().last_report()->outcome == resync::ResetOutcome::awaiting_user);
    CHECK(w.a.session().resets_completed() == w.completed.size());

    // The user executes it; the server confirms; a later demand starts over at attempt 1.
    REQUIRE_FALSE(w.a.session().execute_reset());
    REQUIRE(w.a.sync() == SessionState::syncing);
    CHECK_FALSE(w.a.store.sync_state().pending_reset.has_value());
    CHECK(w.a.store.state() == w.server.state());
    demand(w.server, rollback);
    w.a.put("items", "after", "n", num(9));
    REQUIRE(w.a.sync() == SessionState::syncing);
    CHECK(w.a.session().last_report()->attempt == 1);
    CHECK(w.a.session().last_report()->mode_used == ResetMode::recover);
    CHECK(w.server.state().get("items", "after", "n") == num(9));
    CHECK(w.a.store.state() == w.server.state());
}

TEST_CASE("a recovery that fails falls back to discard in its attempt, and the same reason again goes to manual",
          "[scenario][recovery][cycle-guard][fallback]") {
    World<resync::RecoverOrDiscard> w;
    // The server rewrites a field as a string; the client writes an integer there offline.
    w.server.write({resync::doc::SetField{"items", "one", "n", str("one")}});
    REQUIRE(w.a.store.write([](resync::doc::Writer& wr) { wr.set("items", "one", "n", num(5)); }));
    demand(w.server, rollback);
    int polls = 0;
    for (; polls < 2000 && w.completed.empty(); ++polls) w.a.session().poll();
    REQUIRE(w.completed.size() == 1);
    CHECK(w.completed[0].attempt == 1);
    CHECK(w.completed[0].mode_requested == ResetMode::recover);
    CHECK(w.completed[0].mode_used == ResetMode::discard);
    CHECK_THAT(w.completed[0].detail, Catch::Contains("recovery failed") && Catch::Contains("v2#0"));
    CHECK(w.completed[0].count(OperationFate::discarded) == 1);
    // The record says discard: that is what this attempt became.
    REQUIRE(w.a.store.sync_state().pending_reset.has_value());
    CHECK(w.a.store.sync_state().pending_reset->mode == ResetMode::discard);
    CHECK(w.a.store.sync_state().pending_reset->attempt == 1);

    // The same reason again, before the server confirmed: manual.
    demand(w.server, rollback);
    for (polls = 0; polls < 2000 && w.requests.empty(); ++polls) w.a.session().poll();
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests[0].attempt == 2);
    CHECK(w.a.session().last_report()->mode_used == ResetMode::manual);
    CHECK(w.a.session().state() == SessionState::awaiting_user);
    CHECK(w.a.session().resets_completed() == 1);
}

TEST_CASE("a demand for a different reason starts the mode over at recover, while the attempt count goes on",
          "[scenario][recovery][cycle-guard]") {
    World<resync::RecoverOrDiscard> w(5);
    // rollback, expired, expired, rollback, rollback: recover, recover, discard, recover, discard;
    // the sixth attempt is beyond max_reset_attempts (5): manual.
    w.keep_demanding({rollback, expired, expired, rollback, rollback, rollback}, 6000);
    REQUIRE(w.completed.size() == 5);
    const std::vector<ResetReason> reasons{ResetReason::server_rollback, ResetReason::client_expired,
                                           ResetReason::client_expired, ResetReason::server_rollback,
                                           ResetReason::server_rollback};
    const std::vector<ResetMode> modes{ResetMode::recover, ResetMode::recover, ResetMode::discard, ResetMode::recover,
                                       ResetMode::discard};
    for (std::size_t i = 0; i < w.completed.size(); ++i) {
        INFO("reset #" << i + 1);
        CHECK(w.completed[i].attempt == i + 1);
        CHECK(w.completed[i].trigger.reason == reasons[i]);
        CHECK(w.completed[i].mode_used == modes[i]);
    }
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests[0].attempt == 6);
    CHECK(w.a.session().state() == SessionState::awaiting_user);
}

TEMPLATE_TEST_CASE("a server that answers every message with a reset demand never makes a recovering session loop: it "
                   "ends waiting for the user after a bounded number of resets, and stays there",
                   "[scenario][recovery][cycle-guard]", resync::Recover, resync::RecoverOrDiscard, resync::RecoverAll) {
    const bool alternate = GENERATE(false, true);
    INFO((alternate ? "alternating causes" : "one cause"));
    World<TestType> w;
    const auto max_attempts = w.a.options.max_reset_attempts;
    std::size_t polls = 0;
    for (; polls < 5000 && w.a.session().state() != SessionState::awaiting_user; ++polls) {
        demand(w.server, alternate && polls % 2 ? expired : rollback);
        w.a.put("items", "p" + std::to_string(polls % 7), "n", num(static_cast<std::int64_t>(polls)));
        w.a.session().poll();
    }
    INFO("after " << polls << " polls, session " << resync::to_string(w.a.session().state()));
    REQUIRE(w.a.session().state() == SessionState::awaiting_user);
    CHECK(w.a.session().resets_completed() <= max_attempts);
    CHECK(w.a.session().last_report()->attempt <= max_attempts + 1);
    CHECK(w.a.session().last_report()->mode_used == ResetMode::manual);
    const auto completed = w.a.session().resets_completed();
    const auto fresh = w.server.fresh_copies_started();
    for (int i = 0; i < 2000; ++i) {
        demand(w.server, rollback);
        REQUIRE(w.a.session().poll() == SessionState::awaiting_user);
    }
    CHECK(w.a.session().resets_completed() == completed);
    CHECK(w.server.fresh_copies_started() == fresh);
    CHECK(w.requests.size() == 1);
}

TEST_CASE("the pending-reset record is committed on its own before any reset work: at backup time the store holds it "
          "and is otherwise untouched, and no fresh copy was asked for",
          "[scenario][recovery][cycle-guard][record]") {
    using Policy = resync::Strategy<resync_test::HookBackup, resync::recover::Rebase<>, resync::fallback::Discard>;
    std::function<void(const resync::MemoryStore&, const resync::ResetTrigger&)> hook;
    resync_test::ScratchDir dir;
    resync::testing::Server server;
    Peer<Policy> a(server, 1, Policy{resync_test::HookBackup{&hook}}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.put("items", "two", "n", num(2));
    const auto before = resync_test::image_of(a.store);
    REQUIRE_FALSE(before.sync.pending_reset.has_value());

    std::optional<resync::PendingReset> record_at_backup;
    std::optional<resync_test::StoreImage> image_at_backup;
    std::size_t fresh_at_backup = 99;
    hook = [&](const resync::MemoryStore& s, const resync::ResetTrigger&) {
        record_at_backup = s.sync_state().pending_reset;
        image_at_backup = resync_test::image_of(s, false);
        fresh_at_backup = server.fresh_copies_started();
    };
    demand(server, expired);
    REQUIRE(a.sync() == SessionState::syncing);

    REQUIRE(record_at_backup.has_value());
    CHECK(record_at_backup->attempt == 1);
    CHECK(record_at_backup->mode == ResetMode::recover);
    CHECK(record_at_backup->reason == ResetReason::client_expired);
    CHECK(record_at_backup->server_error == resync::server_code::client_file_expired);
    CHECK(record_at_backup->phase == resync::ResetPhase::guard);
    CHECK_FALSE(record_at_backup->awaiting_user);
    CHECK(record_at_backup->started_at_ms > 0);
    REQUIRE(image_at_backup.has_value());
    CHECK(*image_at_backup == before);
    CHECK(fresh_at_backup == 0);
    // And the reset then did its work: the change is on the server, the record is gone.
    CHECK(server.state().get("items", "two", "n") == num(2));
    CHECK(a.store.state() == server.state());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
}

TEST_CASE("the pending-reset record clears only once the replayed upload is acknowledged and the download is complete",
          "[scenario][recovery][cycle-guard][record]") {
    World<resync::RecoverOrDiscard, TapTransport> w;
    auto& a = w.a;
    auto& tap = a.link();
    a.put("items", "replayed", "n", num(5));
    // As soon as the reset has committed, the server's answers stop getting through.
    a.session().on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport&) {
        tap.drop_acks = true;
        tap.drop_downloads = true;
    });
    demand(w.server, rollback);
    REQUIRE(resync_test::poll_until(a.session(), [&] { return a.session().resets_completed() == 1; }));
    const auto ident = a.ident();

    // The replayed upload reached the server, but neither its ack nor any download came back.
    for (int i = 0; i < 300; ++i) a.session().poll();
    CHECK(w.server.state().get("items", "replayed", "n") == num(5));
    CHECK(w.server.last_integrated(ident) >= 1);
    CHECK(tap.acks_dropped > 0);
    CHECK(tap.downloads_dropped > 0);
    CHECK_FALSE(a.store.unsynced().empty());
    REQUIRE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.store.sync_state().pending_reset->phase == resync::ResetPhase::commit);
    CHECK_FALSE(a.session().idle());

    // Acknowledged, but the download still incomplete: the record stays.
    tap.drop_acks = false;
    REQUIRE(resync_test::poll_until(a.session(), [&] { return a.store.unsynced().empty(); }));
    for (int i = 0; i < 300; ++i) a.session().poll();
    CHECK(a.store.unsynced().empty());
    CHECK(a.store.sync_state().pending_reset.has_value());
    CHECK_FALSE(a.session().idle());

    // The download completes: now it clears.
    tap.drop_downloads = false;
    REQUIRE(resync_test::poll_until(a.session(), [&] { return !a.store.sync_state().pending_reset.has_value(); }));
    CHECK(a.store.sync_state().download == w.server.latest());
    CHECK(a.store.state() == w.server.state());
    CHECK(resync_test::no_duplicate_uploads(w.server));
}

TEST_CASE("the pending-reset record does not clear on a complete download while the replayed upload is not yet "
          "acknowledged, nor on an acknowledgement that arrives after the last download",
          "[scenario][recovery][cycle-guard][record]") {
    World<resync::RecoverOrDiscard, TapTransport> w;
    auto& a = w.a;
    auto& tap = a.link();
    a.put("items", "replayed", "n", num(5));
    // After the commit the uploads get lost on the way: downloads flow, the client catches up.
    a.session().on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport&) {
        tap.drop_uploads = true;
    });
    demand(w.server, rollback);
    REQUIRE(resync_test::poll_until(a.session(), [&] { return a.session().resets_completed() == 1; }));
    for (int i = 0; i < 300; ++i) a.session().poll();
    CHECK(tap.uploads_dropped > 0);
    CHECK(w.server.state().find("items", "replayed") == nullptr);
    CHECK(a.store.sync_state().download == w.server.latest()); // caught up
    CHECK_FALSE(a.store.unsynced().empty());
    CHECK(a.store.sync_state().pending_reset.has_value());

    // Now the upload gets through and is acknowledged, but no download follows: the server has
    // moved on (with the replayed changes) past what the client downloaded.
    tap.drop_uploads = false;
    tap.drop_downloads = true;
    REQUIRE(resync_test::poll_until(a.session(), [&] { return a.store.unsynced().empty(); }));
    for (int i = 0; i < 300; ++i) a.session().poll();
    CHECK(w.server.state().get("items", "replayed", "n") == num(5));
    CHECK(a.store.sync_state().download.version < w.server.latest().version);
    CHECK(a.store.sync_state().pending_reset.has_value());

    tap.drop_downloads = false;
    REQUIRE(resync_test::poll_until(a.session(), [&] { return !a.store.sync_state().pending_reset.has_value(); }));
    CHECK(a.store.sync_state().download == w.server.latest());
    CHECK(a.store.state() == w.server.state());
}

TEST_CASE("a recovery with nothing to upload still clears the record and the session goes idle (Realm #6195)",
          "[scenario][recovery][cycle-guard][record]") {
    const bool all_dropped = GENERATE(false, true);
    INFO((all_dropped ? "every local change dropped by recovery" : "no local changes at all"));
    World<resync::RecoverOrDiscard, TapTransport> w;
    auto& a = w.a;
    if (all_dropped) {
        // The server erases the object; the client updates it offline: the update is dropped.
        a.put("items", "gone", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        w.server.write({resync::doc::EraseObject{"items", "gone"}});
        REQUIRE(a.store.write([](resync::doc::Writer& wr) { wr.set("items", "gone", "n", num(2)); }));
    }
    std::size_t uploads_at_commit = 0;
    a.session().on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport&) {
        uploads_at_commit = a.link().uploads;
    });
    demand(w.server, rollback);
    CHECK(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);
    const auto& report = *a.session().last_report();
    CHECK(report.mode_used == ResetMode::recover);
    if (all_dropped) {
        CHECK(report.operations.size() == 1);
        CHECK(report.count(OperationFate::quarantined) == 1);
        CHECK(a.store.quarantined().size() == 1);
    } else {
        CHECK(report.operations.empty());
    }
    CHECK(a.session().idle());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());
    CHECK(a.store.unsynced().empty());
    CHECK(a.link().uploads == uploads_at_commit); // nothing was replayed
    CHECK(a.store.state() == w.server.state());
    CHECK(w.server.state().find("items", "gone") == nullptr);
}

TEST_CASE("after an abandoned attempt the session says nothing to the server for the backoff, which doubles with the "
          "attempt, then retries at the escalated mode",
          "[scenario][recovery][cycle-guard][backoff]") {
    resync_test::ScratchDir dir;
    resync::testing::Server server;
    auto options = resync_test::options_in(dir);
    options.backoff_polls = 10;
    Peer<resync::RecoverOrDiscard, TapTransport> a(server, 1, {}, options);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.put("items", "two", "n", num(2));
    int throws_left = 2;
    a.session().on_before_reset([&](const resync::ResetTrigger&, const resync::MemoryStore&) {
        if (throws_left-- > 0) throw std::runtime_error("the application is not ready");
    });
    demand(server, rollback);

    std::vector<std::size_t> gaps;       // polls from an abandonment to the next Hello
    std::vector<std::uint32_t> attempts; // the attempt each abandonment ended
    std::vector<ResetMode> modes;
    for (int round = 0; round < 2; ++round) {
        REQUIRE(resync_test::poll_until(a.session(), [&] {
            return a.session().last_report() && a.session().last_report()->outcome == resync::ResetOutcome::abandoned &&
                   a.session().last_report()->attempt == static_cast<std::uint32_t>(round + 1);
        }));
        attempts.push_back(a.session().last_report()->attempt);
        modes.push_back(a.session().last_report()->mode_used);
        CHECK(a.session().last_report()->failed_phase == resync::ResetPhase::notify);
        const auto hellos = a.link().hellos;
        const auto fresh = a.link().fresh_requests;
        const auto uploads = a.link().uploads;
        const auto pulls = a.link().pulls;
        std::size_t gap = 0;
        while (a.link().hellos == hellos && gap < 1000) {
            a.session().poll();
            ++gap;
        }
        CHECK(a.link().fresh_requests == fresh);
        CHECK(a.link().uploads == uploads);
        CHECK(a.link().pulls == pulls);
        gaps.push_back(gap);
    }
    INFO("gaps " << gaps[0] << ", " << gaps[1]);
    CHECK(attempts == std::vector<std::uint32_t>{1, 2});
    CHECK(modes == std::vector<ResetMode>{ResetMode::recover, ResetMode::discard});
    CHECK(gaps[0] >= options.backoff_polls);
    CHECK(gaps[1] >= 2 * gaps[0] - 1);
    CHECK(gaps[1] < 1000);

    // The third attempt is beyond what the guard allows automatically for this reason: manual.
    REQUIRE(resync_test::poll_until(a.session(), [&] { return a.session().state() == SessionState::awaiting_user; }));
    CHECK(a.session().last_report()->attempt == 3);
    CHECK(a.session().last_report()->mode_used == ResetMode::manual);
    CHECK(a.session().resets_completed() == 0);
    CHECK(a.store.get("items", "two", "n") == num(2)); // untouched through it all
}

} // namespace RESYNC_TEST_FILE
