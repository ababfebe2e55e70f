// doc/codec.hpp: the binary encoding of values, operations, changesets and states, and the
// checksummed snapshot a fresh copy travels in. Decoding must be total: any input, however
// damaged or hostile, yields a value or an error, never a crash and never a huge allocation.

#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/error.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
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

namespace doc = resync::doc;
using resync::errc;
using resync::ByteReader;
using resync::ByteWriter;

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

std::optional<doc::Value> value_round_trip(const doc::Value& v) {
    return decode_all(encoded(v), [](ByteReader& r) { return doc::decode_value(r); });
}

std::uint64_t bits_of(double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
}

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
}

/// A state with several collections, objects with and without fields, every value type.
doc::State sample_state() {
    doc::State s;
    s.collections["people"]["ada"] = doc::Object{{"name", doc::Value{std::string("Ada")}},
                                                 {"age", doc::Value{std::int64_t{36}}},
                                                 {"height", doc::Value{1.65}},
                                                 {"admin", doc::Value{true}}};
    s.collections["people"]["bob"] = doc::Object{};
    s.collections["people"][std::string("nul\0key", 7)] =
        doc::Object{{std::string("f\0", 2), doc::Value{all_bytes()}}};
    s.collections["tasks"]["t1"] = doc::Object{{"done", doc::Value{false}},
                                               {"rank", doc::Value{std::numeric_limits<std::int64_t>::min()}}};
    s.collections[""][""] = doc::Object{{"", doc::Value{std::string()}}};
    return s;
}

std::string sample_snapshot() { return doc::encode_snapshot(sample_state()); }

// Layout of a snapshot frame: magic [0, 8), version [8, 12), size [12, 20), CRC [20, 24).
constexpr std::size_t payload_at = resync::detail::frame_header_size;

/// A snapshot frame with a valid checksum around an arbitrary (hostile) payload.
std::string framed(std::string_view payload, std::uint32_t version = doc::snapshot_format) {
    return resync::detail::frame(doc::snapshot_magic, version, payload);
}

} // namespace

// ------------------------------------------------------------------------------------ values

TEST_CASE("every kind of value round-trips", "[model][codec]") {
    const doc::Value v = GENERATE(doc::Value{doc::Null{}}, doc::Value{true}, doc::Value{false},
                                  doc::Value{std::int64_t{0}}, doc::Value{std::int64_t{-1}},
                                  doc::Value{std::numeric_limits<std::int64_t>::min()},
                                  doc::Value{std::numeric_limits<std::int64_t>::max()}, doc::Value{0.0},
                                  doc::Value{1.5}, doc::Value{-1e300}, doc::Value{std::numeric_limits<double>::max()},
                                  doc::Value{std::numeric_limits<double>::denorm_min()},
                                  doc::Value{std::numeric_limits<double>::infinity()},
                                  doc::Value{-std::numeric_limits<double>::infinity()}, doc::Value{std::string()},
                                  doc::Value{std::string("text")}, doc::Value{std::string("\0", 1)},
                                  doc::Value{std::string("a\0b\0\0c", 6)}, doc::Value{all_bytes()},
                                  doc::Value{std::string(200000, 'z')});
    CAPTURE(v.index());
    const auto back = value_round_trip(v);
    REQUIRE(back.has_value());
    CHECK(back->index() == v.index());
    CHECK(*back == v);
}

TEST_CASE("doubles round-trip bit for bit, including -0.0 and NaN payloads", "[model][codec]") {
    std::uint64_t signalling_bits = 0x7FF0000000000001ULL;
    double signalling;
    std::memcpy(&signalling, &signalling_bits, sizeof signalling);
    const double d = GENERATE_COPY(-0.0, std::numeric_limits<double>::quiet_NaN(),
                                   -std::numeric_limits<double>::quiet_NaN(), signalling);
    const auto back = value_round_trip(doc::Value{d});
    REQUIRE(back.has_value());
    REQUIRE(std::holds_alternative<double>(*back));
    CHECK(bits_of(std::get<double>(*back)) == bits_of(d));
}

