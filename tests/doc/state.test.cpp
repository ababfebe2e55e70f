// doc/state.hpp: what each operation does to a document-model state, the undo log that
// reverts it, and State equality. The property test at the end runs thousands of random
// operations against a plain reference model and checks every undo log restores the exact
// prior state.

#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using namespace resync::doc;
namespace doc = resync::doc; // `apply` is always qualified: unqualified, ADL finds std::apply for a variant

constexpr std::int64_t int_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int_min = std::numeric_limits<std::int64_t>::min();

Value str(const char* s) { return Value{std::string(s)}; }
Value num(std::int64_t i) { return Value{i}; }

/// A state with `people/ada` {name: "Ada", age: 36} and `people/bob` {} built by hand, not by apply.
State sample() {
    State s;
    s.collections["people"]["ada"] = Object{{"name", str("Ada")}, {"age", num(36)}};
    s.collections["people"]["bob"] = Object{};
    return s;
}

} // namespace

// --------------------------------------------------------------------------------- create

TEST_CASE("create makes a new, empty object", "[model][state][apply]") {
    State s;
    CHECK(doc::apply(s, CreateObject{"people", "cy"}) == Applied::yes);
    const Object* o = s.find("people", "cy");
    REQUIRE(o != nullptr);
    CHECK(o->empty());
    CHECK(s.object_count() == 1);
}

TEST_CASE("create is an upsert: creating an existing object keeps its fields", "[model][state][apply]") {
    State s = sample();
    const State before = s;
    std::vector<Operation> undo;
    CHECK(doc::apply(s, CreateObject{"people", "ada"}, &undo) == Applied::yes);
    CHECK(s == before);
    CHECK(s.get("people", "ada", "name") == str("Ada"));
    CHECK(undo.empty()); // nothing changed, so nothing to revert
}

// ---------------------------------------------------------------------------------- erase

TEST_CASE("erase removes the object and all its fields", "[model][state][apply]") {
    State s = sample();
    CHECK(doc::apply(s, EraseObject{"people", "ada"}) == Applied::yes);
    CHECK(s.find("people", "ada") == nullptr);
    CHECK(is_null(s.get("people", "ada", "name")));
    CHECK(s.find("people", "bob") != nullptr);
    // Re-creating it starts from an empty object, not the old fields.
    CHECK(doc::apply(s, CreateObject{"people", "ada"}) == Applied::yes);
    CHECK(s.find("people", "ada")->empty());
}

TEST_CASE("erase of a missing object or collection reports no_object and changes nothing",
          "[model][state][apply]") {
    State s = sample();
    const State before = s;
    std::vector<Operation> undo;
    CHECK(doc::apply(s, EraseObject{"people", "zed"}, &undo) == Applied::no_object);
    CHECK(doc::apply(s, EraseObject{"pets", "ada"}, &undo) == Applied::no_object);
    CHECK(s == before);
    CHECK(s.collections.size() == before.collections.size()); // no collection conjured up
    CHECK(undo.empty());
}

// ------------------------------------------------------------------------------------ set

TEST_CASE("set adds a field and overwrites it, of any type", "[model][state][apply]") {
    State s = sample();
    CHECK(doc::apply(s, SetField{"people", "bob", "name", str("Bob")}) == Applied::yes);
    CHECK(s.get("people", "bob", "name") == str("Bob"));
    CHECK(doc::apply(s, SetField{"people", "bob", "name", Value{2.5}}) == Applied::yes);
    CHECK(s.get("people", "bob", "name") == Value{2.5});
    CHECK(doc::apply(s, SetField{"people", "bob", "name", Value{true}}) == Applied::yes);
    CHECK(s.get("people", "bob", "name") == Value{true});
    CHECK(s.find("people", "bob")->size() == 1);
}

TEST_CASE("set null removes the field instead of storing a null", "[model][state][apply]") {
    State s = sample();
    CHECK(doc::apply(s, SetField{"people", "ada", "age", Value{Null{}}}) == Applied::yes);
    const Object* ada = s.find("people", "ada");
    REQUIRE(ada != nullptr);
    CHECK(ada->find("age") == ada->end());
    CHECK(ada->size() == 1);
    CHECK(is_null(s.get("people", "ada", "age")));

    // Null onto an absent field: still absent, and still counts as applied.
    CHECK(doc::apply(s, SetField{"people", "ada", "age", Value{Null{}}}) == Applied::yes);
    CHECK(ada->find("age") == ada->end());
    // The object itself stays, even with no field left.
    CHECK(doc::apply(s, SetField{"people", "ada", "name", Value{Null{}}}) == Applied::yes);
    REQUIRE(s.find("people", "ada") != nullptr);
    CHECK(s.find("people", "ada")->empty());
}

