// wire/codec.hpp and wire/format.hpp: every protocol message round-trips through one frame with
// every field intact, for the document model and for a model of the tests' own; the bytes are
// the ones docs/server.md documents; and any damage - a cut, a flipped bit, a newer version, an
// unknown kind, a hostile count or length, a value out of range - is a typed error, never a
// crash and never a different message.
#include "support.hpp"

#include <resync/doc/model.hpp>
#include <resync/error.hpp>
#include <resync/wire/codec.hpp>
#include <resync/wire/format.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <variant>
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

using DocOp = doc::Operation;

/// Every sample frame of a model, client and server, small enough to damage byte by byte.
template <class M>
std::vector<std::string> sample_frames() {
    std::vector<std::string> out;
    for (const auto& m : client_samples<M>()) out.push_back(wire::encode<M>(m));
    for (const auto& m : server_samples<M>()) out.push_back(wire::encode<M>(m));
    return out;
}

/// Decodes a frame with the decoder of its own direction (by its kind byte, or the client's when
/// it has none). The error, or none when it decoded.
template <class M>
std::error_code decode_error(std::string_view frame) {
    const bool server = frame.size() > 6 && (static_cast<unsigned char>(frame[6]) & 0x80U) != 0;
    if (server) return wire::decode_server<M>(frame).error();
    return wire::decode_client<M>(frame).error();
}

/// A payload written by hand with ByteWriter.
template <class F>
std::string payload(F&& write) {
    std::string out;
    ByteWriter w(out);
    write(w);
    return out;
}

constexpr std::uint8_t hello = 0x01, upload = 0x02, pull = 0x03, fresh_request = 0x04;
constexpr std::uint8_t welcome = 0x81, download = 0x82, upload_ack = 0x83, fresh_chunk = 0x84, server_error = 0x85;

} // namespace

// ------------------------------------------------------------------------------- round trips

TEMPLATE_TEST_CASE("Every client message decodes to the message it was encoded from, field by field", "[wire][codec]",
                   doc::Model, CounterModel) {
    using M = TestType;
    for (const auto& message : client_samples<M>()) {
        CAPTURE(message.index());
        const std::string frame = wire::encode<M>(message);
        auto decoded = wire::decode_client<M>(frame);
        REQUIRE(decoded);
        CHECK(same(*decoded, message));
        // The message given as itself encodes to the same bytes as in its variant.
        CHECK(std::visit([](const auto& m) { return wire::encode<M>(m); }, message) == frame);
        // Deterministic: the same message, the same bytes.
        CHECK(wire::encode<M>(*decoded) == frame);
    }
}

TEMPLATE_TEST_CASE("Every server message decodes to the message it was encoded from, field by field", "[wire][codec]",
                   doc::Model, CounterModel) {
    using M = TestType;
    for (const auto& message : server_samples<M>()) {
        CAPTURE(message.index());
        const std::string frame = wire::encode<M>(message);
        auto decoded = wire::decode_server<M>(frame);
        REQUIRE(decoded);
        CHECK(same(*decoded, message));
        CHECK(std::visit([](const auto& m) { return wire::encode<M>(m); }, message) == frame);
        CHECK(wire::encode<M>(*decoded) == frame);
    }
}

TEST_CASE("An absent salt_at_cursor and a salt of zero stay apart on the wire", "[wire][codec]") {
    protocol::Welcome absent, zero;
    zero.salt_at_cursor = 0;
    const auto a = wire::decode_server<doc::Model>(wire::encode<doc::Model>(absent));
    const auto z = wire::decode_server<doc::Model>(wire::encode<doc::Model>(zero));
    REQUIRE(a);
    REQUIRE(z);
    CHECK_FALSE(std::get<protocol::Welcome>(*a).salt_at_cursor.has_value());
    CHECK(std::get<protocol::Welcome>(*z).salt_at_cursor == std::optional<std::uint64_t>(0));
}

