// The recovery law suite, resync::testing::check_recovery_laws, run over every shipped rule set
// on thousands of random cases, and shown to catch rule sets that break a law.
//
// Running the laws on your own rules
// ----------------------------------
// A rule set for the document model is a type with a nested `Context` constructible from
// `(const doc::State& fresh, const doc::State* before)` and a member
// `recover::RuleOutcome recover(Context&, const doc::Operation&) const` (see
// recover::DocumentRules). Generate cases - the client's state before the reset, the server's
// fresh copy, the local changesets - and check each one:
//
//     #include <resync/testing/document_laws.hpp>
#include <resync/testing/recovery_laws.hpp>
//
//     for (int i = 0; i < 5000; ++i) {                       // a fixed seed, many cases
//         auto [fresh, before, local] = my_random_case(rng);
//         const auto broken = resync::testing::check_recovery_laws(fresh, before, local, MyRules{});
//         REQUIRE(broken.empty());                            // each entry names a broken law
//     }
//
// `before` is the client's whole state (synced base plus the local changes), as a MemoryStore's
// state() is when a reset starts; the generator used below (tests/support/random_document.hpp)
// makes such cases and can be reused. To run the suite over a new shipped rule set, add it to
// `ShippedRules`.

#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/report.hpp>
#include <resync/testing/document_laws.hpp>
#include <resync/testing/recovery_laws.hpp>

#include <support/random_document.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::OperationFate;
using resync::recover::DocumentRules;
using RuleOutcome = resync::recover::RuleOutcome<doc::Operation>;
using Changesets = std::vector<resync::LocalChangeset<doc::Operation>>;

/// Every rule set the library ships; the law suite runs over each.
using ShippedRules = std::tuple<DocumentRules>;

struct Case {
    doc::State fresh;
    doc::State before;
    Changesets local;
};

constexpr std::uint64_t client_replica = 7;
constexpr std::uint64_t server_replica = 99;

/// A random case: a synced base; the server's changes since (sometimes a changed field type, an
/// emptied collection or a removed one); one to three local changesets of every operation kind.
Case random_case(resync_test::RandomDocument& random) {
    std::uint64_t client_seq = 1;
    std::uint64_t server_seq = 1;
    const doc::State base = random.state(client_replica, client_seq);
    Case c{base, base, {}};

    random.transaction(c.fresh, server_replica, server_seq, random.below(8));
    if (random.chance(1, 20)) { // a destructive change of one field's type
        for (auto& [name, coll] : c.fresh.collections)
            for (auto& [key, obj] : coll)
                if (obj.contains("i")) obj["i"] = doc::Value{std::string("now a string")};
    }
    if (random.chance(1, 20)) c.fresh.collections["c1"].clear();
    if (random.chance(1, 25)) c.fresh.collections.erase("c0");

    const auto changesets = 1 + random.below(3);
    for (std::uint64_t v = 1; v <= changesets; ++v) {
        const std::size_t n = 1 + random.below(6);
        const bool typed = !random.chance(1, 10);
        auto ops = random.transaction(c.before, client_replica, client_seq, n, typed);
        c.local.push_back({v, 0, std::move(ops)});
    }
    return c;
}

std::string describe(const std::vector<std::string>& broken) {
    std::string s;
    for (const auto& b : broken) s += b + "; ";
    return s;
}

bool breaks(const std::vector<std::string>& broken, std::string_view law) {
    return std::any_of(broken.begin(), broken.end(), [&](const std::string& b) { return b.find(law) != std::string::npos; });
}

} // namespace

namespace {

/// The laws of check_recovery_laws, by the words that start their messages.
constexpr std::string_view laws[] = {
    "an operation got two outcomes",           // 1. accounts for everything
    "the outcomes account for",                // 1.
    "an operation that was not recovered has", // 1.
    "recovering nothing produced something",   // 2. nothing in, nothing out
    "recovering twice",                        // 3. idempotent
    "an unrelated object on the server",       // 4. local
    "the same input gave a different output",  // 5. deterministic
    "an operation reported recovered was",     // 6. recovered means replayed
    "came back without a local",               // 7. never resurrects
};

/// One line per local operation, to show a counterexample.
std::string describe(const Changesets& local) {
    static constexpr const char* kinds[] = {"create", "erase", "set", "add", "list insert",
                                            "list erase", "list move", "list set", "list clear"};
    auto id = [](const doc::ElementId& e) { return std::to_string(e.replica) + ":" + std::to_string(e.seq); };
    std::string s;
    for (const auto& cs : local)
        for (const auto& op : cs.ops) {
            s += "v" + std::to_string(cs.client_version) + " " + kinds[op.index()] + " " + doc::collection_of(op) + "/" +
                 doc::key_of(op) + " " + std::string(doc::field_of(op));
            std::visit(
                [&](const auto& o) {
                    if constexpr (requires { o.id; }) s += " id " + id(o.id);
                    if constexpr (requires { o.after; }) s += " after " + (o.after ? id(*o.after) : std::string("front"));
                },
                op);
            s += "\n";
        }
    return s;
}

} // namespace

