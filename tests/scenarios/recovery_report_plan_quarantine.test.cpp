// Scenario: what a recovering reset tells and keeps. The ResetReport accounts for every local
// operation (recovered, transformed, dropped with its reason and so quarantined), with counts,
// the backup location and the time of each phase, and prints for humans. plan_reset() predicts
// exactly those fates and touches nothing. The dropped operations are kept durably in the
// store's quarantine, survive a reload from disk, and can be exported or retried - on every
// store under test (MemoryStore, SqliteStore).

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
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
using resync::ResetPhase;
using resync::ResetReason;
using resync::SessionState;
using resync_test::el;
using resync_test::list_values;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;

namespace {

/// A client whose offline work meets every fate: the server was restored (losing an
/// acknowledged list insert), then an administrator erased an object, removed a list element and
/// rewrote an integer field as a string. The client, offline, wrote:
///   v3: kept.n = 100                                   -> recovered
///   v4: push "d" after "c" (which the server lost)      -> transformed (after "a")
///   v5: #0 victim.n = 9 (the server erased victim)       -> dropped, quarantined
///       #1 k.count += 1 (a string on the server now)     -> dropped, quarantined
///       #2 erase "b" (the server removed it already)     -> dropped, quarantined
template <class S, class P = resync::doc::RecoverOrDiscard>
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, resync_test::Loopback, S> a;
    resync_test::StoreImage before;
    resync::doc::State server_before;
    std::size_t history_before = 0;

    World() : a(server, 1, {}, resync_test::options_in(dir)) {
        REQUIRE(a.store.write([](resync::doc::Writer& w) {        // v1
            w.create("items", "kept").set("items", "kept", "n", num(1));
            w.create("items", "victim").set("items", "victim", "n", num(1));
            w.create("items", "k").set("items", "k", "count", num(0));
            w.create("lists", "l");
            w.list_push_back("lists", "l", "tags", el("a"));
            w.list_push_back("lists", "l", "tags", el("b"));
        }));
        REQUIRE(a.sync() == SessionState::syncing);
        const auto backup = server.backup();
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.list_push_back("lists", "l", "tags", el("c")); })); // v2
        REQUIRE(a.sync() == SessionState::syncing);
        const auto b_id = element_id("b");

        server.restore(backup);
        server.write({resync::doc::EraseObject{"items", "victim"},
                      resync::doc::ListErase{"lists", "l", "tags", b_id},
                      resync::doc::SetField{"items", "k", "count", str("x")}});

        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "kept", "n", num(100)); }));      // v3
        REQUIRE(a.store.write([](resync::doc::Writer& w) { w.list_push_back("lists", "l", "tags", el("d")); })); // v4
        REQUIRE(a.store.write([](resync::doc::Writer& w) {                                                    // v5
            w.set("items", "victim", "n", num(9));
            w.add("items", "k", "count", 1);
            w.list_erase_at("lists", "l", "tags", 1);
        }));
        REQUIRE(a.store.unsynced().size() == 3);
        before = resync_test::image_of(a.store);
        server_before = server.state();
        history_before = server.history().size();
    }

    resync::doc::ElementId element_id(const char* value) const {
        const auto v = a.store.get("lists", "l", "tags");
        for (const auto& e : std::get<resync::doc::List>(v).elements)
            if (e.value == el(value)) return e.id;
        FAIL("no element " << value);
        return {};
    }

    /// The trigger the client will find, and the fresh copy it will get.
    resync::ResetTrigger trigger() const {
        resync::ResetTrigger t;
        t.reason = ResetReason::diverging_history;
        t.recovery_allowed = true;
        return t;
    }
};

struct Fate {
    resync::ClientVersion version;
    std::size_t index;
    OperationFate fate;
    friend bool operator==(const Fate&, const Fate&) = default;
};

std::ostream& operator<<(std::ostream& os, const Fate& f) {
    return os << "v" << f.version << "#" << f.index << " " << resync::to_string(f.fate);
}

/// The fates of the unsynced operations, with "dropped", "discarded" and "quarantined" taken as
/// one (not carried forward): a plan says an operation will be dropped or discarded; a store
/// with a quarantine then keeps it. Acknowledged operations the server lost are left out: a
/// plan looks at the unsynced ones only.
std::vector<Fate> fates(const std::vector<resync::OperationOutcome>& ops) {
    std::vector<Fate> out;
    for (const auto& o : ops) {
        if (o.fate == OperationFate::lost_on_server) continue;
        const bool not_carried = o.fate == OperationFate::quarantined || o.fate == OperationFate::discarded;
        out.push_back({o.client_version, o.index, not_carried ? OperationFate::dropped : o.fate});
    }
    return out;
}

