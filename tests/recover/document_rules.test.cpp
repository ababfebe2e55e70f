// recover::DocumentRules (the table in recover/document_rules.hpp), driven the way the session
// drives it: `recover::Rebase<resync::recover::DocumentRules>{}.recover(store, fresh, trigger, local)` - and
// `recover_in_place` onto a copy of the fresh copy, which must decide the same - with a MemoryStore
// whose state() is the client's state before the reset and a hand-built fresh copy from the
// server. Covers the cases of Realm's recovery catalogue that fit the document model (research
// §9: modify existing, modify deleted, create existing, erase, add-int on a non-int, list edits
// against every kind of concurrent server list change) and the failures that must make a reset
// fall back (a field whose type changed, a collection the server no longer has).
//
// Every case checks the exact recovered changesets, the state they produce on the fresh copy,
// and the outcome of every operation (a non-empty reason for anything not recovered).

#include <resync/error.hpp>
#include <resync/memory_store.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/report.hpp>
#include <resync/trigger.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
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
using resync::ClientVersion;
using resync::OperationFate;
using Changesets = std::vector<resync::LocalChangeset<doc::Operation>>;
using Recovered = resync::Recovered<doc::Operation>;

doc::Value str(const char* s) { return doc::Value{std::string(s)}; }
doc::Value num(std::int64_t i) { return doc::Value{i}; }
doc::Scalar text(const char* s) { return doc::Scalar{std::string(s)}; }
doc::Value list(std::initializer_list<doc::Element> elements) { return doc::List{std::vector<doc::Element>(elements)}; }

constexpr std::uint64_t client_replica = 7;
constexpr std::uint64_t server_replica = 99;

/// One recovery: a client store (its synced base plus local changes) and the server's fresh copy.
class Recovery {
public:
    resync::MemoryStore store{client_replica};
    doc::State fresh;

    /// The synced base: written on the client and held by the server alike.
    template <class F>
    void base(F&& f) {
        REQUIRE(store.write(std::forward<F>(f)));
        synced_upto_ = store.last_client_version();
        fresh = store.state();
    }
    /// A change the server made while the client was away (its new elements named by the server).
    template <class F>
    void server(F&& f) {
        doc::Changeset ops;
        std::vector<doc::Operation> undo;
        doc::Writer w(fresh, ops, undo, server_replica, &server_seq_);
        f(w);
    }
    /// A local transaction the server has not seen; returns its client version.
    template <class F>
    ClientVersion local(F&& f) {
        auto v = store.write(std::forward<F>(f));
        REQUIRE(v);
        REQUIRE(*v != 0);
        return *v;
    }
    /// The local changesets the reset recovers.
    Changesets unsynced() const {
        Changesets out;
        for (auto& cs : store.unsynced())
            if (cs.client_version > synced_upto_) out.push_back(cs);
        return out;
    }
    /// Runs the rules onto a copy they only read (a dry run, a store's staged view), and onto a
    /// decoded copy they change (as the session does for a MemoryStore), and checks that both
    /// decide the same, and that the copy recovered in place is the fresh copy with the recovered
    /// changesets applied (or, when recovery fails, the fresh copy as it was), its undo logs
    /// reverting it to the fresh copy.
    Recovered recover() const {
        resync::ResetTrigger trigger;
        trigger.reason = resync::ResetReason::server_rollback;
        const resync::recover::Rebase<resync::recover::DocumentRules> rebase;
        auto out = rebase.recover(store, fresh, trigger, unsynced());
        REQUIRE(out);
        doc::State staged = fresh;
        auto in_place = rebase.recover_in_place(store, staged, trigger, unsynced());
        REQUIRE(in_place);
        CHECK(in_place->failure.has_value() == out->failure.has_value());
        CHECK(in_place->failure_code == out->failure_code);
        REQUIRE(in_place->outcomes.size() == out->outcomes.size());
        for (std::size_t i = 0; i < out->outcomes.size(); ++i) {
            CHECK(in_place->outcomes[i].client_version == out->outcomes[i].client_version);
            CHECK(in_place->outcomes[i].index == out->outcomes[i].index);
            CHECK(in_place->outcomes[i].fate == out->outcomes[i].fate);
            CHECK(in_place->outcomes[i].reason == out->outcomes[i].reason);
        }
        if (out->failure) {
            CHECK(in_place->undo.empty());
            CHECK(staged == fresh);
        } else {
            CHECK(in_place->history == out->history);
            doc::State expected = fresh;
            for (const auto& cs : out->history) doc::apply(expected, cs.ops);
            CHECK(staged == expected);
            REQUIRE(in_place->undo.size() == in_place->history.size());
            for (auto log = in_place->undo.rbegin(); log != in_place->undo.rend(); ++log) doc::revert(staged, *log);
            CHECK(staged == fresh);
        }
        return std::move(*out);
    }

private:
    ClientVersion synced_upto_ = 0;
    std::uint64_t server_seq_ = 1;
};