TEST_CASE("set on a missing object reports no_object and changes nothing", "[model][state][apply]") {
    State s = sample();
    const State before = s;
    std::vector<Operation> undo;
    CHECK(doc::apply(s, SetField{"people", "zed", "name", str("Zed")}, &undo) == Applied::no_object);
    CHECK(doc::apply(s, SetField{"pets", "rex", "name", str("Rex")}, &undo) == Applied::no_object);
    CHECK(s == before);
    CHECK(s.collections.size() == before.collections.size());
    CHECK(undo.empty());
}

// ---------------------------------------------------------------------------- add integer

TEST_CASE("add-integer adds to a live integer field", "[model][state][apply]") {
    State s = sample();
    CHECK(doc::apply(s, AddInteger{"people", "ada", "age", 6}) == Applied::yes);
    CHECK(s.get("people", "ada", "age") == num(42));
    CHECK(doc::apply(s, AddInteger{"people", "ada", "age", -50}) == Applied::yes);
    CHECK(s.get("people", "ada", "age") == num(-8));
    CHECK(doc::apply(s, AddInteger{"people", "ada", "age", 0}) == Applied::yes);
    CHECK(s.get("people", "ada", "age") == num(-8));
}

TEST_CASE("add-integer wraps around on overflow in both directions", "[model][state][apply]") {
    State s = sample();
    doc::apply(s, SetField{"people", "ada", "n", num(int_max)});
    CHECK(doc::apply(s, AddInteger{"people", "ada", "n", 1}) == Applied::yes);
    CHECK(s.get("people", "ada", "n") == num(int_min));
    CHECK(doc::apply(s, AddInteger{"people", "ada", "n", -1}) == Applied::yes);
    CHECK(s.get("people", "ada", "n") == num(int_max));
    CHECK(doc::apply(s, AddInteger{"people", "ada", "n", int_max}) == Applied::yes);
    CHECK(s.get("people", "ada", "n") == num(-2));
    CHECK(doc::apply(s, AddInteger{"people", "ada", "n", int_min}) == Applied::yes);
    CHECK(s.get("people", "ada", "n") == num(int_max - 1));
}

TEST_CASE("add-integer commutes, also across overflow", "[model][state][apply]") {
    const std::vector<std::int64_t> deltas{int_max, 7, int_min, -3, int_max, 1};
    State forward = sample();
    State backward = sample();
    for (auto d : deltas) doc::apply(forward, AddInteger{"people", "ada", "age", d});
    for (auto it = deltas.rbegin(); it != deltas.rend(); ++it) doc::apply(backward, AddInteger{"people", "ada", "age", *it});
    CHECK(forward == backward);
}

TEST_CASE("add-integer onto anything but a live integer reports not_an_integer and changes nothing",
          "[model][state][apply]") {
    State s = sample();
    doc::apply(s, SetField{"people", "ada", "ratio", Value{1.5}});
    doc::apply(s, SetField{"people", "ada", "ok", Value{true}});
    const State before = s;
    std::vector<Operation> undo;
    CHECK(doc::apply(s, AddInteger{"people", "ada", "missing", 1}, &undo) == Applied::not_an_integer);
    CHECK(doc::apply(s, AddInteger{"people", "ada", "ratio", 1}, &undo) == Applied::not_an_integer);
    CHECK(doc::apply(s, AddInteger{"people", "ada", "name", 1}, &undo) == Applied::not_an_integer);
    CHECK(doc::apply(s, AddInteger{"people", "ada", "ok", 1}, &undo) == Applied::not_an_integer);
    CHECK(s == before);
    CHECK(s.get("people", "ada", "ratio") == Value{1.5});
    CHECK(undo.empty());
}

TEST_CASE("add-integer on a missing object reports no_object", "[model][state][apply]") {
    State s = sample();
    const State before = s;
    CHECK(doc::apply(s, AddInteger{"people", "zed", "age", 1}) == Applied::no_object);
    CHECK(doc::apply(s, AddInteger{"pets", "rex", "age", 1}) == Applied::no_object);
    CHECK(s == before);
}

// ------------------------------------------------------------------------ changesets, undo

TEST_CASE("a changeset applies in order", "[model][state][apply]") {
    State s;
    const Changeset ops{CreateObject{"c", "k"}, SetField{"c", "k", "f", num(1)}, AddInteger{"c", "k", "f", 2},
                        EraseObject{"c", "k"},  CreateObject{"c", "k"},          SetField{"c", "k", "g", str("x")}};
    doc::apply(s, ops);
    const Object* o = s.find("c", "k");
    REQUIRE(o != nullptr);
    CHECK(*o == Object{{"g", str("x")}});
}

