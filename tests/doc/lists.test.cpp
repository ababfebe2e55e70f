// Lists with element identity in the document model: what each list operation does in
// doc::apply (insert, erase, move, set, clear; by element id, never by index), their undo logs,
// the Writer's index-based list API that names elements for the application, and the binary
// encoding of lists and list operations (round trips, and damaged encodings rejected).

#include <resync/bytes.hpp>
#include <resync/memory_store.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>
#include <resync/doc/writer.hpp>

#include <support/random_document.hpp>
#include <support/temp_dir.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
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

namespace doc = resync::doc; // `apply` is always qualified: unqualified, ADL finds std::apply
using doc::Applied;
using doc::ElementId;
using resync::ByteReader;
using resync::ByteWriter;

ElementId id(std::uint64_t replica, std::uint64_t seq) { return ElementId{replica, seq}; }
doc::Scalar text(const char* s) { return doc::Scalar{std::string(s)}; }

const ElementId A = id(1, 1), B = id(1, 2), C = id(1, 3), X = id(2, 9);

/// A list value from (id, value) pairs.
doc::Value list(std::initializer_list<doc::Element> elements) { return doc::List{std::vector<doc::Element>(elements)}; }

/// `tasks/t1` with tags [A "a", B "b", C "c"]; `tasks/t2` with a scalar title and no list.
doc::State sample() {
    doc::State s;
    s.collections["tasks"]["t1"] = doc::Object{{"tags", list({{A, text("a")}, {B, text("b")}, {C, text("c")}})}};
    s.collections["tasks"]["t2"] = doc::Object{{"title", doc::Value{std::string("x")}}};
    return s;
}

/// The ids of a list field, in order (empty if the field holds no list).
std::vector<ElementId> ids(const doc::State& s, const char* collection, const char* key, const char* field) {
    const doc::Value v = s.get(collection, key, field);
    std::vector<ElementId> out;
    if (const auto* l = std::get_if<doc::List>(&v))
        for (const auto& e : l->elements) out.push_back(e.id);
    return out;
}
std::vector<ElementId> tags(const doc::State& s) { return ids(s, "tasks", "t1", "tags"); }

/// Applies `op` with an undo log, checks the result, and checks the undo log restores `s` exactly.
Applied apply_and_check_undo(doc::State& s, const doc::Operation& op) {
    const doc::State before = s;
    std::vector<doc::Operation> undo;
    const Applied got = doc::apply(s, op, &undo);
    doc::State reverted = s;
    doc::revert(reverted, undo);
    CHECK(reverted == before);
    return got;
}

template <class T>
std::string encoded(const T& x) {
    std::string out;
    ByteWriter w(out);
    doc::encode(w, x);
    return out;
}

/// Decodes all of `bytes` with `decode`; empty unless it succeeded and consumed every byte.
template <class Decode>
auto decode_all(std::string_view bytes, Decode decode) {
    ByteReader r(bytes);
    auto v = decode(r);
    if (r.failed() || !r.at_end()) v.reset();
    return v;
}
std::optional<doc::Operation> op_back(std::string_view bytes) {
    return decode_all(bytes, [](ByteReader& r) { return doc::decode_operation(r); });
}
std::optional<doc::Value> value_back(std::string_view bytes) {
    return decode_all(bytes, [](ByteReader& r) { return doc::decode_value(r); });
}

} // namespace

// ------------------------------------------------------------------------------ insert

TEST_CASE("a list insert goes directly after its predecessor, at the front without one, at the end when the "
          "predecessor is gone",
          "[model][lists][apply]") {
    doc::State s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", B, X, text("x")}) == Applied::yes);
    CHECK(tags(s) == std::vector<ElementId>{A, B, X, C});
    CHECK(s.get("tasks", "t1", "tags") == list({{A, text("a")}, {B, text("b")}, {X, text("x")}, {C, text("c")}}));

    s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", std::nullopt, X, text("x")}) == Applied::yes);
    CHECK(tags(s) == std::vector<ElementId>{X, A, B, C});

    s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", C, X, text("x")}) == Applied::yes);
    CHECK(tags(s) == std::vector<ElementId>{A, B, C, X});

    s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", id(7, 7), X, text("x")}) == Applied::yes);
    CHECK(tags(s) == std::vector<ElementId>{A, B, C, X});
}

TEST_CASE("inserting an id the list already holds changes nothing, so an insert is never duplicated",
          "[model][lists][apply]") {
    doc::State s = sample();
    const doc::State before = s;
    // Same id, other value, other predecessor: neither the value nor the position changes.
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", C, B, text("again")}) == Applied::yes);
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t1", "tags", std::nullopt, C, text("again")}) ==
          Applied::yes);
    CHECK(s == before);

    // Replaying the same insert twice leaves one element.
    doc::State twice = sample();
    const doc::ListInsert insert{"tasks", "t1", "tags", A, X, text("x")};
    doc::apply(twice, insert);
    doc::apply(twice, insert);
    CHECK(tags(twice) == std::vector<ElementId>{A, X, B, C});
}

