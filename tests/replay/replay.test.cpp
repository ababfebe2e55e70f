// The replay policies: how recovered changesets are shaped for upload. replay::Upload and
// replay::Batched<N> pass them on unchanged (Batched bounds the changesets per message);
// replay::Squash coalesces them per object and field, and must never change what they do:
// applying the squashed operations equals applying the originals, on any state (property test).

#include <resync/concepts/policies.hpp>
#include <resync/history.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/replay/batched.hpp>
#include <resync/replay/squash.hpp>
#include <resync/replay/upload.hpp>

#include <support/random_document.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
namespace replay = resync::replay;
using Changesets = std::vector<resync::LocalChangeset<doc::Operation>>;

doc::Value num(std::int64_t i) { return doc::Value{i}; }
doc::Value str(const char* s) { return doc::Value{std::string(s)}; }

resync::LocalChangeset<doc::Operation> changeset(resync::ClientVersion v, doc::Changeset ops) { return {v, 0, std::move(ops)}; }

/// Some recovered changesets of every operation kind.
Changesets sample() {
    const doc::ElementId a{3, 1}, b{3, 2};
    return {changeset(4, {doc::CreateObject{"c", "k"}, doc::SetField{"c", "k", "f", num(1)}}),
            changeset(5, {doc::AddInteger{"c", "k", "f", 2}, doc::ListInsert{"c", "k", "l", std::nullopt, a, std::int64_t{1}}}),
            changeset(6, {}),
            changeset(7, {doc::ListInsert{"c", "k", "l", a, b, std::int64_t{2}}, doc::ListMove{"c", "k", "l", a, b},
                          doc::ListSet{"c", "k", "l", b, true}, doc::ListErase{"c", "k", "l", a},
                          doc::ListClear{"c", "k", "l"}, doc::EraseObject{"c", "k"}})};
}

/// A changeset type of an operation that is not the document model's: Upload and Batched work
/// with any store's operations.
struct OtherOp {
    int x = 0;
    friend bool operator==(const OtherOp&, const OtherOp&) = default;
};

doc::State applied(doc::State s, const Changesets& changesets) {
    for (const auto& cs : changesets) doc::apply(s, cs.ops);
    return s;
}

} // namespace

// ----------------------------------------------------------------- Upload and Batched

TEST_CASE("Upload passes the recovered changesets on unchanged, in their split, with their client versions",
          "[replay][upload]") {
    static_assert(resync::ReplayPolicy<replay::Upload, doc::Operation>);
    static_assert(resync::ReplayPolicy<replay::Upload, OtherOp>);
    static_assert(std::is_empty_v<replay::Upload>);
    const replay::Upload upload;
    CHECK(upload.prepare(sample()) == sample());
    CHECK(upload.prepare(Changesets{}).empty());
    const std::vector<resync::LocalChangeset<OtherOp>> other{{1, 0, {OtherOp{1}, OtherOp{2}}}, {2, 0, {}}};
    CHECK(upload.prepare(other) == other);
    CHECK(replay::Upload::max_changesets_per_upload() >= 1);
}

TEMPLATE_TEST_CASE_SIG("Batched<N> passes the changesets on unchanged and uploads at most N per message",
                       "[replay][batched]", ((std::size_t N), N), 1, 3, 64) {
    using B = replay::Batched<N>;
    static_assert(resync::ReplayPolicy<B, doc::Operation>);
    static_assert(resync::ReplayPolicy<B, OtherOp>);
    static_assert(std::is_empty_v<B>);
    static_assert(B::max_changesets_per_upload() == N); // usable at compile time
    const B batched;
    CHECK(batched.max_changesets_per_upload() == N);
    CHECK(batched.prepare(sample()) == sample());
    CHECK(batched.prepare(Changesets{}).empty());
    const std::vector<resync::LocalChangeset<OtherOp>> other{{9, 0, {OtherOp{1}}}};
    CHECK(batched.prepare(other) == other);
}

// ---------------------------------------------------------------------------- Squash