/// The fresh copy with the recovered changesets applied: what the client holds after the reset
/// and what the server holds once the replay is uploaded.
doc::State applied(doc::State fresh, const Recovered& r) {
    for (const auto& cs : r.history) doc::apply(fresh, cs.ops);
    return fresh;
}

struct Expect {
    ClientVersion version;
    std::size_t index;
    OperationFate fate;
};

/// The outcomes are exactly `want`, in order; every one not recovered has a reason.
void check_outcomes(const Recovered& r, std::initializer_list<Expect> want) {
    REQUIRE(r.outcomes.size() == want.size());
    std::size_t i = 0;
    for (const auto& w : want) {
        const auto& got = r.outcomes[i++];
        CAPTURE(i, got.client_version, got.index, resync::to_string(got.fate), got.reason);
        CHECK(got.client_version == w.version);
        CHECK(got.index == w.index);
        CHECK(got.fate == w.fate);
        CHECK(got.reason.empty() == (w.fate == OperationFate::recovered));
    }
}

void check_succeeded(const Recovered& r) {
    CHECK_FALSE(r.failure.has_value());
    CHECK_FALSE(r.failure_code);
}

resync::LocalChangeset<doc::Operation> changeset(ClientVersion v, doc::Changeset ops) { return {v, 0, std::move(ops)}; }

// The list every list case starts from: tasks/t1.tags = [A "a", B "b", C "c"], written by the
// client (so named by its replica) and synced.
const doc::ElementId A{client_replica, 1}, B{client_replica, 2}, C{client_replica, 3};
const doc::ElementId X{client_replica, 4}; // the first element the client inserts offline
const doc::ElementId S{server_replica, 1}; // the first element the server inserts

void tags_base(Recovery& r) {
    r.base([](doc::Writer& w) {
        w.create("tasks", "t1").set("tasks", "t1", "title", str("write tests"));
        w.list_push_back("tasks", "t1", "tags", text("a"));
        w.list_push_back("tasks", "t1", "tags", text("b"));
        w.list_push_back("tasks", "t1", "tags", text("c"));
    });
    REQUIRE(r.fresh.get("tasks", "t1", "tags") == list({{A, text("a")}, {B, text("b")}, {C, text("c")}}));
}

doc::Value tags_of(const doc::State& s) { return s.get("tasks", "t1", "tags"); }

} // namespace

// ======================================================================== objects and fields

