// detail/piece_reader.hpp: PieceBytes, the byte source that reads a fresh copy kept in pieces.
// A reader over pieces must read exactly what the reader over the same bytes joined reads,
// wherever the pieces are cut, and stop at the end like it.

#include <resync/detail/binary.hpp>
#include <resync/detail/piece_reader.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace {

using resync::detail::BasicBinaryReader;
using resync::detail::BinaryReader;
using resync::detail::BinaryWriter;
using resync::detail::PieceBytes;

/// `bytes` cut at the given offsets, with an empty piece at each cut.
std::vector<std::string> cut(const std::string& bytes, std::vector<std::size_t> at) {
    std::vector<std::string> pieces;
    std::size_t from = 0;
    at.push_back(bytes.size());
    for (std::size_t to : at) {
        pieces.push_back(bytes.substr(from, to - from));
        pieces.emplace_back();
        from = to;
    }
    return pieces;
}

} // namespace

TEST_CASE("a reader over pieces reads what a reader over the joined bytes reads, wherever they are cut",
          "[detail][piece_reader]") {
    std::string bytes;
    BinaryWriter w(bytes);
    w.u8(5);
    w.u32(0xA1B2C3D4U);
    w.u64(0x0102030405060708ULL);
    w.str("across the cut");
    w.f64(-2.5);
    w.i64(-7);
    for (std::size_t a = 0; a <= bytes.size(); ++a) {
        for (std::size_t b = a; b <= bytes.size(); b += 3) {
            CAPTURE(a, b);
            BasicBinaryReader<PieceBytes> r(PieceBytes(cut(bytes, {a, b})));
            BinaryReader whole(bytes);
            REQUIRE(r.remaining() == bytes.size());
            CHECK(r.peek_u8() == whole.peek_u8());
            CHECK(r.u8() == whole.u8());
            CHECK(r.u32() == whole.u32());
            CHECK(r.u64() == whole.u64());
            CHECK(r.str() == whole.str());
            CHECK(r.f64() == whole.f64());
            CHECK(r.i64() == whole.i64());
            CHECK(r.at_end());
            CHECK_FALSE(r.failed());
            CHECK(r.peek_u8() == 0);
            CHECK(r.u8() == 0);
            CHECK(r.failed());
        }
    }
}

TEST_CASE("a reader over pieces fails on a string longer than what is left, without reading it",
          "[detail][piece_reader]") {
    std::string bytes;
    BinaryWriter w(bytes);
    w.u64(100);
    w.raw("short");
    BasicBinaryReader<PieceBytes> r(PieceBytes(cut(bytes, {3, 9})));
    CHECK(r.str().empty());
    CHECK(r.failed());
    CHECK(r.remaining() == 5);
}

TEST_CASE("skipping over pieces lands where reading the same bytes would", "[detail][piece_reader]") {
    const std::string bytes = "0123456789";
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        CAPTURE(n);
        PieceBytes p(cut(bytes, {2, 3, 7}));
        p.skip(n);
        CHECK(p.remaining() == bytes.size() - n);
        if (n < bytes.size()) CHECK(p.peek() == static_cast<unsigned char>(bytes[n]));
    }
}
