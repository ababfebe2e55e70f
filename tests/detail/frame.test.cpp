// detail/frame.hpp, detail/crc32.hpp, detail/binary.hpp: the checksummed frame around every file
// and fresh copy, its CRC-32, and the little-endian reader that must never read past its input.

#include <resync/bytes.hpp>
#include <resync/detail/crc32.hpp>
#include <resync/detail/frame.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using resync::ByteReader;
using resync::ByteWriter;
using resync::detail::crc32;
using resync::detail::frame;
using resync::detail::frame_header_size;
using resync::detail::FrameStatus;
using resync::detail::unframe;

constexpr std::string_view magic = "TESTMAGC";

// Header layout: magic [0, 8), version [8, 12), payload size [12, 20), CRC-32 [20, 24).
constexpr std::size_t version_at = 8;
constexpr std::size_t size_at = 12;
constexpr std::size_t crc_at = 20;

std::string bytes_of(std::initializer_list<unsigned> list) {
    std::string s;
    for (unsigned b : list) s.push_back(static_cast<char>(b));
    return s;
}

} // namespace

// ------------------------------------------------------------------------------------ CRC-32

TEST_CASE("crc32 of \"123456789\" is the standard check value 0xCBF43926", "[detail][crc32]") {
    CHECK(crc32("123456789") == 0xCBF43926U);
    static_assert(resync::detail::crc32_tables[0][1] == 0x77073096U);
    static_assert(resync::detail::crc32_tables[0][255] == 0x2D02EF8DU);
}

TEST_CASE("crc32 of nothing is zero and other known vectors match", "[detail][crc32]") {
    CHECK(crc32("") == 0U);
    CHECK(crc32("a") == 0xE8B7BE43U);
    CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339U);
    CHECK(crc32(std::string(32, '\0')) == 0x190A55ADU);
}

TEST_CASE("crc32 can be continued over a payload given in pieces", "[detail][crc32]") {
    const std::string_view all = "123456789";
    for (std::size_t cut = 0; cut <= all.size(); ++cut) {
        CAPTURE(cut);
        CHECK(crc32(all.substr(cut), crc32(all.substr(0, cut))) == 0xCBF43926U);
    }
}

TEST_CASE("crc32 eight bytes at a time equals the bytewise definition at every length and alignment",
          "[detail][crc32]") {
    const auto bytewise = [](std::string_view bytes) {
        std::uint32_t c = 0xFFFFFFFFU;
        for (unsigned char b : bytes) {
            c ^= b;
            for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        }
        return ~c;
    };
    std::string data(80, '\0');
    std::uint32_t x = 12345;
    for (char& ch : data) ch = static_cast<char>((x = x * 1103515245U + 12345U) >> 24);
    for (std::size_t off = 0; off < 8; ++off)
        for (std::size_t len = 0; off + len <= data.size(); ++len) {
            const std::string_view piece(data.data() + off, len);
            CAPTURE(off, len);
            REQUIRE(crc32(piece) == bytewise(piece));
        }
}

TEST_CASE("crc32_combine of two pieces' CRCs is the CRC of the two pieces read as one, at every cut",
          "[detail][crc32]") {
    // The oracle: crc32 over the concatenation, read byte by byte.
    std::string data(3000, '\0');
    std::uint32_t x = 777;
    for (char& ch : data) ch = static_cast<char>((x = x * 1103515245U + 12345U) >> 24);
    for (std::size_t cut : {0, 1, 7, 8, 9, 255, 256, 1024, 2999, 3000}) {
        CAPTURE(cut);
        const std::string_view a = std::string_view(data).substr(0, cut);
        const std::string_view b = std::string_view(data).substr(cut);
        CHECK(resync::detail::crc32_combine(crc32(a), crc32(b), b.size()) == crc32(data));
        CHECK(resync::detail::crc32_split(crc32(data), crc32(a), b.size()) == crc32(b));
    }
    // "123456789" = "1234" + "56789": the standard check value from the two halves.
    CHECK(resync::detail::crc32_combine(crc32("1234"), crc32("56789"), 5) == 0xCBF43926U);
    static_assert(resync::detail::crc32_combine(0, 0, 0) == 0);
}