TEST_CASE("an insert into a null or absent field makes the field a list", "[model][lists][apply]") {
    doc::State s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t2", "labels", std::nullopt, X, text("x")}) ==
          Applied::yes);
    CHECK(s.get("tasks", "t2", "labels") == list({{X, text("x")}}));

    // A predecessor in an absent list is gone too: the element still lands (at the end, the only place).
    s = sample();
    CHECK(apply_and_check_undo(s, doc::ListInsert{"tasks", "t2", "labels", A, X, text("x")}) == Applied::yes);
    CHECK(s.get("tasks", "t2", "labels") == list({{X, text("x")}}));
    CHECK(s.get("tasks", "t2", "title") == doc::Value{std::string("x")});
}

// ----------------------------------------------------------------------- erase, move, set

TEST_CASE("erase removes exactly the named element", "[model][lists][apply]") {
    doc::State s = sample();
    CHECK(apply_and_check_undo(s, doc::ListErase{"tasks", "t1", "tags", B}) == Applied::yes);
    CHECK(s.get("tasks", "t1", "tags") == list({{A, text("a")}, {C, text("c")}}));
    CHECK(apply_and_check_undo(s, doc::ListErase{"tasks", "t1", "tags", A}) == Applied::yes);
    CHECK(apply_and_check_undo(s, doc::ListErase{"tasks", "t1", "tags", C}) == Applied::yes);
    CHECK(s.get("tasks", "t1", "tags") == list({})); // an emptied list stays a list
}

TEST_CASE("erase, move and set of an element that is not there report no_element and change nothing: the element "
          "is never resurrected",
          "[model][lists][apply]") {
    doc::State s = sample();
    doc::apply(s, doc::ListErase{"tasks", "t1", "tags", B});
    const doc::State before = s;
    for (const doc::Operation& op :
         {doc::Operation{doc::ListErase{"tasks", "t1", "tags", B}}, doc::Operation{doc::ListMove{"tasks", "t1", "tags", B, A}},
          doc::Operation{doc::ListMove{"tasks", "t1", "tags", B, std::nullopt}},
          doc::Operation{doc::ListSet{"tasks", "t1", "tags", B, text("back")}},
          doc::Operation{doc::ListErase{"tasks", "t1", "tags", X}}, doc::Operation{doc::ListSet{"tasks", "t1", "tags", X, 1}},
          // An absent field is an empty list: no element in it.
          doc::Operation{doc::ListErase{"tasks", "t2", "labels", A}},
          doc::Operation{doc::ListMove{"tasks", "t2", "labels", A, std::nullopt}},
          doc::Operation{doc::ListSet{"tasks", "t2", "labels", A, 1}}}) {
        CAPTURE(op.index());
        std::vector<doc::Operation> undo;
        CHECK(doc::apply(s, op, &undo) == Applied::no_element);
        CHECK(undo.empty());
        CHECK(s == before);
    }
    CHECK(tags(s) == std::vector<ElementId>{A, C});
    CHECK(s.find("tasks", "t2")->count("labels") == 0); // not conjured up as an empty list either
}

TEST_CASE("a move lands directly after its new predecessor, at the front without one, at the end when the "
          "predecessor is gone, and stays put after itself",
          "[model][lists][apply]") {
    struct Case {
        ElementId moved;
        std::optional<ElementId> after;
        std::vector<ElementId> expected;
    };
    const Case cases[] = {
        {A, C, {B, C, A}},           {A, B, {B, A, C}},           {C, std::nullopt, {C, A, B}},
        {B, std::nullopt, {B, A, C}}, {A, std::nullopt, {A, B, C}}, {C, A, {A, C, B}},
        {A, id(7, 7), {B, C, A}},    {B, B, {A, B, C}},           {C, C, {A, B, C}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.moved.seq, c.after ? c.after->seq : 0);
        doc::State s = sample();
        CHECK(apply_and_check_undo(s, doc::ListMove{"tasks", "t1", "tags", c.moved, c.after}) == Applied::yes);
        CHECK(tags(s) == c.expected);
        // The element keeps its value: a move is not an erase and an insert of something else.
        const doc::Value v = s.get("tasks", "t1", "tags");
        const auto& l = std::get<doc::List>(v);
        CHECK(l.elements[l.index_of(A)].value == text("a"));
        CHECK(l.elements[l.index_of(C)].value == text("c"));
    }
}