TEST_CASE("modify an existing object: the local value wins over the server's, the server's other changes stay",
          "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "n", num(1)).set("tasks", "t1", "title", str("a")); });
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "n", num(6)).set("tasks", "t1", "title", str("server")); });
    const auto v = r.local([](doc::Writer& w) { w.set("tasks", "t1", "n", num(4)); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::SetField{"tasks", "t1", "n", num(4)}})});
    doc::State expected;
    expected.collections["tasks"]["t1"] = doc::Object{{"n", num(4)}, {"title", str("server")}};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("a local field removal (set null) wins over the server's value too", "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "note", str("a")); });
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "note", str("server")); });
    const auto v = r.local([](doc::Writer& w) { w.set("tasks", "t1", "note", doc::Null{}); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::SetField{"tasks", "t1", "note", doc::Null{}}})});
    doc::State expected;
    expected.collections["tasks"]["t1"] = doc::Object{};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("modify an object the server deleted: the update is dropped with a reason and the object is never "
          "resurrected",
          "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) {
        w.create("tasks", "t1").set("tasks", "t1", "n", num(1));
        w.create("tasks", "t2").set("tasks", "t2", "n", num(2));
    });
    r.server([](doc::Writer& w) { w.erase("tasks", "t1"); });
    const auto v1 = r.local([](doc::Writer& w) { w.set("tasks", "t1", "title", str("offline")); });
    const auto v2 = r.local([](doc::Writer& w) { w.add("tasks", "t1", "n", 5).set("tasks", "t2", "n", num(3)); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v1, 0, OperationFate::dropped}, {v2, 0, OperationFate::dropped}, {v2, 1, OperationFate::recovered}});
    // A changeset left empty by drops is not replayed; the other keeps its client version.
    CHECK(out.history == Changesets{changeset(v2, {doc::SetField{"tasks", "t2", "n", num(3)}})});
    doc::State expected;
    expected.collections["tasks"]["t2"] = doc::Object{{"n", num(3)}};
    CHECK(applied(r.fresh, out) == expected);
    CHECK(applied(r.fresh, out).find("tasks", "t1") == nullptr);
}

TEST_CASE("create an object that exists on the server: an upsert, the fields of both merged", "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t0"); });
    r.server([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "a", num(1)).set("tasks", "t1", "b", num(1)); });
    const auto v = r.local([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "b", num(2)).set("tasks", "t1", "c", num(2)); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}, {v, 1, OperationFate::recovered}, {v, 2, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::CreateObject{"tasks", "t1"}, doc::SetField{"tasks", "t1", "b", num(2)},
                                                  doc::SetField{"tasks", "t1", "c", num(2)}})});
    doc::State expected;
    expected.collections["tasks"]["t0"];
    expected.collections["tasks"]["t1"] = doc::Object{{"a", num(1)}, {"b", num(2)}, {"c", num(2)}};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("an object created offline is recovered with its fields", "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t0"); });
    const auto v = r.local([](doc::Writer& w) { w.create("tasks", "t9").set("tasks", "t9", "title", str("new")); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}, {v, 1, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::CreateObject{"tasks", "t9"}, doc::SetField{"tasks", "t9", "title", str("new")}})});
    doc::State expected;
    expected.collections["tasks"]["t0"];
    expected.collections["tasks"]["t9"] = doc::Object{{"title", str("new")}};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("objects created offline in a collection the server has never had are recovered, not a schema failure",
          "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t0"); });
    const auto v = r.local([](doc::Writer& w) {
        w.create("notes", "n1").set("notes", "n1", "text", str("hello"));
        w.list_push_back("notes", "n1", "tags", text("x"));
    });
    REQUIRE_FALSE(r.fresh.collections.contains("notes"));

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}, {v, 1, OperationFate::recovered}, {v, 2, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::CreateObject{"notes", "n1"}, doc::SetField{"notes", "n1", "text", str("hello")},
                                                  doc::ListInsert{"notes", "n1", "tags", std::nullopt, {client_replica, 1}, text("x")}})});
    doc::State expected;
    expected.collections["tasks"]["t0"];
    expected.collections["notes"]["n1"] = doc::Object{{"text", str("hello")}, {"tags", list({{{client_replica, 1}, text("x")}})}};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("once recovery re-created a collection the fresh copy lacks, operations in it are judged like any other",
          "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t0"); });
    const auto v = r.local([](doc::Writer& w) {
        w.create("notes", "n1").create("notes", "n2").set("notes", "n1", "text", str("a"));
        w.erase("notes", "n1").set("notes", "n1", "text", str("b")); // the last set does nothing locally either
    });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered},
                         {v, 1, OperationFate::recovered},
                         {v, 2, OperationFate::recovered},
                         {v, 3, OperationFate::recovered},
                         {v, 4, OperationFate::dropped}});
    CHECK(out.history == Changesets{changeset(v, {doc::CreateObject{"notes", "n1"}, doc::CreateObject{"notes", "n2"},
                                                  doc::SetField{"notes", "n1", "text", str("a")}, doc::EraseObject{"notes", "n1"}})});
    doc::State expected;
    expected.collections["tasks"]["t0"];
    expected.collections["notes"]["n2"];
    CHECK(applied(r.fresh, out) == expected);
    CHECK(applied(r.fresh, out) == r.store.state());
}