TEST_CASE("crc32_change gives the CRC of a buffer whose zero field was filled in afterwards", "[detail][crc32]") {
    std::string with_zeros = "head" + std::string(12, '\0') + "and a tail of some length";
    std::string filled = with_zeros;
    const std::string field = "\x01\x02\x03\x04\x05\x06\x07\x08\xff\xfe\xfd\xfc";
    filled.replace(4, field.size(), field);
    const std::size_t after = filled.size() - 4 - field.size();
    CHECK((crc32(with_zeros) ^ resync::detail::crc32_change(field, after)) == crc32(filled));
}

// ------------------------------------------------------------------------------------ frame

TEST_CASE("a frame round-trips its payload, version and size", "[detail][frame]") {
    const std::string payload = GENERATE(std::string(), std::string("payload"), std::string("a\0b\0\xff", 5),
                                         std::string(100000, 'x'));
    const std::string framed = frame(magic, 3, payload);
    REQUIRE(framed.size() == frame_header_size + payload.size());
    CHECK(std::string_view(framed).substr(0, 8) == magic);

    const auto f = unframe(framed, magic, 3);
    CHECK(f.status == FrameStatus::ok);
    CHECK(f.version == 3);
    CHECK(f.declared_size == payload.size());
    CHECK(f.payload == payload);
}

TEST_CASE("a frame header is little-endian: magic, version, size, CRC-32", "[detail][frame]") {
    const std::string framed = frame(magic, 0x01020304U, "123456789");
    CHECK(framed.substr(version_at, 4) == bytes_of({0x04, 0x03, 0x02, 0x01}));
    CHECK(framed.substr(size_at, 8) == bytes_of({9, 0, 0, 0, 0, 0, 0, 0}));
    CHECK(framed.substr(crc_at, 4) == bytes_of({0x26, 0x39, 0xF4, 0xCB}));
    CHECK(framed.substr(frame_header_size) == "123456789");
}

TEST_CASE("a frame opened in a buffer and closed after its payload is appended is the frame of that payload",
          "[detail][frame]") {
    // The oracle: the header assembled field by field (magic, version, size, CRC-32 of the payload).
    const std::string payload = "some payload bytes, \0 included";
    std::string expected = "TESTMAGC";
    resync::ByteWriter w(expected);
    w.u32(5);
    w.u64(payload.size());
    w.u32(resync::detail::crc32(payload));
    expected += payload;

    std::string out = "before";
    const std::size_t start = resync::detail::open_frame(out, "TESTMAGC", 5);
    CHECK(start == 6);
    out += payload;
    CHECK(resync::detail::close_frame(out, start) == resync::detail::crc32(payload));
    CHECK(out == "before" + expected);
    CHECK(resync::detail::frame("TESTMAGC", 5, payload) == expected);
}

TEST_CASE("a frame accepts its own and older versions and reports the version it read", "[detail][frame]") {
    for (std::uint32_t written = 1; written <= 4; ++written) {
        const auto f = unframe(frame(magic, written, "x"), magic, 4);
        CHECK(f.status == FrameStatus::ok);
        CHECK(f.version == written);
    }
}

TEST_CASE("a frame cut short at any length is truncated", "[detail][frame]") {
    const std::string framed = frame(magic, 1, "some payload bytes");
    for (std::size_t n = 0; n < framed.size(); ++n) {
        CAPTURE(n);
        const auto f = unframe(std::string_view(framed).substr(0, n), magic, 1);
        CHECK(f.status == FrameStatus::truncated);
        CHECK(f.payload.empty());
    }
}

TEST_CASE("a frame with another magic is bad_magic, even when shorter than a header", "[detail][frame]") {
    const std::string framed = frame("OTHERMAG", 1, "payload");
    CHECK(unframe(framed, magic, 1).status == FrameStatus::bad_magic);
    // A prefix that already disagrees with the magic is not a truncated frame of ours.
    CHECK(unframe("TESTX", magic, 1).status == FrameStatus::bad_magic);
    CHECK(unframe("X", magic, 1).status == FrameStatus::bad_magic);
    // A prefix that agrees is.
    CHECK(unframe("TEST", magic, 1).status == FrameStatus::truncated);
    CHECK(unframe("TESTMAGC\x01", magic, 1).status == FrameStatus::truncated);
}

TEST_CASE("a frame claiming version 0 is bad_magic", "[detail][frame]") {
    CHECK(unframe(frame(magic, 0, "payload"), magic, 1).status == FrameStatus::bad_magic);
}