TEST_CASE("set changes only the element's value, keeping its identity and position", "[model][lists][apply]") {
    doc::State s = sample();
    CHECK(apply_and_check_undo(s, doc::ListSet{"tasks", "t1", "tags", B, std::int64_t{42}}) == Applied::yes);
    CHECK(s.get("tasks", "t1", "tags") == list({{A, text("a")}, {B, std::int64_t{42}}, {C, text("c")}}));
    CHECK(apply_and_check_undo(s, doc::ListSet{"tasks", "t1", "tags", B, doc::Null{}}) == Applied::yes);
    CHECK(s.get("tasks", "t1", "tags") == list({{A, text("a")}, {B, doc::Null{}}, {C, text("c")}})); // null is a value here
}

// ---------------------------------------------------------------------------------- clear

TEST_CASE("clear empties the list; clearing an absent list changes nothing", "[model][lists][apply]") {
    doc::State s = sample();
    CHECK(apply_and_check_undo(s, doc::ListClear{"tasks", "t1", "tags"}) == Applied::yes);
    CHECK(s.get("tasks", "t1", "tags") == list({}));
    CHECK(s.get("tasks", "t2", "title") == doc::Value{std::string("x")});
    // After a clear, the old elements are gone for good: operations on them do nothing.
    CHECK(doc::apply(s, doc::ListSet{"tasks", "t1", "tags", A, 1}) == Applied::no_element);
    CHECK(doc::apply(s, doc::ListInsert{"tasks", "t1", "tags", A, X, 1}) == Applied::yes);
    CHECK(tags(s) == std::vector<ElementId>{X});

    doc::State absent = sample();
    const doc::State before = absent;
    std::vector<doc::Operation> undo;
    CHECK(doc::apply(absent, doc::ListClear{"tasks", "t2", "labels"}, &undo) == Applied::yes);
    CHECK(absent == before);
    CHECK(absent.find("tasks", "t2")->count("labels") == 0);
    CHECK(undo.empty());
}

// ------------------------------------------------------------------- wrong targets

TEST_CASE("list operations on a field that holds a scalar report not_a_list and change nothing",
          "[model][lists][apply]") {
    doc::State s = sample();
    const doc::State before = s;
    for (const doc::Operation& op :
         {doc::Operation{doc::ListInsert{"tasks", "t2", "title", std::nullopt, X, 1}},
          doc::Operation{doc::ListErase{"tasks", "t2", "title", A}}, doc::Operation{doc::ListMove{"tasks", "t2", "title", A, B}},
          doc::Operation{doc::ListSet{"tasks", "t2", "title", A, 1}}, doc::Operation{doc::ListClear{"tasks", "t2", "title"}}}) {
        CAPTURE(op.index());
        std::vector<doc::Operation> undo;
        CHECK(doc::apply(s, op, &undo) == Applied::not_a_list);
        CHECK(undo.empty());
        CHECK(s == before);
    }
}

TEST_CASE("list operations on a missing object or collection report no_object and change nothing",
          "[model][lists][apply]") {
    doc::State s = sample();
    const doc::State before = s;
    for (const char* collection : {"tasks", "nowhere"}) {
        for (const doc::Operation& op :
             {doc::Operation{doc::ListInsert{collection, "zz", "tags", std::nullopt, X, 1}},
              doc::Operation{doc::ListErase{collection, "zz", "tags", A}},
              doc::Operation{doc::ListMove{collection, "zz", "tags", A, B}},
              doc::Operation{doc::ListSet{collection, "zz", "tags", A, 1}},
              doc::Operation{doc::ListClear{collection, "zz", "tags"}}}) {
            CAPTURE(collection, op.index());
            std::vector<doc::Operation> undo;
            CHECK(doc::apply(s, op, &undo) == Applied::no_object);
            CHECK(undo.empty());
            CHECK(s == before);
        }
    }
    CHECK_FALSE(s.collections.contains("nowhere"));
}

// --------------------------------------------------------------------------------- undo

TEST_CASE("the undo log of a run of list operations restores the exact prior state, also after the field was "
          "created or its object erased",
          "[model][lists][undo]") {
    doc::State s = sample();
    const doc::State before = s;
    std::vector<doc::Operation> undo;
    const doc::Changeset ops{doc::ListInsert{"tasks", "t1", "tags", A, X, 1},
                             doc::ListMove{"tasks", "t1", "tags", A, C},
                             doc::ListSet{"tasks", "t1", "tags", B, 2.5},
                             doc::ListErase{"tasks", "t1", "tags", C},
                             doc::ListInsert{"tasks", "t2", "labels", std::nullopt, id(2, 10), true},
                             doc::ListClear{"tasks", "t1", "tags"},
                             doc::ListInsert{"tasks", "t1", "tags", std::nullopt, id(2, 11), 3},
                             doc::EraseObject{"tasks", "t1"},
                             doc::CreateObject{"tasks", "t1"},
                             doc::ListInsert{"tasks", "t1", "tags", std::nullopt, id(2, 12), 4}};
    doc::apply(s, ops, &undo);
    REQUIRE(s.get("tasks", "t1", "tags") == list({{id(2, 12), std::int64_t{4}}}));
    REQUIRE(s.get("tasks", "t2", "labels") == list({{id(2, 10), true}}));
    doc::revert(s, undo);
    CHECK(s == before);
    CHECK(s.find("tasks", "t2")->count("labels") == 0); // the created field is gone, not left as an empty list
    CHECK(undo.empty());
}