TEST_CASE("a local erase is applied, also over the server's changes to the object, and is a no-op when the server "
          "erased it too",
          "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) {
        w.create("tasks", "t1").set("tasks", "t1", "n", num(1));
        w.create("tasks", "t2").set("tasks", "t2", "n", num(2));
        w.create("tasks", "t3");
    });
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "n", num(10)).erase("tasks", "t2"); });
    const auto v = r.local([](doc::Writer& w) { w.erase("tasks", "t1").erase("tasks", "t2"); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}, {v, 1, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::EraseObject{"tasks", "t1"}, doc::EraseObject{"tasks", "t2"}})});
    doc::State expected;
    expected.collections["tasks"]["t3"];
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("a local erase and re-create of an object the server erased brings back only the local object",
          "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "old", num(1)); });
    r.server([](doc::Writer& w) { w.erase("tasks", "t1"); });
    const auto v = r.local([](doc::Writer& w) { w.erase("tasks", "t1").create("tasks", "t1").set("tasks", "t1", "new", num(2)); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}, {v, 1, OperationFate::recovered}, {v, 2, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::EraseObject{"tasks", "t1"}, doc::CreateObject{"tasks", "t1"},
                                                  doc::SetField{"tasks", "t1", "new", num(2)}})});
    doc::State expected;
    expected.collections["tasks"]["t1"] = doc::Object{{"new", num(2)}};
    CHECK(applied(r.fresh, out) == expected);
}

TEST_CASE("add-integer onto a live integer adds to the server's value", "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "n", num(1)); });
    r.server([](doc::Writer& w) { w.add("tasks", "t1", "n", 10); });
    const auto v = r.local([](doc::Writer& w) { w.add("tasks", "t1", "n", 5); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::AddInteger{"tasks", "t1", "n", 5}})});
    CHECK(applied(r.fresh, out).get("tasks", "t1", "n") == num(16));
}

TEST_CASE("add-integer on a field that no longer holds an integer is dropped with a reason, not a failure",
          "[recover][rules][realm]") {
    Recovery r;
    r.base([](doc::Writer& w) {
        w.create("tasks", "t1").set("tasks", "t1", "n", num(1)).set("tasks", "t1", "m", num(1));
    });
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "n", doc::Value{1.5}).set("tasks", "t1", "m", doc::Null{}); });
    const auto v = r.local([](doc::Writer& w) { w.add("tasks", "t1", "n", 5).add("tasks", "t1", "m", 5); });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::dropped}, {v, 1, OperationFate::dropped}});
    CHECK(out.history.empty());
    CHECK(applied(r.fresh, out) == r.fresh);
    CHECK(r.fresh.get("tasks", "t1", "n") == doc::Value{1.5});
}

TEST_CASE("the changesets keep their split and client versions", "[recover][rules]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1"); });
    const auto v1 = r.local([](doc::Writer& w) { w.set("tasks", "t1", "a", num(1)); });
    const auto v2 = r.local([](doc::Writer& w) { w.set("tasks", "t1", "a", num(2)).set("tasks", "t1", "b", num(3)); });
    REQUIRE(v2 == v1 + 1);

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v1, 0, OperationFate::recovered}, {v2, 0, OperationFate::recovered}, {v2, 1, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v1, {doc::SetField{"tasks", "t1", "a", num(1)}}),
                                    changeset(v2, {doc::SetField{"tasks", "t1", "a", num(2)}, doc::SetField{"tasks", "t1", "b", num(3)}})});
    CHECK(applied(r.fresh, out).find("tasks", "t1")->size() == 2);
}

// ================================================================================== lists