TEST_CASE("a frame from a newer format version is newer_version, whatever follows", "[detail][frame]") {
    CHECK(unframe(frame(magic, 2, "payload"), magic, 1).status == FrameStatus::newer_version);
    CHECK(unframe(frame(magic, 0xFFFFFFFFU, ""), magic, 1).status == FrameStatus::newer_version);
    // The version is judged before the payload: a newer format may frame its payload differently.
    std::string framed = frame(magic, 7, "payload");
    framed.resize(frame_header_size + 2);
    CHECK(unframe(framed, magic, 1).status == FrameStatus::newer_version);
}

TEST_CASE("a frame with an altered payload or checksum byte is bad_checksum", "[detail][frame]") {
    const std::string framed = frame(magic, 1, "payload with a checksum");
    for (std::size_t i = crc_at; i < framed.size(); ++i) {
        for (unsigned mask : {0x01U, 0x80U, 0xFFU}) {
            CAPTURE(i, mask);
            std::string damaged = framed;
            damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
            CHECK(unframe(damaged, magic, 1).status == FrameStatus::bad_checksum);
        }
    }
}

TEST_CASE("a frame followed by more bytes is trailing_bytes", "[detail][frame]") {
    std::string framed = frame(magic, 1, "payload");
    framed.push_back('\0');
    CHECK(unframe(framed, magic, 1).status == FrameStatus::trailing_bytes);
}

