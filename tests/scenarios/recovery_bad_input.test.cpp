// Scenario: recovery meets input it cannot handle - a recovery rule that throws, an operation on
// a field whose type the server changed, a fresh copy that lacks a collection the local changes
// need. Each time recovery fails cleanly into the strategy's fallback (discard, or a manual reset
// with a durable backup), the local data is untouched until the one commit, and the report says
// which operation failed and why. Twins show the same changes recover when the input is sound.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/execute.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::OperationFate;
using resync::ResetMode;
using resync::ServerAction;
using resync::SessionState;
using resync_test::el;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

/// The document rules, except that the rule for any operation on a field named "boom" throws.
/// Over whatever the store hands the rules: a `doc::State`, or a SqliteStore's lookup views.
struct ThrowingRules {
    using operation_type = resync::doc::Operation;
    using snapshot_type = resync::doc::State;

    resync::recover::DocumentRules inner;

    template <class Fresh, class Before>
    auto context(const Fresh& fresh, const Before* before) const {
        return inner.context(fresh, before);
    }
    template <class Context>
    resync::recover::RuleOutcome<resync::doc::Operation> recover(Context& ctx, const resync::doc::Operation& op) const {
        if (resync::doc::field_of(op) == "boom") throw std::runtime_error("the rule for 'boom' is broken");
        return inner.recover(ctx, op);
    }
};

using ThrowsThenDiscards = resync::Strategy<resync::backup::Snapshot, resync::recover::Rebase<ThrowingRules>,
                                            resync::fallback::Discard>;
using ThrowsThenWaits = resync::Strategy<resync::backup::Snapshot, resync::recover::Rebase<ThrowingRules>,
                                         resync::fallback::Manual>;

template <class P>
constexpr bool waits = P::fallback_type::mode == ResetMode::manual;

/// Everything the test saw of one reset.
struct Seen {
    bool before_called = false;
    resync_test::StoreImage at_before;
    std::vector<std::pair<std::error_code, std::string>> errors;
    std::vector<resync::ResetRequest> requests;
};

template <class P, class L, class S>
void watch(Peer<P, L, S>& a, Seen& seen) {
    a.session().on_before_reset([&](const resync::ResetTrigger&, const S& s) {
        seen.before_called = true;
        seen.at_before = resync_test::image_of(s, false);
    });
    a.session().on_error([&](std::error_code ec, std::string_view d) { seen.errors.emplace_back(ec, std::string(d)); });
    a.session().on_reset_request([&](const resync::ResetRequest& r) { seen.requests.push_back(r); });
}

/// Checks what every failed recovery must give: the fallback ran, the store was untouched until
/// the commit (or is untouched still, waiting for the user), and the report names the operation.
template <class P, class S>
void check_failed_into_fallback(Peer<P, resync_test::Loopback, S>& a, resync::testing::Server<resync::doc::Model>& server,
                                const Seen& seen,
                                const resync_test::StoreImage& before, const resync::doc::State& server_before,
                                SessionState stopped_at, const std::string& op, const std::string& why,
                                const resync_test::ScratchDir& dir) {
    REQUIRE(a.session().last_report().has_value());
    const resync::ResetReport r = *a.session().last_report();
    INFO(resync::to_string(r));
    CHECK(r.mode_requested == ResetMode::recover);
    CHECK(r.attempt == 1);
    CHECK_THAT(r.detail, Catch::Contains(op) && Catch::Contains(why));
    CHECK_THAT(resync::to_string(r), Catch::Contains(op) && Catch::Contains(why));
    bool heard = false;
    for (const auto& [ec, words] : seen.errors) heard = heard || (words.find(op) != std::string::npos);
    CHECK(heard);
    // Nothing of the failed recovery reached the server.
    CHECK(server.state() == server_before);
    if constexpr (waits<P>) {
        CHECK(stopped_at == SessionState::awaiting_user);
        CHECK(r.mode_used == ResetMode::manual);
        CHECK(r.outcome == resync::ResetOutcome::awaiting_user);
        CHECK_FALSE(seen.before_called);
        CHECK(resync_test::image_of(a.store, false) == before);
        REQUIRE(seen.requests.size() == 1);
        const std::filesystem::path path(seen.requests.front().backup_path);
        CHECK(path.parent_path() == dir.path() / "backups");
        auto contents = resync_test::read_backup<S>(path.string());
        REQUIRE(contents);
        CHECK(contents->unsynced == before.unsynced);
        CHECK(contents->state == before.state);
        REQUIRE_FALSE(a.session().execute_reset());
        REQUIRE(a.sync() == SessionState::syncing);
    } else {
        CHECK(stopped_at == SessionState::syncing);
        CHECK(r.mode_used == ResetMode::discard);
        CHECK(r.outcome == resync::ResetOutcome::completed);
        std::size_t ops = 0;
        for (const auto& cs : before.unsynced) ops += cs.ops.size();
        // Discarded into the store's quarantine (the keeping rule), each op found there.
        CHECK(r.count(OperationFate::quarantined) == ops);
        // ... with the acknowledged operations the server lost, if any, kept there too.
        CHECK(a.store.quarantined().size() == ops + r.count(OperationFate::lost_on_server));
        REQUIRE(seen.before_called);
        CHECK(seen.at_before == before);
    }
    CHECK(a.store.state() == server.state());
    CHECK(server.state() == server_before);
    CHECK(a.store.unsynced().empty());
    CHECK(a.session().resets_completed() == 1);
}

} // namespace