TEMPLATE_LIST_TEST_CASE("every shipped rule set obeys the recovery laws on thousands of random cases",
                        "[recover][laws][property]", ShippedRules) {
    resync_test::RandomDocument random(4242);
    std::size_t broken_by[std::size(laws)] = {};
    std::string first_counterexample[std::size(laws)];
    std::size_t unknown = 0;
    std::size_t failed = 0;
    std::size_t fates[6] = {};
    for (int i = 0; i < 2000; ++i) {
        const Case c = random_case(random);
        const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, TestType{});
        for (const auto& b : broken) {
            bool known = false;
            for (std::size_t l = 0; l < std::size(laws); ++l) {
                if (b.rfind(laws[l], 0) != 0) continue;
                known = true;
                if (broken_by[l]++ == 0) first_counterexample[l] = "case " + std::to_string(i) + ":\n" + describe(c.local);
            }
            unknown += !known;
        }

        // Count what happened, so a run where every case fails or nothing is ever transformed
        // does not pass for a test of the laws.
        const TestType rules{};
        auto ctx = rules.context(c.fresh, &c.before);
        bool stop = false;
        for (const auto& cs : c.local) {
            for (const auto& op : cs.ops) {
                const auto r = rules.recover(ctx, op);
                ++fates[static_cast<int>(r.fate)];
                if (r.failure) {
                    ++failed;
                    stop = true;
                    break;
                }
            }
            if (stop) break;
        }
    }
    for (std::size_t l = 0; l < std::size(laws); ++l) {
        CAPTURE(laws[l], first_counterexample[l]);
        CHECK(broken_by[l] == 0);
    }
    CHECK(unknown == 0);
    CHECK(failed > 100);  // failures happen (type changes, removed collections) ...
    CHECK(failed < 600);  // ... but most recoveries succeed, so laws 3-5 are really checked
    CHECK(fates[static_cast<int>(OperationFate::recovered)] > 5000);
    CHECK(fates[static_cast<int>(OperationFate::transformed)] > 80);
    CHECK(fates[static_cast<int>(OperationFate::dropped)] > 1500);
}

TEST_CASE("the shipped rules obey the laws on the smallest cases the random search breaks them with",
          "[recover][laws]") {
    // Found by shrinking counterexamples of the property above; each is a history a real client
    // can write. `before` is the client's state, `fresh` the server's.
    const doc::ElementId P{client_replica, 1}, Q{client_replica, 2}, R{client_replica, 3};
    Case c;
    c.fresh.collections["tasks"]["t1"] = doc::Object{{"n", doc::Value{std::int64_t{1}}},
                                                     {"l", doc::List{{{P, std::int64_t{1}}, {Q, std::int64_t{2}}}}}};
    c.before = c.fresh;
    SECTION("an add-integer recovered again adds again") {
        c.local.push_back({1, 0, {doc::AddInteger{"tasks", "t1", "n", 5}}});
        doc::apply(c.before, c.local.back().ops);
    }
    SECTION("a list move recovered again reorders what an insert after it placed") {
        // Move Q to the front, then insert R at the front: [R, Q, P]. Again: [Q, R, P].
        c.local.push_back({1, 0, {doc::ListMove{"tasks", "t1", "l", Q, std::nullopt}}});
        c.local.push_back({2, 0, {doc::ListInsert{"tasks", "t1", "l", std::nullopt, R, std::int64_t{3}}}});
        for (const auto& cs : c.local) doc::apply(c.before, cs.ops);
    }
    SECTION("an update dropped because the server erased the object applies once a later create brings it back") {
        c.before.collections["tasks"]["t2"] = doc::Object{{"n", doc::Value{std::int64_t{2}}}}; // erased on the server
        c.local.push_back({1, 0, {doc::SetField{"tasks", "t2", "n", std::int64_t{3}}, doc::CreateObject{"tasks", "t2"}}});
        doc::apply(c.before, c.local.back().ops);
    }
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, DocumentRules{});
    CAPTURE(describe(broken), describe(c.local));
    CHECK(broken.empty());
}

// ------------------------------------------------------------- the suite can fail