TEMPLATE_TEST_CASE("Large vectors and byte strings round-trip", "[wire][codec]", doc::Model, CounterModel) {
    using M = TestType;
    using Op = typename M::operation_type;
    protocol::Upload<Op> up{3, {4, 5}, {}};
    up.changesets.push_back({1, 0, {}});
    for (std::uint64_t i = 0; i < 20000; ++i) up.changesets.front().ops.push_back(Ops<M>::numbered(i));
    for (std::uint64_t v = 2; v < 2000; ++v) up.changesets.push_back({v, 0, {Ops<M>::numbered(v)}});

    protocol::Download<Op> down{3, {0, 0}, {5000, 7}, {}};
    for (std::uint64_t v = 1; v <= 5000; ++v) down.entries.push_back({v, v * 31, v % 5, v, {Ops<M>::numbered(v)}});

    protocol::UploadAck ack{3, 10000, {}};
    for (std::uint64_t v = 1; v <= 10000; ++v) ack.integrated.emplace_back(v, v + 100);

    protocol::FreshRequest req{3, 0, {}, 0, 1u << 20, {}};
    for (std::uint64_t v = 1; v <= 10000; ++v) req.probe_versions.push_back(v * 3);

    protocol::FreshChunk chunk{{9, 10}, 11, 12, 13, 3u << 20, 0, std::string(), {}, 14};
    chunk.bytes.resize(3u << 20);
    for (std::size_t i = 0; i < chunk.bytes.size(); ++i) chunk.bytes[i] = static_cast<char>(i * 7);
    for (std::uint64_t v = 1; v <= 10000; ++v) chunk.probes.push_back({v, v % 2 == 0, v, v, v % 3 == 0});

    for (const protocol::ClientMessage<Op>& m : {protocol::ClientMessage<Op>(up), protocol::ClientMessage<Op>(req)}) {
        auto back = wire::decode_client<M>(wire::encode<M>(m));
        REQUIRE(back);
        CHECK(same(*back, m));
    }
    for (const protocol::ServerMessage<Op>& m :
         {protocol::ServerMessage<Op>(down), protocol::ServerMessage<Op>(ack), protocol::ServerMessage<Op>(chunk)}) {
        auto back = wire::decode_server<M>(wire::encode<M>(m));
        REQUIRE(back);
        CHECK(same(*back, m));
    }
}

// --------------------------------------------------------------------- the documented bytes