namespace {

/// The local list edits of the matrix, each made through the Writer's index API on [A, B, C].
struct LocalEdit {
    const char* name;
    void (*write)(doc::Writer&);
    doc::Operation recorded; // what the Writer must record, by element identity
};

const LocalEdit local_edits[] = {
    {"insert X after B", [](doc::Writer& w) { w.list_insert("tasks", "t1", "tags", 2, text("x")); },
     doc::ListInsert{"tasks", "t1", "tags", B, X, text("x")}},
    {"erase B", [](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 1); }, doc::ListErase{"tasks", "t1", "tags", B}},
    {"move A to the end", [](doc::Writer& w) { w.list_move("tasks", "t1", "tags", 0, 2); },
     doc::ListMove{"tasks", "t1", "tags", A, C}},
    {"set B", [](doc::Writer& w) { w.list_set("tasks", "t1", "tags", 1, text("b2")); },
     doc::ListSet{"tasks", "t1", "tags", B, text("b2")}},
    {"clear", [](doc::Writer& w) { w.list_clear("tasks", "t1", "tags"); }, doc::ListClear{"tasks", "t1", "tags"}},
};

/// The concurrent server changes of the matrix.
struct ServerChange {
    const char* name;
    void (*write)(doc::Writer&);
};

const ServerChange server_changes[] = {
    {"the server inserted S after A", [](doc::Writer& w) { w.list_insert("tasks", "t1", "tags", 1, text("s")); }},
    {"the server erased B", [](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 1); }},
    {"the server erased A and B", [](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 0).list_erase_at("tasks", "t1", "tags", 0); }},
    {"the server moved C to the front", [](doc::Writer& w) { w.list_move("tasks", "t1", "tags", 2, 0); }},
    {"the server cleared the list", [](doc::Writer& w) { w.list_clear("tasks", "t1", "tags"); }},
    {"the server erased the object", [](doc::Writer& w) { w.erase("tasks", "t1"); }},
};

enum Server { inserted, erased_b, erased_a_b, moved, cleared, erased_object };
enum Local { insert_x, erase_b, move_a, set_b, clear };

struct Expected {
    OperationFate fate;
    std::optional<doc::Operation> emitted; // what is replayed (none when dropped)
    std::optional<doc::Value> tags;        // the resulting list (none: the object is gone)
};

const doc::Element a{A, text("a")}, b{B, text("b")}, c{C, text("c")}, x{X, text("x")}, s{S, text("s")},
    b2{B, text("b2")};

Expected expected_for(Local l, Server sv) {
    const doc::Operation recorded = local_edits[l].recorded;
    const auto recovered = [&](doc::Value v) { return Expected{OperationFate::recovered, recorded, std::move(v)}; };
    const auto dropped = [&](std::optional<doc::Value> v) { return Expected{OperationFate::dropped, std::nullopt, std::move(v)}; };
    const auto insert_after = [](std::optional<doc::ElementId> after) {
        return doc::Operation{doc::ListInsert{"tasks", "t1", "tags", after, X, text("x")}};
    };
    if (sv == erased_object) return dropped(std::nullopt);
    switch (l) {
    case insert_x:
        switch (sv) {
        case inserted: return recovered(list({a, s, b, x, c}));
        // B is gone: X goes after the nearest earlier element the server still has.
        case erased_b: return {OperationFate::transformed, insert_after(A), list({a, x, c})};
        case erased_a_b: return {OperationFate::transformed, insert_after(std::nullopt), list({x, c})};
        case moved: return recovered(list({c, a, b, x}));
        case cleared: return {OperationFate::transformed, insert_after(std::nullopt), list({x})};
        default: break;
        }
        break;
    case erase_b:
        switch (sv) {
        case inserted: return recovered(list({a, s, c}));
        case erased_b: return dropped(list({a, c}));
        case erased_a_b: return dropped(list({c}));
        case moved: return recovered(list({c, a}));
        case cleared: return dropped(list({}));
        default: break;
        }
        break;
    case move_a:
        switch (sv) {
        case inserted: return recovered(list({s, b, c, a}));
        case erased_b: return recovered(list({c, a}));
        case erased_a_b: return dropped(list({c}));
        case moved: return recovered(list({c, a, b}));
        case cleared: return dropped(list({}));
        default: break;
        }
        break;
    case set_b:
        switch (sv) {
        case inserted: return recovered(list({a, s, b2, c}));
        case erased_b: return dropped(list({a, c}));
        case erased_a_b: return dropped(list({c}));
        case moved: return recovered(list({c, a, b2}));
        case cleared: return dropped(list({}));
        default: break;
        }
        break;
    case clear: return recovered(list({}));
    }
    FAIL("no expectation");
    return dropped(std::nullopt);
}

} // namespace