TEST_CASE("revert undoes an erase with all the erased fields", "[model][state][undo]") {
    State s = sample();
    const State before = s;
    std::vector<Operation> undo;
    doc::apply(s, EraseObject{"people", "ada"}, &undo);
    doc::apply(s, CreateObject{"people", "ada"}, &undo);
    doc::apply(s, SetField{"people", "ada", "name", str("Other")}, &undo);
    REQUIRE(s != before);
    revert(s, undo);
    CHECK(s == before);
    CHECK(undo.empty());
}

TEST_CASE("revert of a create in a new collection leaves the state equal to before", "[model][state][undo]") {
    State s = sample();
    const State before = s;
    std::vector<Operation> undo;
    doc::apply(s, CreateObject{"pets", "rex"}, &undo);
    doc::apply(s, SetField{"pets", "rex", "age", num(3)}, &undo);
    revert(s, undo);
    CHECK(s == before); // an empty "pets" collection may remain; it is equal to none
    CHECK(s.find("pets", "rex") == nullptr);
}

// ------------------------------------------------------------------------------- equality

TEST_CASE("State equality ignores empty collections", "[model][state][equality]") {
    State empty;
    State with_empty;
    with_empty.collections["pets"];
    CHECK(empty == with_empty);
    CHECK(with_empty == empty);

    State a = sample();
    State b = sample();
    a.collections["pets"];
    b.collections["cars"];
    b.collections["zoo"];
    CHECK(a == b);
    CHECK(b == a);
}

TEST_CASE("State equality sees every object and field", "[model][state][equality]") {
    const State base = sample();

    State empty_object = base; // an object with no fields is not the same as no object
    empty_object.collections["pets"]["rex"];
    CHECK(base != empty_object);
    CHECK(empty_object != base);

    State other_value = base;
    other_value.collections["people"]["ada"]["age"] = num(37);
    CHECK(base != other_value);

    State other_type = base; // 36 and 36.0 are different values
    other_type.collections["people"]["ada"]["age"] = Value{36.0};
    CHECK(base != other_type);

    State other_collection;
    other_collection.collections["persons"] = base.collections.at("people");
    CHECK(base != other_collection);

    State missing = base;
    missing.collections["people"].erase("bob");
    CHECK(base != missing);
    CHECK(missing != base);
}

// ------------------------------------------------------------------ property: random histories

namespace {

// The reference model: one flat map of objects, each a map of non-null fields. Obviously correct
// by construction; `apply` must agree with it on every operation.
using RefObjects = std::map<std::pair<std::string, std::string>, std::map<std::string, Value>>;

Applied ref_apply(RefObjects& ref, const Operation& op) {
    const std::pair<std::string, std::string> id{collection_of(op), key_of(op)};
    auto it = ref.find(id);
    if (std::holds_alternative<CreateObject>(op)) {
        ref.try_emplace(id);
        return Applied::yes;
    }
    if (it == ref.end()) return Applied::no_object;
    if (std::holds_alternative<EraseObject>(op)) {
        ref.erase(it);
        return Applied::yes;
    }
    if (const auto* set = std::get_if<SetField>(&op)) {
        if (is_null(set->value)) it->second.erase(set->field);
        else it->second[set->field] = set->value;
        return Applied::yes;
    }
    const auto& add = std::get<AddInteger>(op);
    auto field = it->second.find(add.field);
    if (field == it->second.end() || !std::holds_alternative<std::int64_t>(field->second))
        return Applied::not_an_integer;
    const auto sum = static_cast<std::uint64_t>(std::get<std::int64_t>(field->second)) +
                     static_cast<std::uint64_t>(add.delta);
    field->second = static_cast<std::int64_t>(sum);
    return Applied::yes;
}

State to_state(const RefObjects& ref) {
    State s;
    for (const auto& [id, fields] : ref) {
        Object& o = s.collections[id.first][id.second];
        for (const auto& [name, value] : fields) o.emplace(name, value);
    }
    return s;
}

RefObjects to_ref(const State& s) {
    RefObjects ref;
    for (const auto& [name, c] : s.collections)
        for (const auto& [key, obj] : c) ref[{name, key}] = {obj.begin(), obj.end()};
    return ref;
}

struct Random {
    std::mt19937_64 rng;