namespace {

// The reference model: objects as plain maps; lists handled by obviously-correct code, separate
// from doc::apply. `apply` must agree with it on every operation.
using RefObjects = std::map<std::pair<std::string, std::string>, std::map<std::string, doc::Value>>;

RefObjects to_ref(const doc::State& s) {
    RefObjects ref;
    for (const auto& [name, c] : s.collections)
        for (const auto& [key, obj] : c) ref[{name, key}] = {obj.begin(), obj.end()};
    return ref;
}

doc::State to_state(const RefObjects& ref) {
    doc::State s;
    for (const auto& [where, fields] : ref) {
        doc::Object& o = s.collections[where.first][where.second];
        for (const auto& [name, value] : fields) o.emplace(name, value);
    }
    return s;
}

std::size_t find_in(const std::vector<doc::Element>& v, const ElementId& e) {
    std::size_t i = 0;
    while (i < v.size() && !(v[i].id == e)) ++i;
    return i;
}

/// Where an element goes "after" `after` in `v`: front, directly after it, or the end.
std::size_t ref_position(const std::vector<doc::Element>& v, const std::optional<ElementId>& after) {
    if (!after) return 0;
    const auto i = find_in(v, *after);
    return i == v.size() ? v.size() : i + 1;
}

Applied ref_apply(RefObjects& ref, const doc::Operation& op) {
    const std::pair<std::string, std::string> where{doc::collection_of(op), doc::key_of(op)};
    if (std::holds_alternative<doc::CreateObject>(op)) {
        ref.try_emplace(where);
        return Applied::yes;
    }
    auto obj = ref.find(where);
    if (obj == ref.end()) return Applied::no_object;
    auto& fields = obj->second;
    if (std::holds_alternative<doc::EraseObject>(op)) {
        ref.erase(obj);
        return Applied::yes;
    }
    if (const auto* set = std::get_if<doc::SetField>(&op)) {
        if (doc::is_null(set->value)) fields.erase(set->field);
        else fields[set->field] = set->value;
        return Applied::yes;
    }
    const std::string field(doc::field_of(op));
    auto f = fields.find(field);
    if (const auto* add = std::get_if<doc::AddInteger>(&op)) {
        if (f == fields.end() || !std::holds_alternative<std::int64_t>(f->second)) return Applied::not_an_integer;
        auto& n = std::get<std::int64_t>(f->second);
        n = static_cast<std::int64_t>(static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(add->delta));
        return Applied::yes;
    }
    // List operations.
    if (f != fields.end() && !std::holds_alternative<doc::List>(f->second)) return Applied::not_a_list;
    if (const auto* ins = std::get_if<doc::ListInsert>(&op)) {
        auto& v = std::get<doc::List>(fields.try_emplace(field, doc::List{}).first->second).elements;
        if (find_in(v, ins->id) != v.size()) return Applied::yes;
        const auto at = ref_position(v, ins->after);
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), doc::Element{ins->id, ins->value});
        return Applied::yes;
    }
    if (std::holds_alternative<doc::ListClear>(op)) {
        if (f != fields.end()) std::get<doc::List>(f->second).elements.clear();
        return Applied::yes;
    }
    if (f == fields.end()) return Applied::no_element;
    auto& v = std::get<doc::List>(f->second).elements;
    if (const auto* erase = std::get_if<doc::ListErase>(&op)) {
        const auto i = find_in(v, erase->id);
        if (i == v.size()) return Applied::no_element;
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
        return Applied::yes;
    }
    if (const auto* set = std::get_if<doc::ListSet>(&op)) {
        const auto i = find_in(v, set->id);
        if (i == v.size()) return Applied::no_element;
        v[i].value = set->value;
        return Applied::yes;
    }
    const auto& move = std::get<doc::ListMove>(op);
    const auto i = find_in(v, move.id);
    if (i == v.size()) return Applied::no_element;
    if (move.after && *move.after == move.id) return Applied::yes;
    const doc::Element e = v[i];
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
    const auto at = ref_position(v, move.after);
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), e);
    return Applied::yes;
}

