// wire/frame_reader.hpp: a byte stream fed in any cuts - one byte at a time, random pieces, all
// at once - gives back exactly the frames that went in, in order; a bad or oversized header is
// refused as soon as its bytes arrive, before any of its body is kept; after an error nothing
// more is accepted; a stream that ends mid-frame is truncated.
#include "support.hpp"

#include <resync/doc/model.hpp>
#include <resync/error.hpp>
#include <resync/wire/codec.hpp>
#include <resync/wire/format.hpp>
#include <resync/wire/frame_reader.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;
using namespace wire_test;

namespace {

/// Frames of every message, both directions, as one stream would carry them.
std::vector<std::string> stream_frames() {
    std::vector<std::string> out;
    for (const auto& m : client_samples<doc::Model>()) out.push_back(wire::encode<doc::Model>(m));
    for (const auto& m : server_samples<doc::Model>()) out.push_back(wire::encode<doc::Model>(m));
    // A frame with an empty payload (not a valid message, but a whole frame) and a large one.
    out.push_back(frame_of(0x01, ""));
    protocol::FreshChunk big;
    big.bytes.assign(300000, 'x');
    out.push_back(wire::encode<doc::Model>(big));
    return out;
}

std::string joined(const std::vector<std::string>& frames) {
    std::string all;
    for (const auto& f : frames) all += f;
    return all;
}

std::vector<std::string> take_all(wire::FrameReader& reader) {
    std::vector<std::string> out;
    while (auto f = reader.next()) out.push_back(std::move(*f));
    return out;
}

/// A header that announces a payload of `size` bytes.
std::string header_announcing(std::uint64_t size) {
    std::string h = frame_of(0x02, "");
    for (std::size_t i = 0; i < 8; ++i) h[8 + i] = static_cast<char>((size >> (8 * i)) & 0xFF);
    return h;
}

} // namespace

TEST_CASE("The frame reader gives back every frame whole when fed one byte at a time", "[wire][frame_reader]") {
    const auto frames = stream_frames();
    const std::string all = joined(frames);
    wire::FrameReader reader;
    std::vector<std::string> out;
    std::size_t next_frame = 0;
    std::size_t next_end = frames[0].size(); // where the next frame ends in the stream
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (auto ec = reader.feed(std::string_view(all).substr(i, 1))) FAIL(ec.message());
        // A frame comes out exactly when its last byte has gone in, not before.
        if (i + 1 == next_end) {
            REQUIRE(reader.frames_ready() == 1);
            out.push_back(*reader.next());
            CHECK(reader.partial_bytes() == 0);
            if (++next_frame < frames.size()) next_end += frames[next_frame].size();
        } else if (reader.frames_ready() != 0) {
            FAIL("a frame came out before its last byte, at stream byte " << i);
        }
    }
    CHECK(out == frames);
    CHECK_FALSE(reader.finish());
    CHECK_FALSE(reader.error());
}

TEST_CASE("The frame reader gives back every frame whole when fed in random cuts, empty ones included", "[wire][frame_reader]") {
    const auto frames = stream_frames();
    const std::string all = joined(frames);
    std::mt19937_64 rng(7);
    for (int round = 0; round < 60; ++round) {
        wire::FrameReader reader;
        std::vector<std::string> out;
        std::size_t at = 0;
        // Cuts up to 8 bytes (headers arrive in pieces) ... up to 128 KiB (many frames per cut).
        const std::size_t scale = std::size_t{8} << (rng() % 15);
        while (at < all.size()) {
            const std::size_t n = std::min(all.size() - at, static_cast<std::size_t>(rng() % (scale + 1)));
            // Checked only when it fails: a Catch assertion per feed would dominate the run.
            if (auto ec = reader.feed(std::string_view(all).substr(at, n))) FAIL(ec.message());
            at += n;
            if (rng() % 3 == 0)
                for (auto& f : take_all(reader)) out.push_back(std::move(f));
        }
        for (auto& f : take_all(reader)) out.push_back(std::move(f));
        REQUIRE(out == frames);
        CHECK_FALSE(reader.finish());
    }
}

TEST_CASE("The frame reader gives back every frame of a stream fed all at once, and each decodes", "[wire][frame_reader]") {
    const auto frames = stream_frames();
    wire::FrameReader reader;
    REQUIRE_FALSE(reader.feed(joined(frames)));
    CHECK(reader.frames_ready() == frames.size());
    const auto out = take_all(reader);
    REQUIRE(out == frames);
    const auto clients = client_samples<doc::Model>();
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto m = wire::decode_client<doc::Model>(out[i]);
        REQUIRE(m);
        CHECK(same(*m, clients[i]));
    }
    const auto servers = server_samples<doc::Model>();
    for (std::size_t i = 0; i < servers.size(); ++i) {
        auto m = wire::decode_server<doc::Model>(out[clients.size() + i]);
        REQUIRE(m);
        CHECK(same(*m, servers[i]));
    }
}

