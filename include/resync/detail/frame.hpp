#pragma once
/// \file
/// A checksummed frame around a payload: magic, format version, payload size, CRC-32, payload.
/// Used for backup files, store snapshots on disk and fresh copies on the wire, so a truncated
/// or altered byte anywhere is caught before anything is decoded.

#include <resync/bytes.hpp>
#include <resync/detail/crc32.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace resync::detail {

inline constexpr std::size_t frame_header_size = 8 + 4 + 8 + 4;

/// What is wrong with a frame, if anything.
enum class FrameStatus : std::uint8_t { ok, truncated, bad_magic, newer_version, bad_checksum, trailing_bytes };

/// Starts a frame at the end of `out`: its header, with the payload size and checksum left for
/// `close_frame`. The payload is whatever is appended to `out` after it. Returns where the frame
/// starts.
inline std::size_t open_frame(std::string& out, std::string_view magic, std::uint32_t version) {
    const std::size_t start = out.size();
    ByteWriter w(out);
    w.raw(magic.substr(0, 8));
    w.u32(version);
    w.u64(0); // the payload size, written by close_frame
    w.u32(0); // the checksum, written by close_frame
    return start;
}

/// Completes the frame opened at `start` in `out`: everything after its header is the payload.
/// Returns the payload's CRC-32.
inline std::uint32_t close_frame(std::string& out, std::size_t start) {
    const std::size_t payload_at = start + frame_header_size;
    const std::uint32_t crc = crc32(std::string_view(out).substr(payload_at));
    std::string sealed; // the size and checksum fields, encoded as ByteWriter encodes them
    ByteWriter w(sealed);
    w.u64(out.size() - payload_at);
    w.u32(crc);
    out.replace(start + 8 + 4, sealed.size(), sealed);
    return crc;
}

/// Wraps `payload` in a frame with an 8-byte `magic` and a format `version`.
inline std::string frame(std::string_view magic, std::uint32_t version, std::string_view payload) {
    std::string out;
    out.reserve(frame_header_size + payload.size());
    const std::size_t start = open_frame(out, magic, version);
    out.append(payload);
    close_frame(out, start);
    return out;
}

struct Unframed {
    FrameStatus status = FrameStatus::ok;
    std::uint32_t version = 0;
    std::string_view payload;
    std::uint64_t declared_size = 0; ///< the payload size the header announces (0 if unreadable)
};

/// Checks a frame's header - `head` is its first `frame_header_size` bytes, or all of a shorter
/// input - against the size of the body that follows it. Everything but the checksum, which it
/// stores in `crc` for the caller to compare.
inline Unframed check_frame_header(std::string_view head, std::uint64_t body_size, std::string_view magic,
                                   std::uint32_t max_version, std::uint32_t& crc) {
    Unframed r;
    if (head.size() < frame_header_size) {
        r.status = head.substr(0, std::min(head.size(), magic.size())) == magic.substr(0, head.size())
                       ? FrameStatus::truncated
                       : FrameStatus::bad_magic;
        return r;
    }
    if (head.substr(0, 8) != magic.substr(0, 8)) { r.status = FrameStatus::bad_magic; return r; }
    ByteReader in(head.substr(8));
    r.version = in.u32();
    r.declared_size = in.u64();
    crc = in.u32();
    if (r.version == 0) { r.status = FrameStatus::bad_magic; return r; }
    if (r.version > max_version) { r.status = FrameStatus::newer_version; return r; }
    if (body_size < r.declared_size) { r.status = FrameStatus::truncated; return r; }
    if (body_size > r.declared_size) { r.status = FrameStatus::trailing_bytes; return r; }
    return r;
}

/// Checks a frame and returns a view of its payload. Never reads past `bytes`.
inline Unframed unframe(std::string_view bytes, std::string_view magic, std::uint32_t max_version) {
    const std::string_view head = bytes.substr(0, std::min(bytes.size(), frame_header_size));
    std::uint32_t crc = 0;
    Unframed r = check_frame_header(head, bytes.size() - head.size(), magic, max_version, crc);
    if (r.status != FrameStatus::ok) return r;
    const std::string_view body = bytes.substr(frame_header_size);
    if (crc32(body) != crc) { r.status = FrameStatus::bad_checksum; return r; }
    r.payload = body;
    return r;
}

} // namespace resync::detail