/// No list in `s` holds one id twice.
bool no_duplicate_ids(const doc::State& s) {
    for (const auto& [name, c] : s.collections)
        for (const auto& [key, obj] : c)
            for (const auto& [field, value] : obj)
                if (const auto* l = std::get_if<doc::List>(&value)) {
                    std::set<ElementId> seen;
                    for (const auto& e : l->elements)
                        if (!seen.insert(e.id).second) return false;
                }
    return true;
}

} // namespace

TEST_CASE("list operations mixed with every other operation agree with a reference model, and every undo log "
          "restores the exact prior state",
          "[model][lists][undo][property]") {
    resync_test::RandomDocument random(20261127);
    std::size_t outcomes[5] = {};
    std::size_t list_ops = 0;
    std::size_t changed = 0;
    for (int round = 0; round < 1200; ++round) {
        CAPTURE(round);
        std::uint64_t seq = 1;
        doc::State s = random.state(1, seq);
        const doc::State before = s;
        // Operations as an application writes them (untyped: list operations hit scalar fields
        // too), replayed one by one on `s` against the reference.
        doc::State scratch = s;
        const doc::Changeset ops = random.transaction(scratch, 2, seq, 1 + random.below(20), false);
        RefObjects ref = to_ref(s);
        std::vector<doc::Operation> undo;
        for (const auto& op : ops) {
            CAPTURE(op.index(), doc::collection_of(op), doc::key_of(op), doc::field_of(op));
            const Applied got = doc::apply(s, op, &undo);
            REQUIRE(got == ref_apply(ref, op));
            REQUIRE(s == to_state(ref));
            REQUIRE(no_duplicate_ids(s));
            ++outcomes[static_cast<int>(got)];
            list_ops += op.index() >= 4;
        }
        REQUIRE(s == scratch); // the Writer applied exactly what it recorded
        changed += !(s == before);
        doc::revert(s, undo);
        REQUIRE(s == before);
        REQUIRE(to_ref(s) == to_ref(before)); // exact: same objects and fields, not only State's ==
    }
    // Not vacuous: every outcome of apply happened many times, and list operations were a good share.
    CHECK(outcomes[static_cast<int>(Applied::yes)] > 5000);
    CHECK(outcomes[static_cast<int>(Applied::no_object)] > 1000);
    CHECK(outcomes[static_cast<int>(Applied::not_an_integer)] > 400);
    CHECK(outcomes[static_cast<int>(Applied::not_a_list)] > 600);
    CHECK(outcomes[static_cast<int>(Applied::no_element)] > 200);
    CHECK(list_ops > 3000);
    CHECK(changed > 900);
}

// ------------------------------------------------------------------------------- Writer

namespace {

/// A transaction on `s` through a Writer naming new elements (replica 5, seq from `seq`).
struct Tx {
    explicit Tx(doc::State& state) : w(state, ops, undo, 5, &seq) {}
    doc::Changeset ops;
    std::vector<doc::Operation> undo;
    std::uint64_t seq = 1;
    doc::Writer w;
};

std::vector<doc::Scalar> values(const doc::State& s, const char* c, const char* k, const char* f) {
    const doc::Value v = s.get(c, k, f);
    std::vector<doc::Scalar> out;
    if (const auto* l = std::get_if<doc::List>(&v))
        for (const auto& e : l->elements) out.push_back(e.value);
    return out;
}

} // namespace

TEST_CASE("list_push_back appends, names the element (replica, seq), records a ListInsert after the last element, "
          "and turns a null field into a list",
          "[model][lists][writer]") {
    doc::State s;
    s.collections["c"]["k"];
    Tx tx(s);
    const ElementId first = tx.w.list_push_back("c", "k", "l", std::int64_t{1});
    const ElementId second = tx.w.list_push_back("c", "k", "l", std::int64_t{2});
    CHECK(first == id(5, 1));
    CHECK(second == id(5, 2));
    CHECK(tx.seq == 3);
    CHECK(s.get("c", "k", "l") == list({{first, std::int64_t{1}}, {second, std::int64_t{2}}}));
    CHECK(tx.ops == doc::Changeset{doc::ListInsert{"c", "k", "l", std::nullopt, first, std::int64_t{1}},
                                   doc::ListInsert{"c", "k", "l", first, second, std::int64_t{2}}});
}

TEST_CASE("list_insert puts the element at the index: 0 is the front, past the end appends",
          "[model][lists][writer]") {
    doc::State s;
    s.collections["c"]["k"];
    Tx tx(s);
    const ElementId b = tx.w.list_insert("c", "k", "l", 0, text("b"));
    const ElementId d = tx.w.list_insert("c", "k", "l", 1, text("d"));
    const ElementId a = tx.w.list_insert("c", "k", "l", 0, text("a"));
    const ElementId c = tx.w.list_insert("c", "k", "l", 2, text("c"));
    const ElementId e = tx.w.list_insert("c", "k", "l", 99, text("e"));
    CHECK(ids(s, "c", "k", "l") == std::vector<ElementId>{a, b, c, d, e});
    CHECK(values(s, "c", "k", "l") == std::vector<doc::Scalar>{text("a"), text("b"), text("c"), text("d"), text("e")});
    CHECK(std::set<ElementId>{a, b, c, d, e}.size() == 5);
    // Recorded by identity: inserted at index 2 means "after b".
    CHECK(tx.ops[3] == doc::Operation{doc::ListInsert{"c", "k", "l", b, c, text("c")}});
    CHECK(tx.ops[2] == doc::Operation{doc::ListInsert{"c", "k", "l", std::nullopt, a, text("a")}});
}