TEST_CASE("a value decoder rejects unknown type tags and non-boolean bools", "[model][codec]") {
    for (unsigned tag : {6U, 7U, 0x7FU, 0xFFU}) {
        CAPTURE(tag);
        std::string bytes(1, static_cast<char>(tag));
        bytes += std::string(16, '\0');
        ByteReader r(bytes);
        CHECK_FALSE(doc::decode_value(r).has_value());
        CHECK(r.failed());
    }
    for (unsigned b : {2U, 0xFFU}) {
        const std::string bytes{'\x01', static_cast<char>(b)};
        ByteReader r(bytes);
        (void)doc::decode_value(r);
        CHECK(r.failed());
    }
}

TEST_CASE("a value cut short anywhere fails to decode", "[model][codec]") {
    for (const doc::Value& v : {doc::Value{true}, doc::Value{std::int64_t{7}}, doc::Value{2.5},
                                doc::Value{std::string("abc")}}) {
        const std::string bytes = encoded(v);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(v.index(), n);
            ByteReader r(std::string_view(bytes).substr(0, n));
            (void)doc::decode_value(r);
            CHECK(r.failed());
        }
    }
}

// -------------------------------------------------------------------------------- operations

TEST_CASE("every kind of operation round-trips", "[model][codec]") {
    const doc::Operation op = GENERATE(
        doc::Operation{doc::CreateObject{"people", "ada"}}, doc::Operation{doc::CreateObject{"", ""}},
        doc::Operation{doc::EraseObject{"people", std::string("k\0y", 3)}},
        doc::Operation{doc::SetField{"people", "ada", "name", doc::Value{std::string("Ada")}}},
        doc::Operation{doc::SetField{"people", "ada", "name", doc::Value{doc::Null{}}}},
        doc::Operation{doc::SetField{"c", "k", "f", doc::Value{std::numeric_limits<double>::infinity()}}},
        doc::Operation{doc::SetField{"c", "k", "", doc::Value{all_bytes()}}},
        doc::Operation{doc::AddInteger{"c", "k", "n", std::numeric_limits<std::int64_t>::min()}},
        doc::Operation{doc::AddInteger{"c", "k", "n", -1}});
    CAPTURE(op.index());
    const auto back = decode_all(encoded(op), [](ByteReader& r) { return doc::decode_operation(r); });
    REQUIRE(back.has_value());
    CHECK(*back == op);
}

TEST_CASE("an operation decoder rejects unknown operation kinds and bad values", "[model][codec]") {
    SECTION("kind 4 and above") {
        for (unsigned kind : {4U, 5U, 0xFFU}) {
            std::string bytes = encoded(doc::Operation{doc::CreateObject{"c", "k"}});
            bytes[0] = static_cast<char>(kind);
            ByteReader r(bytes);
            CHECK_FALSE(doc::decode_operation(r).has_value());
            CHECK(r.failed());
        }
    }
    SECTION("a set with an unknown value tag") {
        std::string bytes = encoded(doc::Operation{doc::SetField{"c", "k", "f", doc::Value{std::int64_t{1}}}});
        const std::size_t value_tag_at = 1 + (8 + 1) + (8 + 1) + (8 + 1);
        REQUIRE(bytes[value_tag_at] == 2);
        bytes[value_tag_at] = 9;
        ByteReader r(bytes);
        CHECK_FALSE(doc::decode_operation(r).has_value());
    }
    SECTION("a set with a bool byte of 2") {
        std::string bytes = encoded(doc::Operation{doc::SetField{"c", "k", "f", doc::Value{true}}});
        bytes.back() = 2;
        ByteReader r(bytes);
        CHECK_FALSE(doc::decode_operation(r).has_value());
    }
}

TEST_CASE("an operation cut short anywhere fails to decode", "[model][codec]") {
    const std::string bytes = encoded(doc::Operation{doc::SetField{"c", "k", "f", doc::Value{std::string("v")}}});
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        ByteReader r(std::string_view(bytes).substr(0, n));
        CHECK_FALSE(doc::decode_operation(r).has_value());
    }
}