TEST_CASE("Frames are laid out byte for byte as docs/server.md documents them", "[wire][codec]") {
    // The worked examples of docs/server.md, "Wire format". Each is also rebuilt from the written
    // layout by frame_of(), so the document, this test and the codec cannot drift apart.
    SECTION("a Pull") {
        const std::string frame = wire::encode<CounterModel>(protocol::Pull{7, {3, 0xAABBCCDD}, 256});
        const std::string pl = unhex("07 00 00 00 00 00 00 00"   // ident 7
                                     "03 00 00 00 00 00 00 00"   // from.version 3
                                     "dd cc bb aa 00 00 00 00"   // from.salt 0xAABBCCDD
                                     "00 01 00 00");             // max_entries 256
        CHECK(frame == frame_of(pull, pl));
        CHECK(frame.substr(0, 20) == unhex("52 53 57 46  01 00  03  00  1c 00 00 00 00 00 00 00  8d c8 aa 98"));
    }
    SECTION("an Upload of one changeset with two operations of the tests' counter model") {
        protocol::Upload<Bump> up{7, {3, 0xAABBCCDD}, {{1, 0, {Bump{5, -2}, Bump{6, 1}}}}};
        const std::string pl = unhex("07 00 00 00 00 00 00 00"   // ident 7
                                     "03 00 00 00 00 00 00 00"   // download.version 3
                                     "dd cc bb aa 00 00 00 00"   // download.salt
                                     "01 00 00 00 00 00 00 00"   // 1 changeset
                                     "01 00 00 00 00 00 00 00"   //   client_version 1
                                     "00 00 00 00 00 00 00 00"   //   server_version 0
                                     "02 00 00 00 00 00 00 00"   //   2 operations
                                     "08 00 00 00 00 00 00 00"   //     8 bytes
                                     "05 00 00 00 fe ff ff ff"   //     Bump{5, -2}
                                     "08 00 00 00 00 00 00 00"   //     8 bytes
                                     "06 00 00 00 01 00 00 00"); //     Bump{6, 1}
        CHECK(wire::encode<CounterModel>(up) == frame_of(upload, pl));
    }
    SECTION("a Welcome with and without salt_at_cursor") {
        const std::string with = unhex("02 00 00 00 00 00 00 00"   // ident 2
                                       "09 00 00 00 00 00 00 00"   // latest.version 9
                                       "99 00 00 00 00 00 00 00"   // latest.salt 0x99
                                       "01"                        // salt_at_cursor present
                                       "44 00 00 00 00 00 00 00"   //   0x44
                                       "04 00 00 00 00 00 00 00"   // oldest_available 4
                                       "ee 00 00 00 00 00 00 00"   // epoch 0xEE
                                       "01 00 00 00");             // schema_version 1
        CHECK(wire::encode<CounterModel>(protocol::Welcome{2, {9, 0x99}, 0x44, 4, 0xEE, 1}) == frame_of(welcome, with));
        const std::string without = unhex("02 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 99 00 00 00 00 00 00 00"
                                          "00"
                                          "04 00 00 00 00 00 00 00 ee 00 00 00 00 00 00 00 01 00 00 00");
        CHECK(wire::encode<CounterModel>(protocol::Welcome{2, {9, 0x99}, std::nullopt, 4, 0xEE, 1}) ==
              frame_of(welcome, without));
    }
    SECTION("a ServerError with a negative code") {
        const std::string pl = unhex("ff ff ff ff"               // code -1
                                     "03"                        // action reset
                                     "02 00 00 00 00 00 00 00"   // message: 2 bytes
                                     "68 69");                   // "hi"
        CHECK(wire::encode<CounterModel>(ServerError{-1, ServerAction::reset, "hi"}) == frame_of(server_error, pl));
    }
    SECTION("a FreshChunk with a probe") {
        protocol::FreshChunk c{{5, 6}, 7, 1, 8, 3, 0, "abc", {{5, true, 8, 2, false}}, 2};
        const std::string pl = unhex("05 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00"   // position {5, 6}
                                     "07 00 00 00 00 00 00 00"                           // epoch 7
                                     "01 00 00 00"                                       // schema_version 1
                                     "08 00 00 00 00 00 00 00"                           // new_ident 8
                                     "03 00 00 00 00 00 00 00"                           // total_bytes 3
                                     "00 00 00 00 00 00 00 00"                           // offset 0
                                     "03 00 00 00 00 00 00 00 61 62 63"                  // bytes "abc"
                                     "01 00 00 00 00 00 00 00"                           // 1 probe
                                     "05 00 00 00 00 00 00 00 01 08 00 00 00 00 00 00 00" //   version 5, present, origin 8
                                     "02 00 00 00 00 00 00 00 00"                        //   client_version 2, not compacted
                                     "02 00 00 00 00 00 00 00");                         // integrated_from_requester 2
        CHECK(wire::encode<CounterModel>(c) == frame_of(fresh_chunk, pl));
    }
}

TEST_CASE("read_header and open_frame report the header's fields", "[wire][format]") {
    const std::string frame = wire::encode<CounterModel>(protocol::UploadAck{1, 2, {}});
    auto h = wire::read_header(frame);
    REQUIRE(h);
    CHECK(h->version == 1);
    CHECK(h->kind == wire::MessageKind::upload_ack);
    CHECK(h->payload_size == frame.size() - wire::header_size);
    CHECK(h->frame_size() == frame.size());
    auto f = wire::open_frame(frame);
    REQUIRE(f);
    CHECK(f->payload == std::string_view(frame).substr(wire::header_size));
    CHECK(wire::to_string(wire::MessageKind::fresh_chunk) == "FreshChunk");
    CHECK(wire::to_string(static_cast<wire::MessageKind>(0x42)) == "unknown");
}

// ------------------------------------------------------------------------------------ damage

TEMPLATE_TEST_CASE("Every strict prefix of a frame is wire_truncated", "[wire][codec][damage]", doc::Model, CounterModel) {
    using M = TestType;
    for (const auto& frame : sample_frames<M>()) {
        for (std::size_t n = 0; n < frame.size(); ++n) {
            const std::string_view cut = std::string_view(frame).substr(0, n);
            CAPTURE(frame.size(), n);
            CHECK(wire::decode_client<M>(cut).error() == errc::wire_truncated);
            CHECK(wire::decode_server<M>(cut).error() == errc::wire_truncated);
        }
    }
}