TEST_CASE("list_erase_at and list_set act on the element at the index and record it by id; out of range they do "
          "and record nothing",
          "[model][lists][writer]") {
    doc::State s = sample();
    Tx tx(s);
    tx.w.list_erase_at("tasks", "t1", "tags", 1);
    CHECK(tags(s) == std::vector<ElementId>{A, C});
    tx.w.list_set("tasks", "t1", "tags", 1, text("C!"));
    CHECK(s.get("tasks", "t1", "tags") == list({{A, text("a")}, {C, text("C!")}}));
    CHECK(tx.ops == doc::Changeset{doc::ListErase{"tasks", "t1", "tags", B},
                                   doc::ListSet{"tasks", "t1", "tags", C, text("C!")}});

    const doc::State before = s;
    tx.w.list_erase_at("tasks", "t1", "tags", 2);
    tx.w.list_set("tasks", "t1", "tags", 2, 1);
    tx.w.list_erase_at("tasks", "t2", "none", 0);
    tx.w.list_set("tasks", "t9", "tags", 0, 1);
    CHECK(s == before);
    CHECK(tx.ops.size() == 2);
}

TEST_CASE("list_move(from, to) lands the element at index to, keeping the order of the others, for every pair",
          "[model][lists][writer]") {
    constexpr std::size_t n = 5;
    for (std::size_t from = 0; from < n; ++from) {
        for (std::size_t to = 0; to < n + 2; ++to) { // to >= n clamps to the end
            CAPTURE(from, to);
            doc::State s;
            s.collections["c"]["k"];
            Tx tx(s);
            std::vector<ElementId> made;
            for (std::size_t i = 0; i < n; ++i) made.push_back(tx.w.list_push_back("c", "k", "l", std::int64_t(i)));
            tx.w.list_move("c", "k", "l", from, to);
            std::vector<ElementId> expected = made;
            expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(from));
            expected.insert(expected.begin() + static_cast<std::ptrdiff_t>(std::min(to, n - 1)), made[from]);
            CHECK(ids(s, "c", "k", "l") == expected);
            REQUIRE(std::holds_alternative<doc::ListMove>(tx.ops.back()));
            CHECK(std::get<doc::ListMove>(tx.ops.back()).id == made[from]);
        }
    }
}

TEST_CASE("list_move out of range does and records nothing", "[model][lists][writer]") {
    doc::State s = sample();
    const doc::State before = s;
    Tx tx(s);
    tx.w.list_move("tasks", "t1", "tags", 3, 0);
    tx.w.list_move("tasks", "t2", "none", 0, 0);
    CHECK(s == before);
    CHECK(tx.ops.empty());
}

TEST_CASE("list_clear empties the list and records a clear", "[model][lists][writer]") {
    doc::State s = sample();
    Tx tx(s);
    tx.w.list_clear("tasks", "t1", "tags");
    CHECK(s.get("tasks", "t1", "tags") == list({}));
    CHECK(tx.ops == doc::Changeset{doc::ListClear{"tasks", "t1", "tags"}});
}

TEST_CASE("what the Writer records means the same thing replayed on the state it started from",
          "[model][lists][writer]") {
    resync_test::RandomDocument random(77);
    for (int round = 0; round < 300; ++round) {
        CAPTURE(round);
        std::uint64_t seq = 1;
        const doc::State start = random.state(1, seq);
        doc::State written = start;
        const doc::Changeset ops = random.transaction(written, 2, seq, 20);
        doc::State replayed = start;
        doc::apply(replayed, ops);
        REQUIRE(replayed == written);
    }
}