TEST_CASE("a frame whose size field is altered is truncated or trailing_bytes, never ok", "[detail][frame]") {
    const std::string framed = frame(magic, 1, "payload");
    for (std::size_t i = size_at; i < crc_at; ++i) {
        std::string damaged = framed;
        damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ 0xFFU);
        const auto status = unframe(damaged, magic, 1).status;
        CAPTURE(i);
        CHECK((status == FrameStatus::truncated || status == FrameStatus::trailing_bytes));
    }
    // The largest size a header can announce does not overflow anything.
    std::string huge = framed;
    for (std::size_t i = size_at; i < crc_at; ++i) huge[i] = '\xff';
    const auto f = unframe(huge, magic, 1);
    CHECK(f.status == FrameStatus::truncated);
    CHECK(f.declared_size == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("unframe looks only at the bytes it is given", "[detail][frame]") {
    // The frame is followed in memory by bytes that would complete it; a view that ends early
    // must still be truncated.
    const std::string framed = frame(magic, 1, "payload");
    const std::string_view view(framed.data(), framed.size() - 1);
    CHECK(unframe(view, magic, 1).status == FrameStatus::truncated);
}

// ------------------------------------------------------------------------------ binary codec

TEST_CASE("ByteWriter writes fixed-size integers little-endian", "[detail][binary]") {
    std::string out;
    ByteWriter w(out);
    w.u8(0xAB);
    w.u32(0x01020304U);
    w.u64(0x0102030405060708ULL);
    w.i64(-2);
    w.str(std::string_view("h\0i", 3));
    CHECK(out == bytes_of({0xAB,                                           //
                           0x04, 0x03, 0x02, 0x01,                         //
                           0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, //
                           0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, //
                           3, 0, 0, 0, 0, 0, 0, 0, 'h', 0, 'i'}));
}

TEST_CASE("ByteReader reads back what ByteWriter wrote, bit for bit", "[detail][binary]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::string out;
    ByteWriter w(out);
    w.u8(0);
    w.u8(0xFF);
    w.u32(0xFFFFFFFFU);
    w.u64(0xFFFFFFFFFFFFFFFFULL);
    w.i64(std::numeric_limits<std::int64_t>::min());
    w.i64(std::numeric_limits<std::int64_t>::max());
    w.f64(-0.0);
    w.f64(std::numeric_limits<double>::infinity());
    w.f64(nan);
    w.f64(std::numeric_limits<double>::denorm_min());
    w.str("");
    w.str(std::string_view("\0\0\xff", 3));
    w.raw("raw");

    ByteReader r(out);
    CHECK(r.u8() == 0);
    CHECK(r.u8() == 0xFF);
    CHECK(r.u32() == 0xFFFFFFFFU);
    CHECK(r.u64() == 0xFFFFFFFFFFFFFFFFULL);
    CHECK(r.i64() == std::numeric_limits<std::int64_t>::min());
    CHECK(r.i64() == std::numeric_limits<std::int64_t>::max());
    const double negative_zero = r.f64();
    CHECK(negative_zero == 0.0);
    CHECK(std::signbit(negative_zero));
    CHECK(r.f64() == std::numeric_limits<double>::infinity());
    CHECK(std::isnan(r.f64()));
    CHECK(r.f64() == std::numeric_limits<double>::denorm_min());
    CHECK(r.str().empty());
    CHECK(r.str() == std::string("\0\0\xff", 3));
    CHECK(r.remaining() == 3);
    CHECK_FALSE(r.failed());
    CHECK_FALSE(r.at_end());
    CHECK(r.u8() == 'r');
    CHECK(r.u8() == 'a');
    CHECK(r.u8() == 'w');
    CHECK(r.at_end());
    CHECK_FALSE(r.failed());
}

TEST_CASE("ByteReader never reads past the end of its input", "[detail][binary]") {
    // Bytes that would complete every read sit right after the view in memory; a reader that
    // looked past its end would return them.
    const std::string memory = bytes_of({1, 2, 3, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE});
    const std::string_view three(memory.data(), 3);

    SECTION("u32 of 3 bytes") {
        ByteReader r(three);
        CHECK(r.u32() == 0);
        CHECK(r.failed());
    }
    SECTION("u64 of 3 bytes") {
        ByteReader r(three);
        CHECK(r.u64() == 0);
        CHECK(r.failed());
    }
    SECTION("i64 and f64 of 3 bytes") {
        ByteReader r(three);
        CHECK(r.i64() == 0);
        CHECK(r.f64() == 0.0);
        CHECK(r.failed());
    }
    SECTION("u8 after the last byte") {
        ByteReader r(three);
        CHECK(r.u8() == 1);
        CHECK(r.u8() == 2);
        CHECK(r.u8() == 3);
        CHECK_FALSE(r.failed());
        CHECK(r.at_end());
        CHECK(r.u8() == 0);
        CHECK(r.failed());
    }
    SECTION("a string whose length runs past the end") {
        std::string in;
        ByteWriter w(in);
        w.u64(4);
        in += "abcdef";
        ByteReader r(std::string_view(in.data(), 8 + 3));
        CHECK(r.str().empty());
        CHECK(r.failed());
    }
    SECTION("a string length of 2^64-1 fails without allocating") {
        std::string in;
        ByteWriter w(in);
        w.u64(std::numeric_limits<std::uint64_t>::max());
        in += "abc";
        ByteReader r(in);
        CHECK_NOTHROW(r.str());
        CHECK(r.failed());
    }
}

TEST_CASE("ByteReader stays failed: every read after a failure yields zero", "[detail][binary]") {
    const std::string in = bytes_of({1, 2, 3, 4, 5, 6, 7, 8, 9});
    ByteReader r(in);
    CHECK(r.u8() == 1);
    CHECK(r.u64() == 0x0908070605040302ULL);
    CHECK(r.u8() == 0);
    REQUIRE(r.failed());

    ByteReader s(in);
    s.fail();
    CHECK(s.u8() == 0);
    CHECK(s.u32() == 0);
    CHECK(s.str().empty());
    CHECK(s.count(1) == 0);
    CHECK(s.remaining() == in.size()); // nothing consumed after the failure
}

TEST_CASE("ByteReader::count rejects counts the remaining input cannot hold", "[detail][binary]") {
    auto counted = [](std::uint64_t n, std::size_t payload_bytes) {
        std::string in;
        ByteWriter w(in);
        w.u64(n);
        in.append(payload_bytes, '\0');
        return in;
    };
    SECTION("a count that fits exactly is accepted") {
        const std::string in = counted(4, 4 * 9);
        ByteReader r(in);
        CHECK(r.count(9) == 4);
        CHECK_FALSE(r.failed());
    }
    SECTION("one more than fits is rejected") {
        const std::string in = counted(5, 4 * 9 + 8);
        ByteReader r(in);
        CHECK(r.count(9) == 0);
        CHECK(r.failed());
    }
    SECTION("hostile counts are rejected") {
        for (std::uint64_t n : {std::uint64_t{1} << 32, std::uint64_t{1} << 62, ~std::uint64_t{0}}) {
            const std::string in = counted(n, 64);
            ByteReader r(in);
            CHECK(r.count(1) == 0);
            CHECK(r.failed());
        }
    }
    SECTION("a count with no size bound is passed through") {
        const std::string in = counted(1000, 0);
        ByteReader r(in);
        CHECK(r.count(0) == 1000);
        CHECK_FALSE(r.failed());
    }
    SECTION("a count cut short fails") {
        const std::string in = counted(1, 0).substr(0, 5);
        ByteReader r(in);
        CHECK(r.count(1) == 0);
        CHECK(r.failed());
    }
}

} // namespace RESYNC_TEST_FILE