using Throwing = resync_test::OnEveryStore<ThrowsThenDiscards, ThrowsThenWaits>;

TEMPLATE_LIST_TEST_CASE("a recovery rule that throws fails recovery cleanly into the fallback, and the report names the "
                        "operation and the exception's words",
                        "[scenario][recovery][bad-input][throws]", Throwing) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "one", "n", num(10)); }));   // v2
    REQUIRE(a.store.write([](resync::doc::Writer& w) {                                            // v3
        w.set("items", "one", "x", num(1));
        w.set("items", "one", "boom", num(1)); // #1 throws
    }));
    const auto before = resync_test::image_of(a.store);
    const auto server_before = server.state();
    Seen seen;
    watch(a, seen);
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    const SessionState stopped_at = a.sync();
    check_failed_into_fallback(a, server, seen, before, server_before, stopped_at, "v3#1",
                               "the rule for 'boom' is broken", dir);
    CHECK(a.store.get("items", "one", "n") == num(1));
}

namespace {
/// A whole recovery policy that throws (not a rule of Rebase): it cannot name an operation, but
/// its words reach the report.
struct ThrowingRecovery {
    using resync_role = resync::role::recovery;
    static constexpr ResetMode mode = ResetMode::recover;

    template <class S, class Fresh> // a doc::State, or a SqliteStore's view of its staged copy
    resync::Result<resync::Recovered<typename S::operation_type>>
    recover(const S&, const Fresh&, const resync::ResetTrigger&,
            const std::vector<resync::LocalChangeset<typename S::operation_type>>&) const {
        throw std::runtime_error("the recovery service is down");
    }
};
} // namespace

TEMPLATE_LIST_TEST_CASE("a recovery policy that throws fails into the fallback, and its words are in the report and "
                        "only there",
                        "[scenario][recovery][bad-input][throws]", resync_test::ScenarioStores) {
    using S = TestType;
    using Policy = resync::Strategy<resync::backup::Snapshot, ThrowingRecovery, resync::fallback::Discard>;
    resync::testing::Server<resync::doc::Model> server;
    resync::SessionOptions options;
    options.max_fresh_copy_attempts = 1; // a damaged fresh copy abandons the reset at once
    Peer<Policy, resync_test::Loopback, S> a(server, 1, {}, options);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.put("items", "one", "n", num(2));
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    REQUIRE(a.sync() == SessionState::syncing);
    const resync::ResetReport first = *a.session().last_report();
    CHECK(first.mode_used == ResetMode::discard);
    CHECK_THAT(first.detail, Catch::Contains("recovery failed") && Catch::Contains("the recovery service is down"));
    CHECK(a.store.state() == server.state());
    CHECK(server.state().get("items", "one", "n") == num(1));

    // A later reset abandoned for another reason (no exception this time) does not carry the old
    // words along.
    server.damage_next_fresh_copy(resync::testing::Server<resync::doc::Model>::FreshCopyFault::corrupt);
    server.inject_error({resync::server_code::bad_server_version, ServerAction::reset, "restored"});
    REQUIRE(resync_test::poll_until(a.session(), [&] {
        return a.session().last_report()->outcome == resync::ResetOutcome::abandoned;
    }));
    CHECK(a.session().last_report()->error == resync::errc::fresh_copy_corrupt);
    CHECK_THAT(a.session().last_report()->detail, Catch::Contains("fresh copy"));
    CHECK_THAT(a.session().last_report()->detail, !Catch::Contains("recovery service"));
}

TEMPLATE_LIST_TEST_CASE("the twin: the same rules recover the same changes when no operation makes them throw",
                        "[scenario][recovery][bad-input][throws]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    Peer<ThrowsThenDiscards, resync_test::Loopback, S> a(server, 1);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "one", "n", num(10)); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "one", "x", num(1)); }));
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(a.session().last_report()->mode_used == ResetMode::recover);
    CHECK(a.session().last_report()->detail.empty());
    CHECK(server.state().get("items", "one", "n") == num(10));
    CHECK(server.state().get("items", "one", "x") == num(1));
}

using Recovering = resync_test::OnEveryStore<resync::doc::RecoverOrDiscard, resync::doc::Recover>;