// -------------------------------------------------------------------------------- changesets

TEST_CASE("changesets round-trip, empty or mixed", "[model][codec]") {
    const doc::Changeset empty;
    const doc::Changeset mixed{doc::CreateObject{"c", "k"}, doc::SetField{"c", "k", "f", doc::Value{1.25}},
                               doc::AddInteger{"c", "k", "n", 5}, doc::EraseObject{"c", "k"},
                               doc::SetField{"c", "k", "f", doc::Value{doc::Null{}}}};
    for (const auto* cs : {&empty, &mixed}) {
        const auto back = decode_all(encoded(*cs), [](ByteReader& r) { return doc::decode_changeset(r); });
        REQUIRE(back.has_value());
        CHECK(*back == *cs);
    }
}

TEST_CASE("a changeset with a hostile operation count is rejected without allocating for it",
          "[model][codec][hostile]") {
    const std::uint64_t n = GENERATE(std::uint64_t{2}, std::uint64_t{1} << 32, std::uint64_t{1} << 40,
                                     std::uint64_t{1} << 62, ~std::uint64_t{0});
    CAPTURE(n);
    // One real operation follows; any count above 1 promises more than there is. Reserving for
    // the larger counts would throw (or abort under AddressSanitizer), failing the test.
    std::string bytes;
    ByteWriter w(bytes);
    w.u64(n);
    doc::encode(w, doc::Operation{doc::CreateObject{"c", "k"}});
    std::optional<doc::Changeset> back;
    ByteReader r(bytes);
    REQUIRE_NOTHROW(back = doc::decode_changeset(r));
    CHECK_FALSE(back.has_value());
}

// ------------------------------------------------------------------------------------ states

TEST_CASE("states round-trip: collections, objects with and without fields, every value type", "[model][codec]") {
    for (const doc::State& s : {doc::State{}, sample_state()}) {
        const auto back = decode_all(encoded(s), [](ByteReader& r) { return doc::decode_state(r); });
        REQUIRE(back.has_value());
        CHECK(*back == s);
        CHECK(back->object_count() == s.object_count());
    }
}

TEST_CASE("an empty collection is encoded, so a fresh copy tells an emptied collection from a removed one",
          "[model][codec]") {
    doc::State with_empty = sample_state();
    with_empty.collections["nothing here"];
    CHECK(encoded(with_empty) != encoded(sample_state()));
    const auto back = decode_all(encoded(with_empty), [](ByteReader& r) { return doc::decode_state(r); });
    REQUIRE(back.has_value());
    CHECK(*back == with_empty);
    CHECK(back->collections.contains("nothing here"));
}

TEST_CASE("a null field in a state decodes as an absent field", "[model][codec]") {
    // apply() never stores a null; a hand-built state might, and the decoder normalises it.
    doc::State s;
    s.collections["c"]["k"] = doc::Object{{"gone", doc::Value{doc::Null{}}}, {"kept", doc::Value{true}}};
    const auto back = decode_all(encoded(s), [](ByteReader& r) { return doc::decode_state(r); });
    REQUIRE(back.has_value());
    const doc::Object* o = back->find("c", "k");
    REQUIRE(o != nullptr);
    CHECK(*o == doc::Object{{"kept", doc::Value{true}}});
}

// --------------------------------------------------------------------------------- snapshots

TEST_CASE("a snapshot round-trips a state", "[model][codec][snapshot]") {
    for (const doc::State& s : {doc::State{}, sample_state()}) {
        const std::string bytes = doc::encode_snapshot(s);
        CHECK(std::string_view(bytes).substr(0, 8) == doc::snapshot_magic);
        auto back = doc::decode_snapshot(bytes);
        REQUIRE(back.has_value());
        CHECK(*back == s);
    }
}