TEMPLATE_TEST_CASE("Every single-bit flip of a frame is a typed error, never another message", "[wire][codec][damage]",
                   doc::Model, CounterModel) {
    using M = TestType;
    std::size_t flips = 0;
    for (const auto& frame : sample_frames<M>()) {
        for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
            std::string damaged = frame;
            damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
            const std::error_code client = wire::decode_client<M>(damaged).error();
            const std::error_code server = wire::decode_server<M>(damaged).error();
            CAPTURE(frame.size(), bit);
            // The checksum covers the header too: no flip anywhere decodes, in either direction.
            REQUIRE(client);
            REQUIRE(server);
            CHECK(is_wire_error(client));
            CHECK(is_wire_error(server));
            // A flip in the payload or in the checksum itself is caught by the checksum.
            if (bit / 8 >= 16) CHECK(client == errc::wire_corrupt);
            ++flips;
        }
    }
    CHECK(flips > 10000);
}

TEST_CASE("A frame from a newer wire format version is wire_version_unsupported, whatever follows", "[wire][codec][damage]") {
    const std::string frame = wire::encode<doc::Model>(protocol::Hello{1, {2, 3}, 4, 5, 6});
    for (const std::uint16_t v : {std::uint16_t{2}, std::uint16_t{0x0100}, std::uint16_t{0xFFFF}}) {
        CAPTURE(v);
        std::string newer = frame;
        newer[4] = static_cast<char>(v & 0xFF);
        newer[5] = static_cast<char>(v >> 8);
        CHECK(wire::decode_client<doc::Model>(newer).error() == errc::wire_version_unsupported);
        CHECK(wire::decode_server<doc::Model>(newer).error() == errc::wire_version_unsupported);
        // Only the magic and the version are read: a newer version may lay out the rest otherwise.
        CHECK(wire::decode_client<doc::Model>(newer.substr(0, 6)).error() == errc::wire_version_unsupported);
        CHECK(wire::decode_client<doc::Model>(newer.substr(0, 6) + "\xFF\xFF garbage").error() ==
              errc::wire_version_unsupported);
        CHECK(wire::read_header(newer.substr(0, 6)).error() == errc::wire_version_unsupported);
    }
    std::string zero = frame;
    zero[4] = zero[5] = '\0';
    CHECK(wire::decode_client<doc::Model>(zero).error() == errc::wire_corrupt);
}

TEST_CASE("An unknown message kind or a non-zero flags byte is wire_corrupt, even with a valid checksum", "[wire][codec][damage]") {
    const std::string pl = "12345678";
    for (const std::uint8_t kind : {0x00, 0x05, 0x7F, 0x80, 0x86, 0xC1, 0xFF}) {
        CAPTURE(int{kind});
        CHECK(wire::decode_client<doc::Model>(frame_of(kind, pl)).error() == errc::wire_corrupt);
        CHECK(wire::decode_server<doc::Model>(frame_of(kind, pl)).error() == errc::wire_corrupt);
        CHECK(wire::read_header(frame_of(kind, pl).substr(0, 7)).error() == errc::wire_corrupt);
    }
    const std::string hello_frame = wire::encode<doc::Model>(protocol::Hello{});
    const std::string hello_payload = hello_frame.substr(wire::header_size);
    CHECK(wire::decode_client<doc::Model>(frame_of(hello, hello_payload)));
    for (const std::uint8_t flags : {0x01, 0x80, 0xFF})
        CHECK(wire::decode_client<doc::Model>(frame_of(hello, hello_payload, 1, flags)).error() == errc::wire_corrupt);
}

TEST_CASE("A message of the other direction is wire_unexpected_message", "[wire][codec]") {
    for (const auto& m : client_samples<doc::Model>())
        CHECK(wire::decode_server<doc::Model>(wire::encode<doc::Model>(m)).error() == errc::wire_unexpected_message);
    for (const auto& m : server_samples<doc::Model>())
        CHECK(wire::decode_client<doc::Model>(wire::encode<doc::Model>(m)).error() == errc::wire_unexpected_message);
}