TEST_CASE("a local list insert, erase, move, set or clear against every kind of concurrent server list change is "
          "replayed by element identity",
          "[recover][rules][lists][realm]") {
    for (int li = insert_x; li <= clear; ++li) {
        for (int si = inserted; si <= erased_object; ++si) {
            const auto l = static_cast<Local>(li);
            const auto sv = static_cast<Server>(si);
            CAPTURE(local_edits[l].name, server_changes[sv].name);
            Recovery r;
            tags_base(r);
            r.server(server_changes[sv].write);
            const auto v = r.local(local_edits[l].write);
            REQUIRE(r.unsynced() == Changesets{changeset(v, {local_edits[l].recorded})});

            const Expected want = expected_for(l, sv);
            const auto out = r.recover();
            check_succeeded(out);
            check_outcomes(out, {{v, 0, want.fate}});
            if (want.emitted) CHECK(out.history == Changesets{changeset(v, {*want.emitted})});
            else CHECK(out.history.empty());
            const doc::State after = applied(r.fresh, out);
            if (want.tags) {
                CHECK(tags_of(after) == *want.tags);
                doc::State expected = r.fresh; // the server's state with only the list changed
                expected.collections["tasks"]["t1"]["tags"] = *want.tags;
                CHECK(after == expected);
                CHECK(after.get("tasks", "t1", "title") == str("write tests"));
            } else {
                CHECK(after.find("tasks", "t1") == nullptr);
                CHECK(after == r.fresh);
            }
        }
    }
}

TEST_CASE("a move after an element the server erased lands after the nearest earlier element the server still has",
          "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 2); }); // C
    const auto v = r.local([](doc::Writer& w) { w.list_move("tasks", "t1", "tags", 0, 2); }); // A after C: [B, C, A]

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListMove{"tasks", "t1", "tags", A, B}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({b, a}));
}

TEST_CASE("local inserts chained after each other follow the first one when the server erased its predecessor",
          "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 1); }); // B
    const doc::ElementId Y{client_replica, 5};
    const auto v = r.local([](doc::Writer& w) {
        w.list_insert("tasks", "t1", "tags", 2, text("x")); // after B
        w.list_insert("tasks", "t1", "tags", 3, text("y")); // after X
    });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}, {v, 1, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListInsert{"tasks", "t1", "tags", A, X, text("x")},
                                                  doc::ListInsert{"tasks", "t1", "tags", X, Y, text("y")}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({a, x, {Y, text("y")}, c}));
}

TEST_CASE("a local insert after an element both sides erased goes after the nearest earlier element the server "
          "still has",
          "[recover][rules][lists]") {
    // The client inserted X after B and then erased B itself; the server erased B too. B's
    // nearest earlier element is A, which the server still has: X belongs after A, as it was
    // on the client ([A, X, C]), not at the end.
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 1); }); // B
    const auto v = r.local([](doc::Writer& w) {
        w.list_insert("tasks", "t1", "tags", 2, text("x")); // [A, B, X, C]
        w.list_erase_at("tasks", "t1", "tags", 1);          // [A, X, C]
    });
    REQUIRE(tags_of(r.store.state()) == list({a, x, c}));

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}, {v, 1, OperationFate::dropped}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListInsert{"tasks", "t1", "tags", A, X, text("x")}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({a, x, c}));
}