TEST_CASE("random states round-trip through snapshots", "[model][codec][snapshot][property]") {
    std::mt19937_64 rng(424242);
    auto below = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    auto random_string = [&] {
        std::string s(below(12), '\0');
        for (char& c : s) c = static_cast<char>(below(256));
        return s;
    };
    for (int round = 0; round < 300; ++round) {
        doc::State s;
        for (auto c = below(4); c-- > 0;) {
            auto& collection = s.collections[random_string()];
            for (auto o = below(6); o-- > 0;) {
                auto& object = collection[random_string()];
                for (auto f = below(5); f-- > 0;) {
                    doc::Value v;
                    switch (below(4)) {
                    case 0: v = below(2) == 1; break;
                    case 1: v = static_cast<std::int64_t>(rng()); break;
                    case 2: { // any bit pattern but NaN, which is unequal to itself
                        double d;
                        do {
                            const std::uint64_t bits = rng();
                            std::memcpy(&d, &bits, sizeof d);
                        } while (std::isnan(d));
                        v = d;
                        break;
                    }
                    default: v = random_string();
                    }
                    object.insert_or_assign(random_string(), std::move(v));
                }
            }
        }
        CAPTURE(round);
        auto back = doc::decode_snapshot(doc::encode_snapshot(s));
        REQUIRE(back.has_value());
        REQUIRE(*back == s);
    }
}

TEST_CASE("a snapshot cut short at any length is fresh_copy_truncated, never a value",
          "[model][codec][snapshot][bad-input]") {
    const std::string bytes = sample_snapshot();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n, bytes.size());
        const auto r = doc::decode_snapshot(std::string_view(bytes).substr(0, n));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::fresh_copy_truncated);
    }
}

TEST_CASE("a snapshot with any single byte altered is an error, never a value", "[model][codec][snapshot][bad-input]") {
    const std::string bytes = sample_snapshot();
    std::mt19937_64 rng(1126);
    std::size_t corrupt = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        // Every position, each with a fixed mask and a seeded random one.
        const unsigned masks[] = {0xFFU, 1U + static_cast<unsigned>(rng() % 255)};
        for (unsigned mask : masks) {
            CAPTURE(i, mask);
            std::string damaged = bytes;
            damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
            const auto r = doc::decode_snapshot(damaged);
            REQUIRE_FALSE(r.has_value());
            // A damaged size field can make a whole snapshot look cut short; all else is corrupt.
            if (i >= 12 && i < 20) {
                CHECK((r.error() == errc::fresh_copy_truncated || r.error() == errc::fresh_copy_corrupt));
            } else {
                CHECK(r.error() == errc::fresh_copy_corrupt);
                ++corrupt;
            }
        }
    }
    CHECK(corrupt == 2 * (bytes.size() - 8));
}

TEST_CASE("a snapshot with bytes appended is fresh_copy_corrupt", "[model][codec][snapshot][bad-input]") {
    const std::string bytes = sample_snapshot();
    CHECK(doc::decode_snapshot(bytes + '\0').error() == errc::fresh_copy_corrupt);
    CHECK(doc::decode_snapshot(bytes + bytes).error() == errc::fresh_copy_corrupt);
}

TEST_CASE("a snapshot of another kind or a newer format is fresh_copy_corrupt", "[model][codec][snapshot][bad-input]") {
    const std::string payload = sample_snapshot().substr(payload_at);
    CHECK(doc::decode_snapshot(resync::detail::frame("RSYNBKUP", doc::snapshot_format, payload)).error() ==
          errc::fresh_copy_corrupt);
    CHECK(doc::decode_snapshot(framed(payload, doc::snapshot_format + 1)).error() == errc::fresh_copy_corrupt);
    CHECK(doc::decode_snapshot(framed(payload, 0)).error() == errc::fresh_copy_corrupt);
    CHECK(doc::decode_snapshot(framed(payload)).has_value()); // the twin: same payload, right frame
}

