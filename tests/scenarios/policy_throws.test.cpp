// Scenario: a policy or callback throws inside a reset. The reset is abandoned cleanly - the
// local data and the unsynced changes unchanged, the report names the phase that failed and the
// error says what failed - and the next attempt for the same cause escalates (discard ->
// manual) instead of looping.
// Run on every store (MemoryStore, SqliteStore).

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy.hpp>
#include <resync/strategy/discard_unsynced.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::ResetPhase;
using resync::SessionState;
using resync::errc;
using resync_test::num;
using resync_test::Replica;
using resync_test::str;

namespace {

/// A backup model whose backup throws.
struct ThrowingBackup {
    using resync_role = resync::role::backup;
    static constexpr bool keeps_before_state = false;

    template <class S>
    resync::Result<resync::BackupMade> backup(const S&, const resync::ResetTrigger&, const resync::BackupContext&) const {
        throw std::runtime_error("the backup disk caught fire");
    }
};

/// A discard model whose commit throws before touching the store: the commit from a state in
/// memory (MemoryStore) and the one from the store's own staging (SqliteStore) alike.
struct ThrowingDiscard {
    using resync_role = resync::role::discard;

    template <class S>
    resync::Result<resync::DiscardOutcome<resync::snapshot_of<S>>> commit(S&, resync::reset_commit_of<S>&&) const {
        throw std::runtime_error("the commit was interrupted");
    }
    template <class S>
    resync::Result<resync::DiscardOutcome<resync::snapshot_of<S>>>
    commit_staged(S&, resync::StagedResetCommit<resync::operation_of<S>>&&) const {
        throw std::runtime_error("the commit was interrupted");
    }
};

using BackupThrows = resync::Strategy<ThrowingBackup>;
using DiscardThrows = resync::Strategy<resync::backup::Snapshot, ThrowingDiscard>;

/// What each failing policy must produce.
template <class P>
struct Expect;
template <>
struct Expect<BackupThrows> {
    static constexpr ResetPhase phase = ResetPhase::backup;
    static constexpr errc error = errc::policy_failure;
    static constexpr const char* words = "the backup disk caught fire";
};
template <>
struct Expect<DiscardThrows> {
    static constexpr ResetPhase phase = ResetPhase::commit;
    static constexpr errc error = errc::store_failure;
    static constexpr const char* words = "the commit was interrupted";
};

/// A synced client on a store `S` with one unsynced change whose next request the server
/// answers with a demand for a reset.
template <class S, class P>
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a;
    resync_test::StoreImage before;
    std::vector<resync::ResetRequest> requests;
    std::vector<std::error_code> errors;

    World() : a(server, P{}, resync_test::options_in(dir)) {
        a.put("items", "one", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        a.put("items", "local", "note", str("unsynced"));
        before = resync_test::image_of(a.store);
        a.session().on_reset_request([this](const resync::ResetRequest& r) { requests.push_back(r); });
        a.session().on_error([this](std::error_code ec, std::string_view) { errors.push_back(ec); });
        server.inject_error({resync::server_code::bad_server_version, resync::ServerAction::reset, "restored"},
                            a.ident());
    }

    /// Polls until the last report is abandoned (or a bound is hit).
    void poll_until_abandoned() {
        for (int i = 0; i < 1000; ++i) {
            a.session().poll();
            if (a.session().last_report() && a.session().last_report()->outcome == resync::ResetOutcome::abandoned)
                return;
        }
    }

    std::size_t count(errc e) const {
        std::size_t n = 0;
        for (const auto& ec : errors) n += ec == e;
        return n;
    }
};

/// Polls `n` times and checks the session sits still, waiting for the user.
template <class S, class P>
void stays_waiting(World<S, P>& w, int n) {
    for (int i = 0; i < n; ++i) REQUIRE(w.a.session().poll() == SessionState::awaiting_user);
}

using Cases1 = resync_test::OnEveryStore<BackupThrows, DiscardThrows>;

} // namespace

