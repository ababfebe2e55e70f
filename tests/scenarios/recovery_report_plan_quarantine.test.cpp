// Scenario: what a recovering reset tells and keeps. The ResetReport accounts for every local
// operation (recovered, transformed, dropped with its reason and so quarantined), with counts,
// the backup location and the time of each phase, and prints for humans. plan_reset() predicts
// exactly those fates and touches nothing. The dropped operations are kept durably in the
// store's quarantine, survive save and load, and can be exported or retried.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>
#include <support/temp_dir.hpp>

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
template <class P = resync::doc::RecoverOrDiscard>
struct World {
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P> a;
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

/// The fates, with "dropped" and "quarantined" taken as one: a plan says an operation will be
/// dropped; a store with a quarantine then keeps it.
std::vector<Fate> fates(const std::vector<resync::OperationOutcome>& ops) {
    std::vector<Fate> out;
    for (const auto& o : ops)
        out.push_back({o.client_version, o.index, o.fate == OperationFate::quarantined ? OperationFate::dropped : o.fate});
    return out;
}

const std::vector<Fate> expected_fates{{3, 0, OperationFate::recovered},
                                       {4, 0, OperationFate::transformed},
                                       {5, 0, OperationFate::dropped},
                                       {5, 1, OperationFate::dropped},
                                       {5, 2, OperationFate::dropped}};

} // namespace

TEST_CASE("the report of a recovering reset accounts for every operation with its fate and reason, counts, the "
          "backup location and the time of each phase, and prints the cause and the reasons",
          "[scenario][recovery][report]") {
    World<> w;
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
    CHECK(r.lost_acknowledged == 0);
    CHECK(r.objects_before == 4);
    CHECK(r.objects_after == 3);
    CHECK(r.fresh_copy_bytes > 0);

    // Every operation, in order, with its fate and, for all but the recovered, its reason.
    REQUIRE(r.operations.size() == 5);
    CHECK(fates(r.operations) == expected_fates);
    CHECK(r.operations[0].fate == OperationFate::recovered);
    CHECK(r.operations[1].fate == OperationFate::transformed);
    CHECK_THAT(r.operations[1].reason, Catch::Contains("removed on the server"));
    for (std::size_t i = 2; i < 5; ++i) CHECK(r.operations[i].fate == OperationFate::quarantined);
    CHECK_THAT(r.operations[2].reason, Catch::Contains("the server erased the object"));
    CHECK_THAT(r.operations[3].reason, Catch::Contains("add-integer applies only to a live integer") &&
                                           Catch::Contains("string"));
    CHECK_THAT(r.operations[4].reason, Catch::Contains("already removed the element"));
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
    CHECK_THAT(text, Catch::Contains("v5#0 quarantined: the server erased the object"));
    CHECK_THAT(text, Catch::Contains("v5#1 quarantined: add-integer applies only to a live integer"));
    CHECK_THAT(text, Catch::Contains("v5#2 quarantined: the server already removed the element"));
    CHECK_THAT(text, Catch::Contains("v4#0 transformed"));

    // And the exact final state on both sides.
    INFO("client:\n" << resync_test::to_text(w.a.store.state()) << "server:\n" << resync_test::to_text(w.server.state()));
    CHECK(w.a.store.state() == w.server.state());
    CHECK(w.server.state().get("items", "kept", "n") == num(100));
    CHECK(w.server.state().find("items", "victim") == nullptr);
    CHECK(w.server.state().get("items", "k", "count") == str("x"));
    CHECK(list_values(w.server.state(), "lists", "l", "tags") == std::vector<resync::doc::Scalar>{el("a"), el("d")});
    CHECK(w.server.state().object_count() == 3);
}

TEST_CASE("plan_reset predicts the per-operation fates the reset then produces, and changes nothing: not the store, "
          "not the record, not the server",
          "[scenario][recovery][plan]") {
    World<> w;
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
    REQUIRE(r.operations.size() == plan.operations.size());
    for (std::size_t i = 0; i < r.operations.size(); ++i) CHECK(r.operations[i].reason == plan.operations[i].reason);
}

TEST_CASE("plan_reset of a recovery that would fail names the failing operation and predicts the fallback, as the "
          "reset then does",
          "[scenario][recovery][plan][fallback]") {
    World<> w;
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
    CHECK(w.a.store.quarantined().empty()); // discarded, not dropped: nothing is quarantined
    CHECK(w.a.store.state() == w.server.state());
}

TEST_CASE("plan_reset under Recover predicts the manual reset a forbidden recovery leads to",
          "[scenario][recovery][plan][manual]") {
    World<resync::doc::Recover> w;
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

TEST_CASE("dropped operations are quarantined durably: kept in the store after the reset, across save and load, "
          "exportable, and retried under normal sync rules",
          "[scenario][recovery][quarantine]") {
    World<> w;
    const auto dropped_ops = w.before.unsynced.back().ops; // v5
    REQUIRE(w.a.sync() == SessionState::syncing);
    auto& store = w.a.store;

    // In the store, with where each came from, why, and which reset dropped it.
    const auto q = store.quarantined();
    REQUIRE(q.size() == 3);
    for (std::size_t i = 0; i < q.size(); ++i) {
        INFO("quarantined #" << i);
        CHECK(q[i].client_version == 5);
        CHECK(q[i].index == i);
        CHECK(q[i].operation == dropped_ops[i]);
        CHECK(q[i].cause == ResetReason::diverging_history);
        CHECK(q[i].at_ms > 0);
        CHECK(q[i].reason == w.a.session().last_report()->operations[2 + i].reason);
    }
    // Nothing of them reached the server.
    CHECK(w.server.state().find("items", "victim") == nullptr);

    // Durable: saved and loaded with the store.
    resync_test::TempDir files;
    REQUIRE_FALSE(store.save(files / "store.bin"));
    auto loaded = resync::MemoryStore::load(files / "store.bin");
    REQUIRE(loaded);
    CHECK(loaded->quarantined() == q);
    CHECK(loaded->state() == store.state());

    // Exportable: taken out, the quarantine is empty (and a saved copy keeps its own).
    auto exported = loaded->take_quarantined();
    CHECK(exported == q);
    CHECK(loaded->quarantined().empty());
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
    CHECK(list_values(w.server.state(), "lists", "l", "tags") == std::vector<resync::doc::Scalar>{el("a"), el("d")});
    const auto keys = resync_test::history_keys(w.server);
    CHECK(keys.count({w.a.ident(), *retried}) == 1);
    CHECK(store.state() == w.server.state());
    CHECK(w.a.session().resets_completed() == 1);
    CHECK(resync_test::no_duplicate_uploads(w.server));
}

} // namespace RESYNC_TEST_FILE