TEST_CASE("A frame with bytes after it is wire_corrupt, one cut short is wire_truncated", "[wire][codec][damage]") {
    const std::string frame = wire::encode<doc::Model>(protocol::Pull{1, {2, 3}, 4});
    CHECK(wire::decode_client<doc::Model>(frame + '\0').error() == errc::wire_corrupt);
    CHECK(wire::decode_client<doc::Model>(frame + frame).error() == errc::wire_corrupt);
    CHECK(wire::decode_client<doc::Model>(frame.substr(0, frame.size() - 1)).error() == errc::wire_truncated);
    CHECK(wire::decode_client<doc::Model>("").error() == errc::wire_truncated);
    CHECK(wire::decode_client<doc::Model>("RSW").error() == errc::wire_truncated);
    CHECK(wire::decode_client<doc::Model>("RSWX").error() == errc::wire_corrupt);
    CHECK(wire::decode_client<doc::Model>("X").error() == errc::wire_corrupt);
    // A payload that is whole and checksummed but has a byte more than its message: corrupt.
    CHECK(wire::decode_client<doc::Model>(frame_of(pull, frame.substr(wire::header_size) + '\0')).error() == errc::wire_corrupt);
    CHECK(wire::decode_client<doc::Model>(frame_of(pull, frame.substr(wire::header_size, 27))).error() == errc::wire_corrupt);
}

TEST_CASE("Hostile counts and lengths are refused without allocating for them", "[wire][codec][damage]") {
    // Each is a well-formed frame with a valid checksum, so the count or length itself is what
    // the decoder meets; an allocation of that size would throw (or exhaust memory) instead.
    const std::uint64_t hostile[] = {max64, max64 / 2, std::uint64_t{1} << 40, std::uint64_t{1} << 32, 1000};
    for (const auto n : hostile) {
        CAPTURE(n);
        const ServerPosition pos{1, 2};
        auto pos_ = [&](ByteWriter& w) { w.u64(pos.version); w.u64(pos.salt); };
        // Upload: changeset count; operation count; operation length.
        CHECK(wire::decode_client<doc::Model>(frame_of(upload, payload([&](ByteWriter& w) { w.u64(1); pos_(w); w.u64(n); })))
                  .error() == errc::wire_corrupt);
        CHECK(wire::decode_client<doc::Model>(frame_of(upload, payload([&](ByteWriter& w) {
                  w.u64(1); pos_(w); w.u64(1); w.u64(1); w.u64(0); w.u64(n);
              }))).error() == errc::wire_corrupt);
        CHECK(wire::decode_client<CounterModel>(frame_of(upload, payload([&](ByteWriter& w) {
                  w.u64(1); pos_(w); w.u64(1); w.u64(1); w.u64(0); w.u64(1); w.u64(n); w.u64(0);
              }))).error() == errc::wire_corrupt);
        // FreshRequest: probe count.
        CHECK(wire::decode_client<doc::Model>(frame_of(fresh_request, payload([&](ByteWriter& w) {
                  w.u64(1); w.u64(0); pos_(w); w.u64(0); w.u32(10); w.u64(n);
              }))).error() == errc::wire_corrupt);
        // Download: entry count, operation count.
        CHECK(wire::decode_server<doc::Model>(frame_of(download, payload([&](ByteWriter& w) { w.u64(1); pos_(w); pos_(w); w.u64(n); })))
                  .error() == errc::wire_corrupt);
        CHECK(wire::decode_server<doc::Model>(frame_of(download, payload([&](ByteWriter& w) {
                  w.u64(1); pos_(w); pos_(w); w.u64(1); w.u64(1); w.u64(2); w.u64(3); w.u64(4); w.u64(n);
              }))).error() == errc::wire_corrupt);
        // UploadAck: pair count.
        CHECK(wire::decode_server<doc::Model>(frame_of(upload_ack, payload([&](ByteWriter& w) { w.u64(1); w.u64(2); w.u64(n); })))
                  .error() == errc::wire_corrupt);
        // FreshChunk: byte length; probe count.
        CHECK(wire::decode_server<doc::Model>(frame_of(fresh_chunk, payload([&](ByteWriter& w) {
                  pos_(w); w.u64(1); w.u32(1); w.u64(1); w.u64(1); w.u64(0); w.u64(n);
              }))).error() == errc::wire_corrupt);
        CHECK(wire::decode_server<doc::Model>(frame_of(fresh_chunk, payload([&](ByteWriter& w) {
                  pos_(w); w.u64(1); w.u32(1); w.u64(1); w.u64(1); w.u64(0); w.u64(0); w.u64(n); w.u64(0);
              }))).error() == errc::wire_corrupt);
        // ServerError: message length.
        CHECK(wire::decode_server<doc::Model>(frame_of(server_error, payload([&](ByteWriter& w) { w.u32(1); w.u8(3); w.u64(n); })))
                  .error() == errc::wire_corrupt);
        // A header announcing a huge payload with no body: short, not an allocation (and a
        // length no frame can have, past 2^64 bytes with its header, is too large).
        std::string header = frame_of(hello, "");
        for (std::size_t i = 0; i < 8; ++i) header[8 + i] = static_cast<char>((n >> (8 * i)) & 0xFF);
        CHECK(wire::decode_client<doc::Model>(header).error() ==
              (n > max64 - wire::header_size ? errc::wire_frame_too_large : errc::wire_truncated));
    }
}