TEMPLATE_LIST_TEST_CASE("a backup or discard policy that throws inside a reset gets the reset abandoned with the local data "
                   "unchanged and the failed phase named, retried after a backoff, then manual instead of looping",
                   "[scenario][policy-throws]", Cases1) {
    // A failed try is not a completed attempt: it is retried as it was (attempt 1), after a
    // backoff, and after SessionOptions::max_abandoned_tries tries the application decides.
    using P = typename TestType::policy;
    using S = typename TestType::store;
    using E = Expect<P>;
    World<S, P> w;
    w.poll_until_abandoned();

    REQUIRE(w.a.session().last_report().has_value());
    const resync::ResetReport report = *w.a.session().last_report();
    CHECK(report.outcome == resync::ResetOutcome::abandoned);
    REQUIRE(report.failed_phase.has_value());
    CHECK(*report.failed_phase == E::phase);
    CHECK(report.error == E::error);
    CHECK(report.detail.find(E::words) != std::string::npos);
    CHECK(report.detail.find(std::string(resync::to_string(E::phase))) != std::string::npos);
    CHECK(report.trigger.reason == resync::ResetReason::server_rollback);
    CHECK(report.attempt == 1);
    CHECK(report.mode_used == resync::ResetMode::discard);
    CHECK(w.a.session().last_error() == E::error);
    CHECK(w.a.session().resets_completed() == 0);
    CHECK(resync_test::image_of(w.a.store, false) == w.before);
    CHECK(w.a.store.state().find("items", "local") != nullptr);
    // The guard's record stays, with the failed try counted, so the retry knows of it.
    REQUIRE(w.a.store.sync_state().pending_reset.has_value());
    CHECK(w.a.store.sync_state().pending_reset->attempt == 1);
    CHECK(w.a.store.sync_state().pending_reset->failures == 1);

    // The retries fail the same way; after the last, a manual reset waits for the user.
    for (int i = 0; i < 20000 && w.a.session().state() != SessionState::awaiting_user; ++i) w.a.session().poll();
    REQUIRE(w.a.session().state() == SessionState::awaiting_user);
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests.front().attempt == 1);
    CHECK(w.requests.front().trigger.reason == resync::ResetReason::server_rollback);
    REQUIRE(w.a.session().last_report().has_value());
    CHECK(w.a.session().last_report()->attempt == 1);
    CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::manual);
    CHECK(w.a.session().last_report()->outcome == resync::ResetOutcome::awaiting_user);
    // The manual backup does not go through the failing backup policy: it is a file of its own.
    auto contents = resync_test::read_backup<S>(w.requests.front().backup_path);
    REQUIRE(contents);
    CHECK(contents->state == w.before.state);
    CHECK(contents->unsynced == w.before.unsynced);

    // It never loops: many polls later it still waits, with no further attempt.
    stays_waiting(w, 3000);
    CHECK(w.requests.size() == 1);
    CHECK(w.count(E::error) == resync::SessionOptions{}.max_abandoned_tries);
    CHECK(w.a.session().resets_completed() == 0);
    CHECK(resync_test::image_of(w.a.store, false) == w.before);
}

TEMPLATE_LIST_TEST_CASE("a before-reset callback that throws gets the reset abandoned in the notify phase with the "
                        "local data unchanged, retried after a backoff, then manual",
                        "[scenario][policy-throws][callbacks]", resync_test::ScenarioStores) {
    World<TestType, resync::DiscardUnsynced> w;
    int before_calls = 0, after_calls = 0;
    w.a.session().on_before_reset([&](const auto&, const auto&) {
        ++before_calls;
        throw std::runtime_error("the application refused");
    });
    w.a.session().on_after_reset([&](const auto*, const auto&, const auto&) { ++after_calls; });
    w.poll_until_abandoned();

    REQUIRE(w.a.session().last_report().has_value());
    const resync::ResetReport report = *w.a.session().last_report();
    CHECK(report.outcome == resync::ResetOutcome::abandoned);
    REQUIRE(report.failed_phase.has_value());
    CHECK(*report.failed_phase == ResetPhase::notify);
    CHECK(report.error == errc::callback_failed);
    CHECK(report.detail.find("the application refused") != std::string::npos);
    CHECK(before_calls == 1);
    CHECK(after_calls == 0);
    CHECK(w.a.session().resets_completed() == 0);
    CHECK(resync_test::image_of(w.a.store, false) == w.before);

    for (int i = 0; i < 20000 && w.a.session().state() != SessionState::awaiting_user; ++i) w.a.session().poll();
    REQUIRE(w.a.session().state() == SessionState::awaiting_user);
    REQUIRE(w.requests.size() == 1);
    CHECK(w.requests.front().attempt == 1);
    CHECK(w.a.session().last_report()->mode_used == resync::ResetMode::manual);
    stays_waiting(w, 3000);
    CHECK(before_calls == static_cast<int>(resync::SessionOptions{}.max_abandoned_tries));
    CHECK(w.requests.size() == 1);
    CHECK(resync_test::image_of(w.a.store, false) == w.before);
}

TEMPLATE_LIST_TEST_CASE("an after-reset callback that throws does not undo a committed reset",
                        "[scenario][policy-throws][callbacks]", resync_test::ScenarioStores) {
    World<TestType, resync::DiscardUnsynced> w;
    int after_calls = 0;
    w.a.session().on_after_reset([&](const auto*, const auto&, const auto&) {
        ++after_calls;
        throw std::runtime_error("the application's notifier failed");
    });
    REQUIRE(w.a.sync() == SessionState::syncing);

    CHECK(after_calls == 1);
    CHECK(w.a.session().last_error() == errc::callback_failed);
    REQUIRE(w.a.session().last_report().has_value());
    CHECK(w.a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(w.a.session().resets_completed() == 1);
    CHECK(w.a.store.state() == w.server.state());
    CHECK(w.a.store.state().find("items", "local") == nullptr);
    CHECK_FALSE(w.a.store.sync_state().pending_reset.has_value());
}

} // namespace RESYNC_TEST_FILE
