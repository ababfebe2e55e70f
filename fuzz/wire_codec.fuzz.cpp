// Fuzzes the wire codec (resync/wire/codec.hpp) and the stream frame reader
// (resync/wire/frame_reader.hpp) with the document model:
//   - the input, as one frame, decodes as a client and as a server message to a message or a
//     wire error, never a crash; a message that decodes is the only encoding of itself
//     (encoding it gives back the very bytes) and decodes again to the same encoding;
//   - the input, as a byte stream fed to a FrameReader in cuts, comes out as whole frames that
//     are exactly the stream's bytes, in order, up to an error; an error is sticky.
//
// Input layout: byte 0 is control - bit 0: recompute the frame's checksum before decoding, so
// mutations reach the payload decoders instead of stopping at the CRC; bits 1-5: the reader's
// maximum frame size, 2^(8 + value % 20) bytes. Byte 1 seeds the cut sizes. The rest is the data.
#include <resync/detail/crc32.hpp>
#include <resync/doc/model.hpp>
#include <resync/error.hpp>
#include <resync/wire/codec.hpp>
#include <resync/wire/format.hpp>
#include <resync/wire/frame_reader.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

/// Aborts with the failed condition: libFuzzer reports the abort as a crash and keeps the input.
/// Not `assert`, which NDEBUG would drop.
#define WIRE_FUZZ_CHECK(cond)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace {

using Model = resync::doc::Model;

bool is_wire_error(std::error_code ec) {
    using resync::errc;
    return ec == errc::wire_truncated || ec == errc::wire_corrupt || ec == errc::wire_version_unsupported ||
           ec == errc::wire_frame_too_large || ec == errc::wire_unexpected_message;
}

/// The frame with its CRC recomputed over header bytes [0, 16) and the payload, when it has a
/// whole header.
std::string resealed(std::string_view in) {
    std::string frame(in);
    if (frame.size() < resync::wire::header_size) return frame;
    const std::string_view all(frame);
    const std::uint32_t crc =
        resync::detail::crc32(all.substr(resync::wire::header_size), resync::detail::crc32(all.substr(0, 16)));
    for (std::size_t i = 0; i < 4; ++i) frame[16 + i] = static_cast<char>((crc >> (8 * i)) & 0xFFU);
    return frame;
}

template <class Decode>
void check_decoder(std::string_view frame, Decode decode) {
    const auto m = decode(frame);
    if (!m) {
        WIRE_FUZZ_CHECK(is_wire_error(m.error()));
        return;
    }
    const std::string again = resync::wire::encode<Model>(*m);
    WIRE_FUZZ_CHECK(again == frame);
    const auto twice = decode(again);
    WIRE_FUZZ_CHECK(twice.has_value());
    WIRE_FUZZ_CHECK(resync::wire::encode<Model>(*twice) == again);
}

void check_frame_reader(std::string_view stream, std::uint64_t max_frame, std::uint32_t seed) {
    resync::wire::FrameReader reader(max_frame);
    std::string out;          // the frames that came out, joined
    std::size_t fed = 0;      // bytes fed before the first error, or all
    std::error_code error;
    std::uint32_t state = seed * 2654435761U + 1;
    while (fed < stream.size()) {
        state = state * 1103515245U + 12345U;
        const std::size_t n = std::min<std::size_t>(stream.size() - fed, (state >> 16) % 64);
        error = reader.feed(stream.substr(fed, n));
        fed += n;
        while (auto f = reader.next()) {
            WIRE_FUZZ_CHECK(resync::wire::read_header(*f, max_frame).has_value());
            check_decoder(*f, [](std::string_view b) { return resync::wire::decode_client<Model>(b); });
            check_decoder(*f, [](std::string_view b) { return resync::wire::decode_server<Model>(b); });
            out += *f;
        }
        if (error) break;
    }
    if (error) {
        WIRE_FUZZ_CHECK(is_wire_error(error));
        WIRE_FUZZ_CHECK(reader.partial_bytes() == 0);
        WIRE_FUZZ_CHECK(reader.feed(stream.substr(0, 1)) == error);
        WIRE_FUZZ_CHECK(reader.finish() == error);
        WIRE_FUZZ_CHECK(stream.substr(0, out.size()) == out);
        return;
    }
    // No error: every byte is in a frame that came out or in the one still being received.
    WIRE_FUZZ_CHECK(out.size() + reader.partial_bytes() == stream.size());
    WIRE_FUZZ_CHECK(stream.substr(0, out.size()) == out);
    WIRE_FUZZ_CHECK(static_cast<bool>(reader.finish()) == (reader.partial_bytes() != 0));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t control = data[0];
    const std::uint32_t seed = data[1];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

    const std::string frame = (control & 1U) ? resealed(bytes) : std::string(bytes);
    check_decoder(frame, [](std::string_view b) { return resync::wire::decode_client<Model>(b); });
    check_decoder(frame, [](std::string_view b) { return resync::wire::decode_server<Model>(b); });

    const std::uint64_t max_frame = std::uint64_t{1} << (8 + ((control >> 1) & 0x1FU) % 20);
    check_frame_reader(bytes, max_frame, seed);
    return 0;
}