/// The outcomes of the unsynced operations only.
std::vector<resync::OperationOutcome> unsynced_only(const std::vector<resync::OperationOutcome>& ops) {
    std::vector<resync::OperationOutcome> out;
    for (const auto& o : ops)
        if (o.fate != OperationFate::lost_on_server) out.push_back(o);
    return out;
}

const std::vector<Fate> expected_fates{{3, 0, OperationFate::recovered},
                                       {4, 0, OperationFate::transformed},
                                       {5, 0, OperationFate::dropped},
                                       {5, 1, OperationFate::dropped},
                                       {5, 2, OperationFate::dropped}};

} // namespace

TEMPLATE_LIST_TEST_CASE("the report of a recovering reset accounts for every operation with its fate and reason, "
                        "counts, the backup location and the time of each phase, and prints the cause and the reasons",
                        "[scenario][recovery][report]", resync_test::ScenarioStores) {
    World<TestType> w;
    REQUIRE(w.a.sync() == SessionState::syncing);
    REQUIRE(w.a.session().last_report().has_value());
    const resync::ResetReport& r = *w.a.session().last_report();
    INFO(resync::to_string(r));

    CHECK(r.trigger.reason == ResetReason::diverging_history);
    CHECK(r.trigger.server_error.code == resync::server_code::diverging_histories);
    CHECK(r.mode_requested == ResetMode::recover);
    CHECK(r.mode_used == ResetMode::recover);
    CHECK(r.outcome == resync::ResetOutcome::completed);
    CHECK(r.attempt == 1);
    CHECK_FALSE(r.error);
    CHECK_FALSE(r.failed_phase.has_value());
    CHECK(r.backup_location == "memory");
    CHECK(r.unsynced_changesets == 3);
    CHECK(r.unsynced_operations == 5);
    // v2 was acknowledged, then lost by the restore: reported (not re-applied by this strategy).
    CHECK(r.lost_acknowledged == 1);
    CHECK(r.objects_before == 4);
    CHECK(r.objects_after == 3);
    CHECK(r.fresh_copy_bytes > 0);

    // Every operation, in order, with its fate and, for all but the recovered, its reason: the
    // acknowledged one the restore lost first, then the unsynced ones.
    REQUIRE(r.operations.size() == 6);
    CHECK(r.operations[0].client_version == 2);
    CHECK(r.operations[0].fate == OperationFate::lost_on_server);
    CHECK_THAT(r.operations[0].reason, Catch::Contains("lost by the server") && Catch::Contains("quarantine"));
    CHECK(fates(r.operations) == expected_fates);
    const auto u = unsynced_only(r.operations);
    CHECK(u[0].fate == OperationFate::recovered);
    CHECK(u[1].fate == OperationFate::transformed);
    CHECK_THAT(u[1].reason, Catch::Contains("removed on the server"));
    for (std::size_t i = 2; i < 5; ++i) CHECK(u[i].fate == OperationFate::quarantined);
    CHECK_THAT(u[2].reason, Catch::Contains("the server erased the object"));
    CHECK_THAT(u[3].reason, Catch::Contains("add-integer applies only to a live integer") && Catch::Contains("string"));
    CHECK_THAT(u[4].reason, Catch::Contains("already removed the element"));
    // Each says what it was, in the model's words.
    CHECK(u[2].what == "set items/victim.n");
    CHECK(u[3].what == "add items/k.count +1");
    CHECK(u[4].what == "list erase lists/l.tags");
    CHECK(r.count(OperationFate::recovered) == 1);
    CHECK(r.count(OperationFate::transformed) == 1);
    CHECK(r.count(OperationFate::quarantined) == 3);
    CHECK(r.count(OperationFate::dropped) == 0);
    CHECK(r.count(OperationFate::discarded) == 0);

    // Time per phase: none negative; fetching and committing took some.
    for (auto p : {ResetPhase::detect, ResetPhase::guard, ResetPhase::backup, ResetPhase::fetch, ResetPhase::recover,
                   ResetPhase::commit, ResetPhase::notify, ResetPhase::replay, ResetPhase::acknowledge})
        CHECK(r.time_in(p).count() >= 0);
    CHECK(r.time_in(ResetPhase::fetch).count() > 0);
    CHECK(r.time_in(ResetPhase::commit).count() > 0);
    CHECK(r.time_in(ResetPhase::recover).count() > 0);

    // For humans: the cause, the strategy, and why each operation was not recovered as it was.
    const std::string text = resync::to_string(r);
    CHECK_THAT(text, Catch::Contains("diverging history"));
    CHECK_THAT(text, Catch::Contains("recover (attempt 1)"));
    CHECK_THAT(text, Catch::Contains("quarantined: 3 operations"));
    CHECK_THAT(text, Catch::Contains("v5#0 set items/victim.n quarantined: the server erased the object"));
    CHECK_THAT(text, Catch::Contains("v5#1 add items/k.count +1 quarantined: add-integer applies only to a live integer"));
    CHECK_THAT(text, Catch::Contains("v5#2 list erase lists/l.tags quarantined: the server already removed the element"));
    CHECK_THAT(text, Catch::Contains("v2#0 list insert lists/l.tags lost on server"));
    CHECK_THAT(text, Catch::Contains("v4#0 list insert lists/l.tags transformed"));

    // And the exact final state on both sides.
    INFO("client:\n" << resync_test::to_text(w.a.store.state()) << "server:\n" << resync_test::to_text(w.server.state()));
    CHECK(w.a.store.state() == w.server.state());
    CHECK(w.server.state().get("items", "kept", "n") == num(100));
    CHECK(w.server.state().find("items", "victim") == nullptr);
    CHECK(w.server.state().get("items", "k", "count") == str("x"));
    CHECK(list_values(w.server.state(), "lists", "l", "tags") == std::vector<resync::doc::Scalar>{el("a"), el("d")});
    CHECK(w.server.state().object_count() == 3);
}