namespace {

/// A small case every broken rule set below is tried on: tasks/t1 with an int, a list [A, B];
/// the server erased tasks/t2 and list element B; the client edits all of it.
Case small_case() {
    Case c;
    const doc::ElementId A{client_replica, 1}, B{client_replica, 2};
    doc::State base;
    base.collections["tasks"]["t1"] =
        doc::Object{{"n", doc::Value{std::int64_t{1}}}, {"tags", doc::List{{{A, std::int64_t{1}}, {B, std::int64_t{2}}}}}};
    base.collections["tasks"]["t2"] = doc::Object{{"n", doc::Value{std::int64_t{2}}}};
    base.collections["tasks"]["t3"] = doc::Object{};
    c.fresh = base;
    doc::apply(c.fresh, doc::EraseObject{"tasks", "t2"});
    doc::apply(c.fresh, doc::ListErase{"tasks", "t1", "tags", B});
    c.before = base;
    std::uint64_t seq = 3;
    doc::Changeset ops;
    std::vector<doc::Operation> undo;
    doc::Writer w(c.before, ops, undo, client_replica, &seq);
    w.set("tasks", "t1", "n", std::int64_t{5});
    w.set("tasks", "t2", "n", std::int64_t{6}); // the server erased t2
    w.list_push_back("tasks", "t1", "tags", std::int64_t{3});
    w.list_set("tasks", "t1", "tags", 1, std::int64_t{20}); // B, which the server erased
    w.erase("tasks", "t3");
    c.local.push_back({1, 0, ops});
    return c;
}

/// Delegates to DocumentRules; a broken rule set overrides one rule.
struct Wrapped {
    using Context = DocumentRules::Context<doc::State, doc::State>;
    Context context(const doc::State& fresh, const doc::State* before) const { return inner.context(fresh, before); }
    DocumentRules inner;
};

/// Resurrects an object the server erased: a set on it emits a create first.
struct Resurrecting : Wrapped {
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (const auto* set = std::get_if<doc::SetField>(&op); set && !ctx.object(set->collection, set->key)) {
            const doc::Operation create = doc::CreateObject{set->collection, set->key};
            ctx.apply(create);
            ctx.apply(op);
            return RuleOutcome{OperationFate::recovered, {}, {create, op}, {}};
        }
        return inner.recover(ctx, op);
    }
};

/// Drops every erase without saying why.
struct Unexplained : Wrapped {
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (std::holds_alternative<doc::EraseObject>(op)) return RuleOutcome{OperationFate::dropped, {}, {}, {}};
        return inner.recover(ctx, op);
    }
};

/// Swallows every set: reports it recovered but keeps nothing.
struct Swallowing : Wrapped {
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (std::holds_alternative<doc::SetField>(op)) return RuleOutcome{OperationFate::recovered, {}, {}, {}};
        return inner.recover(ctx, op);
    }
};

/// Inserts list elements under a new id on every recovery (the element count in the id): a
/// second recovery duplicates them, as Realm's whole-list copy did (#7155).
struct Duplicating : Wrapped {
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (const auto* ins = std::get_if<doc::ListInsert>(&op)) {
            doc::ListInsert copy = *ins;
            const doc::Object* obj = ctx.object(ins->collection, ins->key);
            if (obj && obj->contains(ins->field))
                if (const auto* l = std::get_if<doc::List>(&obj->at(ins->field))) copy.id.seq += 1000 * l->elements.size();
            ctx.apply(copy);
            return RuleOutcome{OperationFate::recovered, {}, {doc::Operation{copy}}, {}};
        }
        return inner.recover(ctx, op);
    }
};

/// Decides by the size of the whole fresh copy: an unrelated object changes its outcomes.
struct NonLocal : Wrapped {
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (ctx.fresh().object_count() % 2 == 0) return RuleOutcome{OperationFate::dropped, "even", {}, {}};
        return inner.recover(ctx, op);
    }
};

/// Remembers earlier calls: the same input gives another output the next time.
struct NonDeterministic : Wrapped {
    mutable int calls = 0;
    RuleOutcome recover(Context& ctx, const doc::Operation& op) const {
        if (++calls == 1) return RuleOutcome{OperationFate::dropped, "the first call", {}, {}};
        return inner.recover(ctx, op);
    }
};

} // namespace

TEST_CASE("the shipped rules obey the laws on the case the broken rule sets are tried on", "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, DocumentRules{});
    CAPTURE(describe(broken));
    CHECK(broken.empty());
}

TEST_CASE("a rule set that drops an operation without a reason breaks 'accounts for everything'", "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, Unexplained{});
    CAPTURE(describe(broken));
    CHECK(breaks(broken, "not recovered has no reason"));
}

TEST_CASE("a rule set that reports an operation recovered but keeps nothing of it breaks 'accounts for everything'",
          "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, Swallowing{});
    CAPTURE(describe(broken));
    CHECK_FALSE(broken.empty());
}

TEST_CASE("a rule set that resurrects an object the server erased is reported", "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, Resurrecting{});
    CAPTURE(describe(broken));
    CHECK_FALSE(broken.empty());
}

TEST_CASE("a rule set that inserts list elements again on a second recovery breaks 'idempotent'", "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, Duplicating{});
    CAPTURE(describe(broken));
    // Re-recovering its own output from the same fresh copy, it shifts the ids again (law 3), or
    // leaves an element that no local insert made (law 7): either way it is caught.
    CHECK_FALSE(broken.empty());
}

TEST_CASE("a rule set whose outcomes depend on unrelated objects breaks 'local'", "[recover][laws]") {
    const Case c = small_case();
    REQUIRE(c.fresh.object_count() % 2 == 0);
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, NonLocal{});
    CAPTURE(describe(broken));
    CHECK(breaks(broken, "an unrelated object on the server changed the outcomes"));
}

TEST_CASE("a rule set with memory of earlier calls breaks 'deterministic'", "[recover][laws]") {
    const Case c = small_case();
    const auto broken = resync::testing::check_recovery_laws(c.fresh, c.before, c.local, NonDeterministic{});
    CAPTURE(describe(broken));
    CHECK(breaks(broken, "the same input gave a different output"));
}

} // namespace RESYNC_TEST_FILE