TEST_CASE("garbage is never a snapshot", "[model][codec][snapshot][bad-input]") {
    std::mt19937_64 rng(99);
    for (int round = 0; round < 200; ++round) {
        std::string garbage(rng() % 512, '\0');
        for (char& c : garbage) c = static_cast<char>(rng());
        if (round % 2 == 1 && garbage.size() >= 8) garbage.replace(0, 8, doc::snapshot_magic);
        CAPTURE(round, garbage.size());
        std::optional<resync::Result<doc::State>> r;
        REQUIRE_NOTHROW(r.emplace(doc::decode_snapshot(garbage)));
        CHECK_FALSE(r->has_value());
    }
}

TEST_CASE("a correctly framed snapshot with a hostile element count is rejected without a huge allocation",
          "[model][codec][snapshot][hostile]") {
    // Each payload has a valid checksum, so only the decoder's own bounds stand between a count
    // and an allocation. A decoder that reserved for these counts would throw bad_alloc or
    // length_error (or abort under AddressSanitizer), failing the test.
    const std::uint64_t n = GENERATE(std::uint64_t{1} << 32, std::uint64_t{1} << 40, std::uint64_t{1} << 62,
                                     ~std::uint64_t{0});
    CAPTURE(n);
    std::string payload;
    ByteWriter w(payload);
    SECTION("collections") {
        w.u64(n);
    }
    SECTION("objects in a collection") {
        w.u64(1);
        w.str("c");
        w.u64(n);
    }
    SECTION("fields of an object") {
        w.u64(1);
        w.str("c");
        w.u64(1);
        w.str("k");
        w.u64(n);
    }
    SECTION("the length of a key") {
        w.u64(1);
        w.str("c");
        w.u64(1);
        w.u64(n);
    }
    SECTION("the length of a string value") {
        w.u64(1);
        w.str("c");
        w.u64(1);
        w.str("k");
        w.u64(1);
        w.str("f");
        w.u8(4); // string
        w.u64(n);
    }
    payload.append(64, '\0'); // some bytes to read, far fewer than promised
    std::optional<resync::Result<doc::State>> r;
    REQUIRE_NOTHROW(r.emplace(doc::decode_snapshot(framed(payload))));
    REQUIRE_FALSE(r->has_value());
    CHECK(r->error() == errc::fresh_copy_corrupt);
}

TEST_CASE("a correctly framed snapshot whose count is one more than its payload holds is rejected",
          "[model][codec][snapshot][hostile]") {
    // Two objects announced, one present: the bound must be exact, not merely "not absurd".
    std::string payload;
    ByteWriter w(payload);
    w.u64(1);
    w.str("c");
    w.u64(2);
    w.str("k");
    w.u64(0);
    CHECK(doc::decode_snapshot(framed(payload)).error() == errc::fresh_copy_corrupt);

    // The twin: announcing one decodes.
    std::string twin;
    ByteWriter t(twin);
    t.u64(1);
    t.str("c");
    t.u64(1);
    t.str("k");
    t.u64(0);
    auto ok = doc::decode_snapshot(framed(twin));
    REQUIRE(ok.has_value());
    CHECK(ok->find("c", "k") != nullptr);
}

TEST_CASE("a correctly framed snapshot with an unknown value tag is fresh_copy_corrupt",
          "[model][codec][snapshot][bad-input]") {
    const unsigned tag = GENERATE(6U, 0x80U, 0xFFU);
    auto payload_with_tag = [](unsigned t) {
        std::string payload;
        ByteWriter w(payload);
        w.u64(1);
        w.str("c");
        w.u64(1);
        w.str("k");
        w.u64(1);
        w.str("f");
        w.u8(static_cast<std::uint8_t>(t));
        w.i64(0);
        return payload;
    };
    CAPTURE(tag);
    CHECK(doc::decode_snapshot(framed(payload_with_tag(tag))).error() == errc::fresh_copy_corrupt);
    CHECK(doc::decode_snapshot(framed(payload_with_tag(2))).has_value()); // the twin: an integer
}

TEST_CASE("a correctly framed snapshot with bytes after the state is fresh_copy_corrupt",
          "[model][codec][snapshot][bad-input]") {
    std::string payload = sample_snapshot().substr(payload_at);
    payload.push_back('\0');
    CHECK(doc::decode_snapshot(framed(payload)).error() == errc::fresh_copy_corrupt);
}