TEST_CASE("element ids are unique per store: (replica_id, seq), across transactions, rollbacks and a save and load",
          "[model][lists][writer][store]") {
    resync::MemoryStore store(42);
    CHECK(store.replica_id() == 42);
    std::vector<ElementId> made;
    REQUIRE(store.write([&](doc::Writer& w) {
        w.create("c", "k");
        made.push_back(w.list_push_back("c", "k", "l", 1));
        made.push_back(w.list_insert("c", "k", "l", 0, 2));
    }));
    // A rolled-back transaction: its ids are never handed out again.
    ElementId rolled_back{};
    REQUIRE_FALSE(store.write([&](doc::Writer& w) -> std::error_code {
        rolled_back = w.list_push_back("c", "k", "l", 3);
        return resync::make_error_code(resync::errc::policy_failure);
    }));
    REQUIRE(store.write([&](doc::Writer& w) { made.push_back(w.list_push_back("c", "k", "l", 4)); }));

    resync_test::TempDir dir;
    REQUIRE_FALSE(store.save(dir / "store"));
    auto loaded = resync::MemoryStore::load(dir / "store");
    REQUIRE(loaded);
    CHECK(loaded->replica_id() == 42);
    REQUIRE(loaded->write([&](doc::Writer& w) { made.push_back(w.list_push_back("c", "k", "l", 5)); }));

    resync::MemoryStore other(43);
    REQUIRE(other.write([&](doc::Writer& w) {
        w.create("c", "k");
        made.push_back(w.list_push_back("c", "k", "l", 6));
    }));

    for (std::size_t i = 0; i + 1 < made.size(); ++i) CHECK(made[i].replica == 42);
    CHECK(made.back() == id(43, 1));
    std::set<ElementId> distinct(made.begin(), made.end());
    distinct.insert(rolled_back);
    CHECK(distinct.size() == made.size() + 1);
    CHECK(rolled_back.replica == 42);
    CHECK(ids(loaded->state(), "c", "k", "l") == std::vector<ElementId>{made[1], made[0], made[2], made[3]});
}

// -------------------------------------------------------------------------------- codec

TEST_CASE("lists round-trip as values: empty, one element, every scalar type", "[model][lists][codec]") {
    const doc::Value v = GENERATE(
        list({}), list({{A, doc::Null{}}}),
        list({{A, true}, {B, false}, {C, std::int64_t{-1}}, {X, std::numeric_limits<std::int64_t>::min()}}),
        list({{id(0, 0), 2.5}, {id(~0ULL, ~0ULL), text("")}, {id(3, 4), doc::Scalar{std::string("a\0b", 3)}}}));
    const auto back = value_back(encoded(v));
    REQUIRE(back.has_value());
    CHECK(*back == v);
}

TEST_CASE("lists round-trip inside states", "[model][lists][codec]") {
    doc::State s = sample();
    s.collections["tasks"]["t3"] = doc::Object{{"empty", list({})}};
    const auto back = decode_all(encoded(s), [](ByteReader& r) { return doc::decode_state(r); });
    REQUIRE(back.has_value());
    CHECK(*back == s);
    const auto snap = doc::decode_snapshot(doc::encode_snapshot(s));
    REQUIRE(snap);
    CHECK(*snap == s);
}

TEST_CASE("every list operation round-trips, with and without a predecessor", "[model][lists][codec]") {
    const doc::Operation op = GENERATE(
        doc::Operation{doc::ListInsert{"c", "k", "f", std::nullopt, A, text("x")}},
        doc::Operation{doc::ListInsert{"c", "k", "f", B, id(~0ULL, 0), doc::Null{}}},
        doc::Operation{doc::ListInsert{"", "", "", id(0, 0), id(0, 1), 1.5}},
        doc::Operation{doc::ListErase{"c", "k", "f", C}}, doc::Operation{doc::ListMove{"c", "k", "f", A, std::nullopt}},
        doc::Operation{doc::ListMove{"c", "k", "f", A, C}}, doc::Operation{doc::ListSet{"c", "k", "f", B, true}},
        doc::Operation{doc::ListSet{"c", "k", "f", B, std::int64_t{7}}}, doc::Operation{doc::ListClear{"c", "k", "f"}},
        doc::Operation{doc::SetField{"c", "k", "f", list({{A, text("a")}, {B, 2.0}})}});
    CAPTURE(op.index());
    const auto back = op_back(encoded(op));
    REQUIRE(back.has_value());
    CHECK(*back == op);
}

TEST_CASE("a changeset of list operations round-trips", "[model][lists][codec]") {
    const doc::Changeset ops{doc::CreateObject{"c", "k"}, doc::ListInsert{"c", "k", "f", std::nullopt, A, 1},
                             doc::ListInsert{"c", "k", "f", A, B, 2}, doc::ListMove{"c", "k", "f", A, B},
                             doc::ListSet{"c", "k", "f", B, text("b")}, doc::ListErase{"c", "k", "f", A},
                             doc::ListClear{"c", "k", "f"}};
    const auto back = decode_all(encoded(ops), [](ByteReader& r) { return doc::decode_changeset(r); });
    REQUIRE(back.has_value());
    CHECK(*back == ops);
}