TEST_CASE("Squash keeps only the last set of each field, in one changeset under the newest client version",
          "[replay][squash]") {
    static_assert(resync::ReplayPolicy<replay::Squash, doc::Operation>);
    static_assert(std::is_empty_v<replay::Squash>);
    const Changesets in{changeset(3, {doc::SetField{"c", "k", "a", num(1)}, doc::SetField{"c", "k", "b", num(1)}}),
                        changeset(4, {doc::SetField{"c", "k", "a", num(2)}, doc::SetField{"c", "other", "a", num(9)}}),
                        changeset(5, {doc::SetField{"c", "k", "a", num(3)}, doc::SetField{"d", "k", "a", num(7)}})};
    const Changesets want{changeset(5, {doc::SetField{"c", "k", "b", num(1)}, doc::SetField{"c", "other", "a", num(9)},
                                        doc::SetField{"c", "k", "a", num(3)}, doc::SetField{"d", "k", "a", num(7)}})};
    CHECK(replay::Squash{}.prepare(in) == want);
}

TEST_CASE("Squash sums consecutive adds on one field, wrapping as the adds do", "[replay][squash]") {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    const Changesets in{changeset(1, {doc::AddInteger{"c", "k", "n", 1}, doc::AddInteger{"c", "k", "m", 10}}),
                        changeset(2, {doc::AddInteger{"c", "k", "n", 2}}),
                        changeset(3, {doc::AddInteger{"c", "k", "n", -5}, doc::AddInteger{"c", "k", "w", max},
                                      doc::AddInteger{"c", "k", "w", 1}})};
    const Changesets want{changeset(3, {doc::AddInteger{"c", "k", "n", -2}, doc::AddInteger{"c", "k", "m", 10},
                                        doc::AddInteger{"c", "k", "w", min}})};
    const auto out = replay::Squash{}.prepare(in);
    CHECK(out == want);

    doc::State s;
    s.collections["c"]["k"] = doc::Object{{"n", num(0)}, {"m", num(0)}, {"w", num(0)}};
    CHECK(applied(s, out) == applied(s, in));
}

TEST_CASE("Squash does not merge adds across a set of the same field", "[replay][squash]") {
    const Changesets in{changeset(1, {doc::AddInteger{"c", "k", "n", 1}, doc::SetField{"c", "k", "n", num(5)},
                                      doc::AddInteger{"c", "k", "n", 2}, doc::AddInteger{"c", "k", "n", 3}})};
    const Changesets want{changeset(1, {doc::AddInteger{"c", "k", "n", 1}, doc::SetField{"c", "k", "n", num(5)},
                                        doc::AddInteger{"c", "k", "n", 5}})};
    const auto out = replay::Squash{}.prepare(in);
    CHECK(out == want);
    doc::State s;
    s.collections["c"]["k"] = doc::Object{{"n", num(100)}};
    CHECK(applied(s, out).get("c", "k", "n") == num(10));
}

TEST_CASE("Squash never moves a set across an erase or create of its object", "[replay][squash]") {
    const Changesets in{changeset(1, {doc::SetField{"c", "k", "a", num(1)}, doc::AddInteger{"c", "k", "n", 1}}),
                        changeset(2, {doc::EraseObject{"c", "k"}, doc::CreateObject{"c", "k"}}),
                        changeset(3, {doc::SetField{"c", "k", "a", num(2)}, doc::AddInteger{"c", "k", "n", 1},
                                      doc::CreateObject{"c", "k"}, doc::SetField{"c", "k", "a", num(3)}})};
    // Nothing can go: each set is separated from the next by an erase or (upsert) create.
    const Changesets want{changeset(3, {doc::SetField{"c", "k", "a", num(1)}, doc::AddInteger{"c", "k", "n", 1},
                                        doc::EraseObject{"c", "k"}, doc::CreateObject{"c", "k"},
                                        doc::SetField{"c", "k", "a", num(2)}, doc::AddInteger{"c", "k", "n", 1},
                                        doc::CreateObject{"c", "k"}, doc::SetField{"c", "k", "a", num(3)}})};
    const auto out = replay::Squash{}.prepare(in);
    CHECK(out == want);
    // On a state without the object, the first set does nothing and the last one counts.
    doc::State s;
    CHECK(applied(s, out) == applied(s, in));
    CHECK(applied(s, out).get("c", "k", "a") == num(3));
}