// ------------------------------------------------------------------------ snapshots in pieces

namespace {

/// `bytes` cut into pieces of `size` bytes (the last may be shorter), with an empty piece
/// between every two, as a transport may deliver them.
std::vector<std::string> in_pieces(std::string_view bytes, std::size_t size) {
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < bytes.size(); at += size) {
        if (!pieces.empty()) pieces.emplace_back();
        pieces.emplace_back(bytes.substr(at, size));
    }
    return pieces;
}

/// Checks that decoding `bytes` in pieces of every tested size gives what decoding them whole
/// gives: the same state, or the same error.
void check_pieces_decode_as_whole(std::string_view bytes) {
    const auto whole = doc::decode_snapshot(bytes);
    for (std::size_t size : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{23}, std::size_t{24},
                             std::size_t{25}, std::size_t{64}, bytes.size() + 1}) {
        CAPTURE(bytes.size(), size);
        const auto pieces = doc::decode_snapshot(in_pieces(bytes, size));
        REQUIRE(pieces.has_value() == whole.has_value());
        if (whole) {
            CHECK(*pieces == *whole);
        } else {
            CHECK(pieces.error() == whole.error());
        }
    }
}

} // namespace

TEST_CASE("a snapshot decoded from pieces equals the snapshot decoded whole, however it is cut",
          "[model][codec][snapshot][pieces]") {
    for (const doc::State& s : {doc::State{}, sample_state()}) check_pieces_decode_as_whole(doc::encode_snapshot(s));
    const auto none = doc::decode_snapshot(std::vector<std::string>{});
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error() == errc::fresh_copy_truncated);
}

TEST_CASE("a snapshot in pieces cut short, altered, extended or of another kind gives the same error as whole",
          "[model][codec][snapshot][pieces][bad-input]") {
    const std::string bytes = sample_snapshot();
    for (std::size_t n = 0; n < bytes.size(); ++n) check_pieces_decode_as_whole(std::string_view(bytes).substr(0, n));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ 0xFFU);
        check_pieces_decode_as_whole(damaged);
    }
    check_pieces_decode_as_whole(bytes + '\0');
    check_pieces_decode_as_whole(bytes + bytes);
    const std::string payload = sample_snapshot().substr(payload_at);
    check_pieces_decode_as_whole(framed(payload, doc::snapshot_format + 1));
    check_pieces_decode_as_whole(framed(payload + '\0'));
    std::string hostile;
    ByteWriter w(hostile);
    w.u64(std::uint64_t{1} << 62);
    check_pieces_decode_as_whole(framed(hostile));
}

TEST_CASE("a snapshot whose header announces a huge size cannot make an object count drive an allocation",
          "[doc][codec][snapshot][hostile][fuzz]") {
    // Found by the snapshot fuzzer: the object count was bounded by the size the header
    // announces, not by the bytes at hand, and a collection "holding" 2^40 objects reserved room
    // for them.
    std::string payload;
    ByteWriter w(payload);
    w.u64(1);
    w.str("c");
    w.u64(std::uint64_t{1} << 40);
    w.str("k");
    w.u64(0);
    std::string bytes(doc::snapshot_magic);
    ByteWriter h(bytes);
    h.u32(doc::snapshot_format);
    h.u64(std::uint64_t{1} << 44);
    h.u32(0);
    bytes += payload;
    std::optional<resync::Result<doc::State>> r;
    REQUIRE_NOTHROW(r.emplace(doc::decode_snapshot(bytes)));
    REQUIRE_FALSE(r->has_value());
    CHECK(r->error() == errc::fresh_copy_truncated);
    // The twin: a true size and count decode.
    doc::State one;
    one.collections["c"]["k"];
    CHECK(doc::decode_snapshot(doc::encode_snapshot(one)).value() == one);
}

} // namespace RESYNC_TEST_FILE