TEST_CASE("a local move after an element both sides erased keeps the element where the client sees it",
          "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.list_erase_at("tasks", "t1", "tags", 1); }); // B
    const auto v = r.local([](doc::Writer& w) {
        w.list_move("tasks", "t1", "tags", 0, 1);  // A after B: [B, A, C]
        w.list_erase_at("tasks", "t1", "tags", 0); // [A, C]
    });
    REQUIRE(tags_of(r.store.state()) == list({a, c}));

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}, {v, 1, OperationFate::dropped}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListMove{"tasks", "t1", "tags", A, std::nullopt}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({a, c}));
}

TEST_CASE("local inserts after the server cleared the list start it again in their own order",
          "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.list_clear("tasks", "t1", "tags"); });
    const doc::ElementId Y{client_replica, 5};
    const auto v = r.local([](doc::Writer& w) {
        w.list_push_back("tasks", "t1", "tags", text("x"));
        w.list_push_back("tasks", "t1", "tags", text("y"));
    });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}, {v, 1, OperationFate::recovered}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListInsert{"tasks", "t1", "tags", std::nullopt, X, text("x")},
                                                  doc::ListInsert{"tasks", "t1", "tags", X, Y, text("y")}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({x, {Y, text("y")}}));
}

TEST_CASE("a local insert into a list field the server removed starts a new list", "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "tags", doc::Null{}); });
    const auto v = r.local([](doc::Writer& w) { w.list_insert("tasks", "t1", "tags", 1, text("x")); }); // after A

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::transformed}});
    CHECK(out.history == Changesets{changeset(v, {doc::ListInsert{"tasks", "t1", "tags", std::nullopt, X, text("x")}})});
    CHECK(tags_of(applied(r.fresh, out)) == list({x}));
}

TEST_CASE("an element the server removed is never resurrected and a local insert is never duplicated, even when "
          "recovery runs twice",
          "[recover][rules][lists]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) {
        w.list_erase_at("tasks", "t1", "tags", 1); // B
        w.list_erase_at("tasks", "t1", "tags", 1); // C
        w.list_push_back("tasks", "t1", "tags", text("s"));
    });
    const auto v = r.local([](doc::Writer& w) {
        w.list_insert("tasks", "t1", "tags", 1, text("x")); // after A
        w.list_erase_at("tasks", "t1", "tags", 2);          // B
        w.list_set("tasks", "t1", "tags", 2, text("c2"));   // C
        w.list_move("tasks", "t1", "tags", 2, 0);           // C to the front
    });

    const auto once = r.recover();
    check_succeeded(once);
    check_outcomes(once, {{v, 0, OperationFate::recovered},
                          {v, 1, OperationFate::dropped},
                          {v, 2, OperationFate::dropped},
                          {v, 3, OperationFate::dropped}});
    CHECK(once.history == Changesets{changeset(v, {doc::ListInsert{"tasks", "t1", "tags", A, X, text("x")}})});
    const doc::State after_once = applied(r.fresh, once);
    CHECK(tags_of(after_once) == list({a, x, s}));

    // The replay reached the server, then a second reset recovers the same local changes again.
    r.fresh = after_once;
    const auto twice = r.recover();
    check_succeeded(twice);
    check_outcomes(twice, {{v, 0, OperationFate::recovered},
                           {v, 1, OperationFate::dropped},
                           {v, 2, OperationFate::dropped},
                           {v, 3, OperationFate::dropped}});
    CHECK(twice.history.empty()); // nothing to upload again: X is there once
    CHECK(applied(r.fresh, twice) == after_once);
}

// ============================================================================ failures