TEST_CASE("a list inside a list element is rejected: lists do not nest", "[model][lists][codec][bad-input]") {
    // By hand: list tag, one element, its id, then another list tag where a scalar must be.
    std::string bytes;
    ByteWriter w(bytes);
    w.u8(5);
    w.u64(1);
    doc::encode(w, A);
    w.u8(5);
    w.u64(0);
    CHECK_FALSE(value_back(bytes).has_value());

    // The same inside a set operation and inside a state.
    std::string op;
    ByteWriter wo(op);
    wo.u8(2); // SetField
    wo.str("c");
    wo.str("k");
    wo.str("f");
    wo.raw(bytes);
    CHECK_FALSE(op_back(op).has_value());

    std::string state;
    ByteWriter ws(state);
    ws.u64(1);
    ws.str("c");
    ws.u64(1);
    ws.str("k");
    ws.u64(1);
    ws.str("f");
    ws.raw(bytes);
    CHECK_FALSE(decode_all(state, [](ByteReader& r) { return doc::decode_state(r); }).has_value());
    CHECK(doc::decode_snapshot(resync::detail::frame(doc::snapshot_magic, doc::snapshot_format, state)).error() ==
          resync::errc::fresh_copy_corrupt);
}

TEST_CASE("an insert or set carrying a list instead of a scalar is rejected", "[model][lists][codec][bad-input]") {
    for (const doc::Operation& op : {doc::Operation{doc::ListInsert{"c", "k", "f", std::nullopt, A, doc::Null{}}},
                                     doc::Operation{doc::ListSet{"c", "k", "f", A, doc::Null{}}}}) {
        std::string bytes = encoded(op);
        REQUIRE(bytes.back() == 0); // the null scalar's tag is last
        bytes.back() = 5;            // a list tag ...
        bytes += std::string(8, '\0'); // ... of zero elements
        CHECK_FALSE(op_back(bytes).has_value());
    }
}

TEST_CASE("a list or list operation cut short anywhere (a truncated element) fails to decode",
          "[model][lists][codec][bad-input]") {
    const std::string value = encoded(list({{A, text("one")}, {B, std::int64_t{2}}, {C, 3.0}}));
    for (std::size_t n = 0; n < value.size(); ++n) {
        CAPTURE(n);
        ByteReader r(std::string_view(value).substr(0, n));
        const auto v = doc::decode_value(r);
        CHECK((!v.has_value() || r.failed()));
    }
    for (const doc::Operation& op :
         {doc::Operation{doc::ListInsert{"c", "k", "f", A, B, text("v")}}, doc::Operation{doc::ListErase{"c", "k", "f", A}},
          doc::Operation{doc::ListMove{"c", "k", "f", A, B}}, doc::Operation{doc::ListSet{"c", "k", "f", A, 1}},
          doc::Operation{doc::ListClear{"c", "k", "f"}}}) {
        const std::string bytes = encoded(op);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(op.index(), n);
            ByteReader r(std::string_view(bytes).substr(0, n));
            CHECK_FALSE(doc::decode_operation(r).has_value());
        }
    }
}

TEST_CASE("a list whose element count is more than its bytes hold is rejected without allocating for it",
          "[model][lists][codec][bad-input][hostile]") {
    const std::uint64_t n = GENERATE(std::uint64_t{2}, std::uint64_t{1} << 40, ~std::uint64_t{0});
    CAPTURE(n);
    std::string bytes;
    ByteWriter w(bytes);
    w.u8(5);
    w.u64(n);
    doc::encode(w, A);
    doc::encode(w, doc::Scalar{std::int64_t{1}});
    std::optional<doc::Value> back;
    REQUIRE_NOTHROW(back = value_back(bytes));
    CHECK_FALSE(back.has_value());
}

TEST_CASE("a list operation whose predecessor flag is neither 0 nor 1 is rejected", "[model][lists][codec][bad-input]") {
    // Layout: kind, then three strings of one byte each (8 + 1 bytes apiece), then the flag of an
    // insert; a move has its element id (16 bytes) before the flag.
    const std::size_t insert_flag_at = 1 + 3 * (8 + 1);
    const std::size_t move_flag_at = insert_flag_at + 16;
    std::string insert = encoded(doc::Operation{doc::ListInsert{"c", "k", "f", std::nullopt, A, 1}});
    std::string move = encoded(doc::Operation{doc::ListMove{"c", "k", "f", A, std::nullopt}});
    REQUIRE(insert[insert_flag_at] == 0);
    REQUIRE(move[move_flag_at] == 0);
    REQUIRE(move.size() == move_flag_at + 1);
    for (char flag : {'\x02', '\x7f', '\xff'}) {
        CAPTURE(static_cast<int>(static_cast<unsigned char>(flag)));
        insert[insert_flag_at] = flag;
        move[move_flag_at] = flag;
        CHECK_FALSE(op_back(insert).has_value());
        CHECK_FALSE(op_back(move).has_value());
    }
}

} // namespace RESYNC_TEST_FILE