TEST_CASE("Values outside their range are wire_corrupt, even with a valid checksum", "[wire][codec][damage]") {
    auto welcome_with_flag = [](std::uint8_t flag) {
        return frame_of(welcome, payload([&](ByteWriter& w) {
            w.u64(1); w.u64(2); w.u64(3); w.u8(flag);
            if (flag) w.u64(4);
            w.u64(5); w.u64(6); w.u32(7);
        }));
    };
    CHECK(wire::decode_server<doc::Model>(welcome_with_flag(0)));
    CHECK(wire::decode_server<doc::Model>(welcome_with_flag(1)));
    CHECK(wire::decode_server<doc::Model>(welcome_with_flag(2)).error() == errc::wire_corrupt);
    CHECK(wire::decode_server<doc::Model>(welcome_with_flag(0xFF)).error() == errc::wire_corrupt);

    auto chunk_with_probe_flags = [](std::uint8_t present, std::uint8_t compacted) {
        return frame_of(fresh_chunk, payload([&](ByteWriter& w) {
            w.u64(1); w.u64(2); w.u64(3); w.u32(4); w.u64(5); w.u64(0); w.u64(0); w.u64(0);
            w.u64(1); w.u64(9); w.u8(present); w.u64(0); w.u64(0); w.u8(compacted);
            w.u64(0);
        }));
    };
    CHECK(wire::decode_server<doc::Model>(chunk_with_probe_flags(1, 1)));
    CHECK(wire::decode_server<doc::Model>(chunk_with_probe_flags(2, 0)).error() == errc::wire_corrupt);
    CHECK(wire::decode_server<doc::Model>(chunk_with_probe_flags(0, 2)).error() == errc::wire_corrupt);

    auto error_with_action = [](std::uint8_t action) {
        return frame_of(server_error, payload([&](ByteWriter& w) { w.u32(211); w.u8(action); w.str("m"); }));
    };
    for (std::uint8_t a = 0; a <= 5; ++a) {
        auto e = wire::decode_server<doc::Model>(error_with_action(a));
        REQUIRE(e);
        CHECK(std::get<ServerError>(*e).action == static_cast<ServerAction>(a));
    }
    CHECK(wire::decode_server<doc::Model>(error_with_action(6)).error() == errc::wire_corrupt);
    CHECK(wire::decode_server<doc::Model>(error_with_action(0xFF)).error() == errc::wire_corrupt);
}

TEST_CASE("An operation must fill exactly its announced length, and decode by the model's rules", "[wire][codec][damage]") {
    auto upload_of_op = [](std::string_view op_bytes) {
        return frame_of(upload, payload([&](ByteWriter& w) {
            w.u64(1); w.u64(0); w.u64(0); w.u64(1); w.u64(1); w.u64(0); w.u64(1);
            w.str(op_bytes);
        }));
    };
    const std::string bump = unhex("05 00 00 00 fe ff ff ff");
    auto ok = wire::decode_client<CounterModel>(upload_of_op(bump));
    REQUIRE(ok);
    CHECK(std::get<protocol::Upload<Bump>>(*ok).changesets.at(0).ops.at(0) == Bump{5, -2});
    // Too long: the model leaves a byte unread.
    CHECK(wire::decode_client<CounterModel>(upload_of_op(bump + '\0')).error() == errc::wire_corrupt);
    // Too short: the model runs out inside its own bytes, never into the next field.
    CHECK(wire::decode_client<CounterModel>(upload_of_op(bump.substr(0, 4))).error() == errc::wire_corrupt);
    CHECK(wire::decode_client<CounterModel>(upload_of_op("")).error() == errc::wire_corrupt);
    // The document model's own checks apply: an unknown operation kind, a bool that is not 0/1.
    CHECK(wire::decode_client<doc::Model>(upload_of_op(unhex("63 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"))).error() ==
          errc::wire_corrupt);
    std::string op;
    ByteWriter w(op);
    doc::encode(w, doc::Operation{doc::SetField{"c", "k", "f", doc::Value{true}}});
    CHECK(wire::decode_client<doc::Model>(upload_of_op(op)));
    op.back() = '\x02';
    CHECK(wire::decode_client<doc::Model>(upload_of_op(op)).error() == errc::wire_corrupt);
}

