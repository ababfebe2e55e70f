#pragma once
/// \file
/// Checksummed frames (the layout of <resync/detail/frame.hpp>) opened and closed in a
/// `ChunkedOutput`, their checksum taken from its running CRC-32.

#include <resync/bytes.hpp>
#include <resync/chunked_output.hpp>
#include <resync/detail/linkage.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace resync::detail {

/// A frame opened in a `ChunkedOutput`: where it starts, and the point its payload starts at.
struct OpenFrame {
    std::uint64_t start = 0;
    CrcMark payload;
};

/// Starts a frame at the end of `out` (as `open_frame` into a string does): its header, with
/// the payload size and checksum left for `close_frame`.
RESYNC_FUNC OpenFrame open_frame(ChunkedOutput& out, std::string_view magic, std::uint32_t version)
#if RESYNC_HEADER_DEFINITIONS
{
    const std::uint64_t start = out.size();
    ByteWriter w(out.buffer());
    w.raw(magic.substr(0, 8));
    w.u32(version);
    w.u64(0); // the payload size, filled in by close_frame
    w.u32(0); // the checksum, filled in by close_frame
    return OpenFrame{start, out.mark()};
}
#else
;
#endif

/// Completes `frame`: everything output after its header is the payload. Its CRC-32 comes from
/// the output's running CRC (no byte read again). Returns it.
RESYNC_FUNC std::uint32_t close_frame(ChunkedOutput& out, const OpenFrame& frame)
#if RESYNC_HEADER_DEFINITIONS
{
    const std::uint32_t crc = out.crc_since(frame.payload);
    std::string sealed; // the size and checksum fields, encoded as ByteWriter encodes them
    ByteWriter w(sealed);
    w.u64(out.size() - frame.payload.offset);
    w.u32(crc);
    out.fill_in(frame.start + 8 + 4, sealed);
    return crc;
}
#else
;
#endif

} // namespace resync::detail