TEMPLATE_LIST_TEST_CASE("plan_reset predicts the per-operation fates the reset then produces, and changes nothing: "
                        "not the store, not the record, not the server",
                        "[scenario][recovery][plan]", resync_test::ScenarioStores) {
    World<TestType> w;
    const auto fresh_copies = w.server.fresh_copies_started();
    const auto latest = w.server.latest();

    const resync::ResetPlan plan = w.a.session().plan_reset(w.trigger(), w.server.state());
    CHECK(plan.mode == ResetMode::recover);
    CHECK(plan.attempt == 1);
    CHECK(plan.failure.empty());
    CHECK(plan.trigger.reason == ResetReason::diverging_history);
    CHECK(fates(plan.operations) == expected_fates);
    CHECK(plan.count(OperationFate::dropped) == 3);
    CHECK_THAT(plan.operations[2].reason, Catch::Contains("the server erased the object"));

    // The rough plan against the client's own state: every operation accounted for.
    const resync::ResetPlan rough = w.a.session().plan_reset(w.trigger());
    CHECK(rough.operations.size() == 5);

    // Nothing changed anywhere.
    CHECK(resync_test::image_of(w.a.store) == w.before);
    CHECK_FALSE(w.a.store.sync_state().pending_reset.has_value());
    CHECK(w.a.store.quarantined().empty());
    CHECK(w.server.state() == w.server_before);
    CHECK(w.server.history().size() == w.history_before);
    CHECK(w.server.latest() == latest);
    CHECK(w.server.fresh_copies_started() == fresh_copies);
    CHECK(w.a.session().resets_completed() == 0);
    CHECK_FALSE(w.a.session().last_report().has_value());

    // The real reset does what the plan said, operation by operation, with the same reasons.
    REQUIRE(w.a.sync() == SessionState::syncing);
    const resync::ResetReport& r = *w.a.session().last_report();
    CHECK(r.mode_used == plan.mode);
    CHECK(r.attempt == plan.attempt);
    CHECK(fates(r.operations) == fates(plan.operations));
    const auto u = unsynced_only(r.operations);
    REQUIRE(u.size() == plan.operations.size());
    for (std::size_t i = 0; i < u.size(); ++i) CHECK(u[i].reason == plan.operations[i].reason);
}

TEMPLATE_LIST_TEST_CASE("plan_reset of a recovery that would fail names the failing operation and predicts the "
                        "fallback, as the reset then does",
                        "[scenario][recovery][plan][fallback]", resync_test::ScenarioStores) {
    World<TestType> w;
    // Another administrator write: the field the client sets as an integer becomes a string.
    w.server.write({resync::doc::SetField{"items", "kept", "n", str("one hundred")}});
    const auto image = resync_test::image_of(w.a.store);

    const resync::ResetPlan plan = w.a.session().plan_reset(w.trigger(), w.server.state());
    CHECK(plan.mode == ResetMode::discard);
    CHECK_THAT(plan.failure, Catch::Contains("field 'n' holds string on the server"));
    REQUIRE(plan.operations.size() == 5);
    CHECK(plan.count(OperationFate::discarded) == 5);
    CHECK(resync_test::image_of(w.a.store) == image);

    REQUIRE(w.a.sync() == SessionState::syncing);
    const resync::ResetReport& r = *w.a.session().last_report();
    CHECK(r.mode_used == plan.mode);
    CHECK(fates(r.operations) == fates(plan.operations));
    CHECK_THAT(r.detail, Catch::Contains("v3#0") && Catch::Contains(plan.failure));
    // Discarded into the store's quarantine (the keeping rule), with v2, which the restore lost.
    CHECK(w.a.store.quarantined().size() == 6);
    CHECK(w.a.store.state() == w.server.state());
}