    std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); }

    template <class T, std::size_t N>
    const T& pick(const T (&items)[N]) { return items[below(N)]; }

    std::int64_t integer() {
        static const std::int64_t edges[] = {0, 1, -1, 2, int_max, int_min, int_max - 1, int_min + 1};
        return below(3) == 0 ? static_cast<std::int64_t>(rng()) : pick(edges);
    }

    // No NaN: a NaN is unequal to itself, so no state holding one could equal its own copy.
    Value value() {
        static const double doubles[] = {0.0, -0.0, 1.5, -2.25, 1e300, std::numeric_limits<double>::infinity(),
                                         -std::numeric_limits<double>::infinity(),
                                         std::numeric_limits<double>::denorm_min()};
        static const char* strings[] = {"", "x", "longer string value", "nul\0inside"};
        switch (below(6)) {
        case 0: return Null{};
        case 1: return below(2) == 1;
        case 2: case 3: return integer(); // integers often, so add-integer often applies
        case 4: return pick(doubles);
        default: {
            const char* s = pick(strings);
            return s == strings[3] ? std::string(s, 10) : std::string(s);
        }
        }
    }

    Operation operation() {
        static const char* collections[] = {"a", "b", "c"};
        static const char* keys[] = {"k0", "k1", "k2", "k3", "k4"};
        static const char* fields[] = {"f0", "f1", "f2"};
        std::string c = pick(collections);
        std::string k = pick(keys);
        switch (below(5)) {
        case 0: return CreateObject{std::move(c), std::move(k)};
        case 1: return EraseObject{std::move(c), std::move(k)};
        case 2: case 3: return SetField{std::move(c), std::move(k), pick(fields), value()};
        default: return AddInteger{std::move(c), std::move(k), pick(fields), integer()};
        }
    }

    State state() {
        State s;
        const auto n = below(40);
        for (std::uint64_t i = 0; i < n; ++i) {
            // Creates more often than erases, so states have objects to work on.
            Operation op = operation();
            if (below(3) == 0) op = CreateObject{collection_of(op), key_of(op)};
            doc::apply(s, op);
        }
        return s;
    }
};

} // namespace

TEST_CASE("apply agrees with a reference model and every undo log restores the exact prior state",
          "[model][state][undo][property]") {
    Random random{std::mt19937_64{20261126}};
    std::size_t operations = 0;
    std::size_t changed_rounds = 0;
    std::size_t outcomes[3] = {};

    for (int round = 0; round < 3000; ++round) {
        CAPTURE(round);
        State s = random.state();
        RefObjects ref = to_ref(s);
        REQUIRE(to_state(ref) == s);
        const State before = s;

        Changeset ops;
        std::vector<Operation> undo;
        const auto n = random.below(25);
        for (std::uint64_t i = 0; i < n; ++i) {
            ops.push_back(random.operation());
            const Applied got = doc::apply(s, ops.back(), &undo);
            const Applied expected = ref_apply(ref, ops.back());
            REQUIRE(got == expected);
            REQUIRE(s == to_state(ref));
            ++outcomes[static_cast<int>(got)];
            ++operations;
        }
        changed_rounds += s != before;

        // Recording undo does not change what apply does.
        State plain = before;
        doc::apply(plain, ops);
        REQUIRE(plain == s);

        revert(s, undo);
        REQUIRE(s == before);
        REQUIRE(to_ref(s) == to_ref(before)); // same objects and fields, compared without State's ==
        REQUIRE(undo.empty());
    }
    // Guard against a vacuous run: the random histories really changed states, and every
    // outcome of apply was exercised many times.
    CHECK(operations > 30000);
    CHECK(changed_rounds > 2000);
    CHECK(outcomes[static_cast<int>(Applied::yes)] > 5000);
    CHECK(outcomes[static_cast<int>(Applied::no_object)] > 1000);
    CHECK(outcomes[static_cast<int>(Applied::not_an_integer)] > 1000);
}

TEST_CASE("undo logs of consecutive changesets revert one changeset at a time", "[model][state][undo][property]") {
    Random random{std::mt19937_64{7}};
    for (int round = 0; round < 500; ++round) {
        CAPTURE(round);
        State s = random.state();
        std::vector<State> snapshots{s};
        std::vector<std::vector<Operation>> undos;
        const auto changesets = 1 + random.below(5);
        for (std::uint64_t c = 0; c < changesets; ++c) {
            Changeset ops;
            const auto n = random.below(10);
            for (std::uint64_t i = 0; i < n; ++i) ops.push_back(random.operation());
            undos.emplace_back();
            doc::apply(s, ops, &undos.back());
            snapshots.push_back(s);
        }
        // Newest first, as a store rewinds its unsynced changes.
        while (!undos.empty()) {
            snapshots.pop_back();
            revert(s, undos.back());
            undos.pop_back();
            REQUIRE(s == snapshots.back());
        }
    }
}

} // namespace RESYNC_TEST_FILE