TEST_CASE("Squash keeps list edits in order, and sets of a list field around them", "[replay][squash]") {
    const doc::ElementId a{3, 1}, b{3, 2};
    const Changesets in{
        changeset(1, {doc::SetField{"c", "k", "l", doc::List{}}, doc::ListInsert{"c", "k", "l", std::nullopt, a, std::int64_t{1}},
                      doc::SetField{"c", "k", "title", str("x")}}),
        changeset(2, {doc::ListInsert{"c", "k", "l", std::nullopt, b, std::int64_t{2}}, doc::ListMove{"c", "k", "l", b, a},
                      doc::SetField{"c", "k", "title", str("y")}, doc::ListSet{"c", "k", "l", a, std::int64_t{5}}}),
        changeset(3, {doc::ListErase{"c", "k", "l", b}, doc::SetField{"c", "k", "l", doc::List{}}, doc::ListClear{"c", "k", "l"}})};
    const Changesets want{changeset(
        3, {doc::SetField{"c", "k", "l", doc::List{}}, doc::ListInsert{"c", "k", "l", std::nullopt, a, std::int64_t{1}},
            doc::ListInsert{"c", "k", "l", std::nullopt, b, std::int64_t{2}}, doc::ListMove{"c", "k", "l", b, a},
            doc::SetField{"c", "k", "title", str("y")}, doc::ListSet{"c", "k", "l", a, std::int64_t{5}},
            doc::ListErase{"c", "k", "l", b}, doc::SetField{"c", "k", "l", doc::List{}}, doc::ListClear{"c", "k", "l"}})};
    const auto out = replay::Squash{}.prepare(in);
    CHECK(out == want);
    doc::State s;
    s.collections["c"]["k"];
    CHECK(applied(s, out) == applied(s, in));
}

TEST_CASE("Squash leaves nothing, or a single operation, as it is", "[replay][squash]") {
    CHECK(replay::Squash{}.prepare(Changesets{}).empty());
    const Changesets one{changeset(8, {doc::SetField{"c", "k", "a", num(1)}})};
    CHECK(replay::Squash{}.prepare(one) == one);
    // Changesets with no operations leave no empty changeset behind.
    CHECK(replay::Squash{}.prepare(Changesets{changeset(1, {}), changeset(2, {})}).empty());
}

TEST_CASE("applying the squashed changesets equals applying the originals, on random histories from random states",
          "[replay][squash][property]") {
    resync_test::RandomDocument random(8080);
    std::size_t ops_in = 0;
    std::size_t ops_out = 0;
    std::size_t changed = 0;
    for (int round = 0; round < 1500; ++round) {
        CAPTURE(round);
        std::uint64_t seq = 1;
        const doc::State start = random.state(1, seq);
        doc::State written = start;
        Changesets in;
        const auto n = 1 + random.below(5);
        for (std::uint64_t v = 1; v <= n; ++v) {
            doc::Changeset ops;
            std::vector<doc::Operation> undo;
            doc::Writer w(written, ops, undo, 2, &seq);
            const auto m = random.below(9);
            for (std::uint64_t j = 0; j < m; ++j) {
                if (random.chance(1, 2)) {
                    // Untyped now and then: adds onto non-integers, list edits on scalar fields.
                    random.write(w, !random.chance(1, 4));
                } else {
                    // A hot object: the same few fields set and added to again and again.
                    const std::string field = random.chance(1, 2) ? "i" : "s";
                    if (random.chance(1, 2)) w.add("c0", "k0", field, random.integer());
                    else w.set("c0", "k0", field, random.value_for(field, true));
                }
            }
            ops_in += ops.size();
            in.push_back(changeset(v, std::move(ops)));
        }
        const auto out = replay::Squash{}.prepare(in);
        REQUIRE(out.size() <= 1);
        for (const auto& cs : out) {
            ops_out += cs.ops.size();
            CHECK(cs.client_version == in.back().client_version);
        }
        REQUIRE(applied(start, out) == written);
        // The same squashed changesets on a state the originals could meet elsewhere (the
        // server's, after other clients wrote) still mean the same.
        std::uint64_t other_seq = 1;
        const doc::State other = random.state(3, other_seq);
        REQUIRE(applied(other, out) == applied(other, in));
        changed += !(written == start);
    }
    // Not vacuous: squashing removed a good share of the operations, and states changed.
    CHECK(ops_out <= ops_in);
    CHECK(ops_out < ops_in * 8 / 10);
    CHECK(changed > 1100);
}

} // namespace RESYNC_TEST_FILE