TEMPLATE_LIST_TEST_CASE("plan_reset under Recover predicts the manual reset a forbidden recovery leads to",
                        "[scenario][recovery][plan][manual]", resync_test::ScenarioStores) {
    World<TestType, resync::doc::Recover> w;
    auto t = w.trigger();
    t.reason = ResetReason::schema_changed;
    t.recovery_allowed = false;
    const resync::ResetPlan plan = w.a.session().plan_reset(t, w.server.state());
    CHECK(plan.mode == ResetMode::manual);
    REQUIRE(plan.operations.size() == 5);
    for (const auto& op : plan.operations) {
        CHECK(op.fate == OperationFate::discarded);
        CHECK_THAT(op.reason, Catch::Contains("backup file"));
    }
    CHECK(resync_test::image_of(w.a.store) == w.before);
}

TEMPLATE_LIST_TEST_CASE("dropped operations are quarantined durably: kept in the store after the reset, in a copy "
                        "loaded from disk, exportable, and retried under normal sync rules",
                        "[scenario][recovery][quarantine]", resync_test::ScenarioStores) {
    World<TestType> w;
    const auto dropped_ops = w.before.unsynced.back().ops; // v5
    REQUIRE(w.a.sync() == SessionState::syncing);
    auto& store = w.a.store;

    // In the store, with where each came from, why, and which reset dropped it.
    // The three dropped operations of v5 - and v2's insert, which the restore lost after the
    // server had acknowledged it (kept too: nothing leaves the client's keeping unreported).
    const auto q = store.quarantined();
    REQUIRE(q.size() == 4);
    CHECK(q[0].client_version == 2);
    CHECK(q[0].cause == ResetReason::diverging_history);
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("quarantined #" << i);
        CHECK(q[1 + i].client_version == 5);
        CHECK(q[1 + i].index == i);
        CHECK(q[1 + i].operation == dropped_ops[i]);
        CHECK(q[1 + i].cause == ResetReason::diverging_history);
        CHECK(q[1 + i].at_ms > 0);
        CHECK(q[1 + i].reason == w.a.session().last_report()->operations[3 + i].reason);
    }
    // Nothing of them reached the server.
    CHECK(w.server.state().find("items", "victim") == nullptr);

    // Durable: a copy of the store loaded from disk (a saved MemoryStore, a copy of a
    // SqliteStore's file) holds it too.
    resync_test::ScratchDir files;
    auto loaded = resync_test::durable_copy(store, files);
    CHECK(loaded.quarantined() == q);
    CHECK(loaded.state() == store.state());

    // Exportable: taken out, the quarantine is empty (and the copy's is its own).
    const auto exported = resync_test::take_quarantine(loaded);
    CHECK(exported == q);
    CHECK(loaded.quarantined().empty());
    CHECK(store.quarantined() == q);

    // Retried: the application brings the object back, then re-applies the quarantine as one
    // local write, which syncs as usual. Only what normal rules let apply has an effect.
    REQUIRE(store.write([](resync::doc::Writer& wr) { wr.create("items", "victim"); }));
    auto retried = store.retry_quarantined();
    REQUIRE(retried);
    CHECK(store.quarantined().empty());
    CHECK(store.get("items", "victim", "n") == num(9));
    REQUIRE(w.a.sync() == SessionState::syncing);
    CHECK(w.server.state().get("items", "victim", "n") == num(9));
    CHECK(w.server.state().get("items", "k", "count") == str("x")); // an add onto a string does nothing
    // "c", which the restore lost, comes back with the retry - at the end, its predecessor gone.
    CHECK(list_values(w.server.state(), "lists", "l", "tags") ==
          std::vector<resync::doc::Scalar>{el("a"), el("d"), el("c")});
    const auto keys = resync_test::history_keys(w.server);
    CHECK(keys.count({w.a.ident(), *retried}) == 1);
    CHECK(store.state() == w.server.state());
    CHECK(w.a.session().resets_completed() == 1);
    CHECK(resync_test::no_duplicate_uploads(w.server));
}

} // namespace RESYNC_TEST_FILE