TEMPLATE_TEST_CASE("Random damage behind a valid checksum decodes to a message whose only encoding it is, or to a typed error",
                   "[wire][codec][damage]", doc::Model, CounterModel) {
    // A small fuzzer with a fixed seed: bytes of a sample payload overwritten, inserted or
    // removed, the checksum recomputed so the damage reaches the payload decoders.
    using M = TestType;
    std::mt19937_64 rng(20240611);
    const auto frames = sample_frames<M>();
    std::size_t decoded = 0, refused = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string frame = frames[rng() % frames.size()];
        std::string body = frame.substr(wire::header_size);
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = body.empty() ? 0 : rng() % body.size();
            switch (rng() % 4) {
            case 0: if (!body.empty()) body[at] = static_cast<char>(rng()); break;
            case 1: body.insert(at, 1, static_cast<char>(rng())); break;
            case 2: if (!body.empty()) body.erase(at, 1 + rng() % 8); break;
            case 3: if (body.size() >= 8) for (std::size_t i = 0; i < 8 && at + i < body.size(); ++i) body[at + i] = '\xFF'; break;
            }
        }
        frame = frame_of(static_cast<std::uint8_t>(frame[6]), body);
        const bool server = (static_cast<unsigned char>(frame[6]) & 0x80U) != 0;
        if (server) {
            auto m = wire::decode_server<M>(frame);
            if (m) {
                ++decoded;
                // The only encoding of its message: no two frames mean the same thing.
                CHECK(wire::encode<M>(*m) == frame);
                auto again = wire::decode_server<M>(wire::encode<M>(*m));
                REQUIRE(again);
                CHECK(same(*again, *m));
            } else {
                ++refused;
                CHECK(m.error() == errc::wire_corrupt);
            }
        } else {
            auto m = wire::decode_client<M>(frame);
            if (m) {
                ++decoded;
                // The only encoding of its message: no two frames mean the same thing.
                CHECK(wire::encode<M>(*m) == frame);
                auto again = wire::decode_client<M>(wire::encode<M>(*m));
                REQUIRE(again);
                CHECK(same(*again, *m));
            } else {
                ++refused;
                CHECK(m.error() == errc::wire_corrupt);
            }
        }
    }
    CHECK(refused > 0);
    CHECK(decoded > 0); // some damage lands where any value is valid (a version, a salt)
    CHECK(decoded + refused == 20000);
}

TEST_CASE("Every wire error has a message that says what happened and what to do", "[wire][error]") {
    for (const errc e : {errc::wire_truncated, errc::wire_corrupt, errc::wire_version_unsupported, errc::wire_frame_too_large,
                         errc::wire_unexpected_message}) {
        const std::error_code ec = e;
        CAPTURE(static_cast<int>(e));
        CHECK(ec.category().name() == std::string("resync"));
        CHECK(ec.message() != "unknown resync error");
        CHECK(ec.message().find("wire frame") != std::string::npos);
        CHECK(is_wire_error(ec));
    }
    CHECK_FALSE(is_wire_error(errc::fresh_copy_corrupt));
    // Distinct from every other code's message, the codes before the wire block included.
    std::set<std::string> seen;
    const int last = static_cast<int>(errc::wire_unexpected_message);
    for (int v = 1; v <= last; ++v) CHECK(seen.insert(make_error_code(static_cast<errc>(v)).message()).second);
    CHECK(seen.size() == static_cast<std::size_t>(last));
}

} // namespace RESYNC_TEST_FILE