TEMPLATE_LIST_TEST_CASE("an operation on a field whose type the server changed fails recovery cleanly into the "
                        "fallback, and the report names the operation and the types",
                        "[scenario][recovery][bad-input][type-changed]", Recovering) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    enum class Kind { set_int_on_string, list_insert_on_string, list_erase_on_string };
    const Kind kind = GENERATE(Kind::set_int_on_string, Kind::list_insert_on_string, Kind::list_erase_on_string);
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.create("items", "one").set("items", "one", "n", num(1));
        w.list_push_back("items", "one", "tags", el("a"));
    }));
    REQUIRE(a.sync() == SessionState::syncing);
    // Offline: a sound change first, then the one the server's new type breaks.
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.create("items", "two").set("items", "two", "n", num(2)); })); // v2
    std::string why;
    switch (kind) {
    case Kind::set_int_on_string:
        server.write({resync::doc::SetField{"items", "one", "n", str("one")}});
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "one", "n", num(5)); }));
        why = "field 'n' holds string on the server, the local change writes int";
        break;
    case Kind::list_insert_on_string:
        server.write({resync::doc::SetField{"items", "one", "tags", str("a")}});
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.list_push_back("items", "one", "tags", el("b")); }));
        why = "field 'tags' holds string on the server, the local change writes a list";
        break;
    case Kind::list_erase_on_string:
        server.write({resync::doc::SetField{"items", "one", "tags", str("a")}});
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.list_erase_at("items", "one", "tags", 0); }));
        why = "field 'tags' holds string on the server, the local change writes a list";
        break;
    }
    REQUIRE(a.store.unsynced().size() == 2);
    const auto before = resync_test::image_of(a.store);
    const auto server_before = server.state();
    Seen seen;
    watch(a, seen);
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    const SessionState stopped_at = a.sync();
    check_failed_into_fallback(a, server, seen, before, server_before, stopped_at, "v3#0", why, dir);
    // The sound change before the failing one was discarded with it: all or nothing.
    CHECK(server.state().find("items", "two") == nullptr);
}

TEMPLATE_LIST_TEST_CASE("a fresh copy missing a collection the local changes need fails recovery cleanly into the "
                        "fallback, and the report names the operation and the collection",
                        "[scenario][recovery][bad-input][collection]", Recovering) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup(); // before the collection "tasks" existed
    a.put("tasks", "t1", "done", resync::doc::Value{false});
    REQUIRE(a.sync() == SessionState::syncing);
    server.restore(backup);
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "one", "n", num(10)); }));  // v3
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("tasks", "t1", "done", resync::doc::Value{true}); })); // v4
    const auto before = resync_test::image_of(a.store);
    const auto server_before = server.state();
    REQUIRE_FALSE(server_before.collections.contains("tasks"));
    Seen seen;
    watch(a, seen);
    const SessionState stopped_at = a.sync();
    check_failed_into_fallback(a, server, seen, before, server_before, stopped_at, "v4#0",
                               "the server no longer has the collection 'tasks'", dir);
    CHECK(a.session().last_report()->trigger.reason == resync::ResetReason::server_rollback);
}

TEMPLATE_LIST_TEST_CASE("the twins: a collection the recovered changes create again is not missing - made offline, "
                        "or recreated by RecoverAll from a lost acknowledged change",
                        "[scenario][recovery][bad-input][collection]", resync_test::ScenarioStores) {
    using S = TestType;
    SECTION("a collection made offline") {
        resync::testing::Server<resync::doc::Model> server;
        Peer<resync::doc::RecoverOrDiscard, resync_test::Loopback, S> a(server, 1);
        a.put("items", "one", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        a.put("notes", "n1", "text", str("offline"));
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("notes", "n1", "more", num(2)); }));
        server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
        REQUIRE(a.sync() == SessionState::syncing);
        INFO(resync::to_string(*a.session().last_report()));
        CHECK(a.session().last_report()->mode_used == ResetMode::recover);
        CHECK(a.session().last_report()->count(OperationFate::recovered) == 3);
        CHECK(server.state().get("notes", "n1", "text") == str("offline"));
        CHECK(server.state().get("notes", "n1", "more") == num(2));
        CHECK(a.store.state() == server.state());
    }
    SECTION("a collection whose creation the restore lost, under RecoverAll") {
        resync::testing::Server<resync::doc::Model> server;
        Peer<resync::doc::RecoverAll, resync_test::Loopback, S> a(server, 1);
        a.put("items", "one", "n", num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        const auto backup = server.backup();
        a.put("tasks", "t1", "done", resync::doc::Value{false});
        REQUIRE(a.sync() == SessionState::syncing);
        server.restore(backup);
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("tasks", "t1", "done", resync::doc::Value{true}); }));
        REQUIRE(a.sync() == SessionState::syncing);
        INFO(resync::to_string(*a.session().last_report()));
        CHECK(a.session().last_report()->mode_used == ResetMode::recover);
        CHECK(a.session().last_report()->lost_acknowledged == 1);
        CHECK(server.state().get("tasks", "t1", "done") == resync::doc::Value{true});
        CHECK(a.store.state() == server.state());
    }
}

} // namespace RESYNC_TEST_FILE