TEST_CASE("a set on a field whose type the server changed (int to string) fails recovery with schema_mismatch, "
          "naming the operation and why",
          "[recover][rules][bad-input]") {
    Recovery r;
    r.base([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "n", num(1)); });
    r.server([](doc::Writer& w) { w.set("tasks", "t1", "n", str("one")); });
    const auto v1 = r.local([](doc::Writer& w) { w.set("tasks", "t1", "title", str("fine")); });
    const auto v2 = r.local([](doc::Writer& w) {
        w.set("tasks", "t1", "other", num(1)).set("tasks", "t1", "n", num(5)).set("tasks", "t1", "after", num(1));
    });

    const auto out = r.recover();
    REQUIRE(out.failure.has_value());
    CHECK(out.failure_code == resync::errc::schema_mismatch);
    CHECK(out.failure->client_version == v2);
    CHECK(out.failure->index == 1);
    CHECK(out.failure->fate != OperationFate::recovered);
    CHECK(out.failure->reason.find("'n'") != std::string::npos);
    CHECK(out.failure->reason.find("string") != std::string::npos);
    // Recovery stops at the failing operation: the reset falls back, nothing after it is judged.
    check_outcomes(out, {{v1, 0, OperationFate::recovered}, {v2, 0, OperationFate::recovered}, {v2, 1, out.failure->fate}});
}

TEST_CASE("a list edit on a field the server turned into a scalar fails recovery with schema_mismatch",
          "[recover][rules][lists][bad-input]") {
    for (const LocalEdit& edit : local_edits) {
        CAPTURE(edit.name);
        Recovery r;
        tags_base(r);
        r.server([](doc::Writer& w) { w.set("tasks", "t1", "tags", str("a, b, c")); });
        const auto v = r.local(edit.write);

        const auto out = r.recover();
        REQUIRE(out.failure.has_value());
        CHECK(out.failure_code == resync::errc::schema_mismatch);
        CHECK(out.failure->client_version == v);
        CHECK(out.failure->index == 0);
        CHECK(out.failure->reason.find("'tags'") != std::string::npos);
        CHECK(out.history.empty());
    }
}

TEST_CASE("a fresh copy without a collection the client had fails recovery with schema_mismatch",
          "[recover][rules][bad-input]") {
    const std::function<void(doc::Writer&)> edits[] = {
        [](doc::Writer& w) { w.set("tasks", "t1", "title", str("offline")); },
        [](doc::Writer& w) { w.add("tasks", "t1", "n", 1); },
        [](doc::Writer& w) { w.erase("tasks", "t1"); },
        [](doc::Writer& w) { w.list_push_back("tasks", "t1", "tags", text("x")); },
        [](doc::Writer& w) { w.list_clear("tasks", "t1", "tags"); },
    };
    for (std::size_t i = 0; i < std::size(edits); ++i) {
        CAPTURE(i);
        Recovery r;
        tags_base(r);
        r.base([](doc::Writer& w) { w.create("tasks", "t2"); }); // the collection stays non-empty locally after any edit
        r.fresh.collections.erase("tasks");                      // not emptied: gone
        const auto v = r.local(edits[i]);

        const auto out = r.recover();
        REQUIRE(out.failure.has_value());
        CHECK(out.failure_code == resync::errc::schema_mismatch);
        CHECK(out.failure->client_version == v);
        CHECK(out.failure->index == 0);
        CHECK(out.failure->reason.find("'tasks'") != std::string::npos);
        CHECK(out.history.empty());
    }
}

TEST_CASE("an empty collection on the server is not a failure: its objects were erased, so updates are dropped",
          "[recover][rules]") {
    Recovery r;
    tags_base(r);
    r.server([](doc::Writer& w) { w.erase("tasks", "t1"); });
    REQUIRE(r.fresh.collections.contains("tasks"));
    REQUIRE(r.fresh.collections.at("tasks").empty());
    const auto v = r.local([](doc::Writer& w) {
        w.set("tasks", "t1", "title", str("offline"));
        w.add("tasks", "t1", "n", 1);
        w.list_push_back("tasks", "t1", "tags", text("x"));
        w.list_erase_at("tasks", "t1", "tags", 0);
    });

    const auto out = r.recover();
    check_succeeded(out);
    check_outcomes(out, {{v, 0, OperationFate::dropped},
                         {v, 1, OperationFate::dropped},
                         {v, 2, OperationFate::dropped},
                         {v, 3, OperationFate::dropped}});
    CHECK(out.history.empty());
    CHECK(applied(r.fresh, out) == r.fresh);
    CHECK(applied(r.fresh, out).object_count() == 0);
}

} // namespace RESYNC_TEST_FILE