TEST_CASE("A frame announcing more than the maximum is refused from its header, before any of its body", "[wire][frame_reader]") {
    SECTION("a small maximum") {
        wire::FrameReader reader(1024);
        CHECK(reader.max_frame_bytes() == 1024);
        CHECK(reader.feed(header_announcing(1024 - wire::header_size + 1)) == errc::wire_frame_too_large);
        CHECK(reader.partial_bytes() == 0);
        CHECK(reader.feed(std::string(2000, 'x')) == errc::wire_frame_too_large);
        CHECK(reader.partial_bytes() == 0);
        CHECK(reader.frames_ready() == 0);
        CHECK(reader.finish() == errc::wire_frame_too_large);
    }
    SECTION("the default maximum of 64 MiB, announced by a header fed with the start of its body") {
        wire::FrameReader reader;
        CHECK(reader.max_frame_bytes() == (std::uint64_t{64} << 20));
        const std::string start = header_announcing((std::uint64_t{64} << 20) - wire::header_size + 1) + std::string(4096, 'x');
        CHECK(reader.feed(start) == errc::wire_frame_too_large);
        CHECK(reader.partial_bytes() == 0);
    }
    SECTION("a length at the limit of 64 bits") {
        wire::FrameReader reader;
        CHECK(reader.feed(header_announcing(max64)) == errc::wire_frame_too_large);
        wire::FrameReader tiny(3); // smaller than a header: every frame is too large
        CHECK(tiny.feed(header_announcing(0)) == errc::wire_frame_too_large);
    }
    SECTION("a hostile length just under the maximum keeps only the bytes that really arrived") {
        wire::FrameReader reader;
        REQUIRE_FALSE(reader.feed(header_announcing((std::uint64_t{64} << 20) - wire::header_size)));
        REQUIRE_FALSE(reader.feed("abc"));
        CHECK(reader.partial_bytes() == wire::header_size + 3);
        CHECK(reader.finish() == errc::wire_truncated);
    }
}

TEST_CASE("A frame exactly at the maximum is accepted, one byte larger is not", "[wire][frame_reader]") {
    const std::string frame = wire::encode<doc::Model>(protocol::Pull{1, {2, 3}, 4});
    wire::FrameReader exact(frame.size());
    REQUIRE_FALSE(exact.feed(frame));
    CHECK(exact.next() == frame);
    wire::FrameReader smaller(frame.size() - 1);
    CHECK(smaller.feed(frame) == errc::wire_frame_too_large);
    CHECK_FALSE(smaller.next());
}

TEST_CASE("A bad header is refused at its first wrong byte", "[wire][frame_reader]") {
    const std::string good = wire::encode<doc::Model>(protocol::Hello{});
    SECTION("magic") {
        wire::FrameReader reader;
        REQUIRE_FALSE(reader.feed("RSW"));
        CHECK(reader.feed("X") == errc::wire_corrupt);
        wire::FrameReader first;
        CHECK(first.feed("GET / HTTP/1.1\r\n") == errc::wire_corrupt);
    }
    SECTION("a newer version, as soon as its two bytes are in") {
        wire::FrameReader reader;
        REQUIRE_FALSE(reader.feed("RSWF\x02"));
        CHECK(reader.feed(std::string(1, '\0')) == errc::wire_version_unsupported);
        CHECK(reader.error() == errc::wire_version_unsupported);
    }
    SECTION("version 0") {
        wire::FrameReader reader;
        CHECK(reader.feed(std::string("RSWF\0\0", 6)) == errc::wire_corrupt);
    }
    SECTION("an unknown kind") {
        wire::FrameReader reader;
        CHECK(reader.feed(std::string("RSWF\x01\0\x09", 7)) == errc::wire_corrupt);
    }
    SECTION("non-zero flags") {
        wire::FrameReader reader;
        CHECK(reader.feed(std::string("RSWF\x01\0\x01\x01", 8)) == errc::wire_corrupt);
    }
    SECTION("the damaged byte comes after a whole frame in the same feed") {
        wire::FrameReader reader;
        CHECK(reader.feed(good + "RSWG") == errc::wire_corrupt);
        // The frame completed before the damage can still be taken; nothing after it is.
        CHECK(reader.next() == good);
        CHECK_FALSE(reader.next());
    }
}

TEST_CASE("After an error the frame reader accepts nothing more", "[wire][frame_reader]") {
    const std::string good = wire::encode<doc::Model>(protocol::Hello{});
    wire::FrameReader reader;
    REQUIRE(reader.feed("XXXX") == errc::wire_corrupt);
    CHECK(reader.feed(good) == errc::wire_corrupt);
    CHECK(reader.feed("") == errc::wire_corrupt);
    CHECK(reader.frames_ready() == 0);
    CHECK(reader.partial_bytes() == 0);
    CHECK(reader.finish() == errc::wire_corrupt);
}

TEST_CASE("A stream that ends in the middle of a frame is wire_truncated, a clean end is not", "[wire][frame_reader]") {
    const std::string frame = wire::encode<doc::Model>(protocol::Pull{1, {2, 3}, 4});
    for (std::size_t n = 0; n <= frame.size(); ++n) {
        CAPTURE(n);
        wire::FrameReader reader;
        REQUIRE_FALSE(reader.feed(std::string_view(frame).substr(0, n)));
        if (n == 0 || n == frame.size()) CHECK_FALSE(reader.finish());
        else CHECK(reader.finish() == errc::wire_truncated);
        CHECK(reader.frames_ready() == (n == frame.size() ? 1U : 0U));
    }
}

TEST_CASE("A damaged body passes the frame reader and is caught by the decoder's checksum", "[wire][frame_reader]") {
    std::string frame = wire::encode<doc::Model>(protocol::Pull{1, {2, 3}, 4});
    frame[wire::header_size + 3] = static_cast<char>(frame[wire::header_size + 3] ^ 0x10);
    wire::FrameReader reader;
    REQUIRE_FALSE(reader.feed(frame));
    auto f = reader.next();
    REQUIRE(f);
    CHECK(wire::decode_client<doc::Model>(*f).error() == errc::wire_corrupt);
}

} // namespace RESYNC_TEST_FILE
