#pragma once
/// \file
/// The frame every protocol message travels in on the wire (wire format version 1): a 20-byte
/// header - magic "RSWF", wire format version, message kind, flags, payload length, CRC-32 -
/// then the payload. The byte-by-byte layout and the versioning rule are in docs/server.md
/// ("Wire format"); `wire/codec.hpp` encodes the payloads, `wire/frame_reader.hpp` cuts a byte
/// stream into frames.

#include <resync/detail/crc32.hpp>
#include <resync/error.hpp>
#include <resync/result.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace resync::wire {

/// The 4 bytes every frame starts with.
inline constexpr std::string_view magic = "RSWF";
/// The wire format version this build writes, and the newest it reads (it reads 1 up to this).
inline constexpr std::uint16_t version = 1;
/// Bytes in a frame header: magic (4), version (2), kind (1), flags (1), payload length (8),
/// CRC-32 (4).
inline constexpr std::size_t header_size = 20;
/// The largest frame (header and payload) a `FrameReader` accepts unless told otherwise: 64 MiB.
inline constexpr std::uint64_t default_max_frame_bytes = std::uint64_t{64} << 20;

/// What a frame holds: one kind per protocol message. The values are part of the wire format;
/// the high bit is the direction (clear: client to server, set: server to client).
enum class MessageKind : std::uint8_t {
    hello = 0x01,         ///< `protocol::Hello`
    upload = 0x02,        ///< `protocol::Upload<Op>`
    pull = 0x03,          ///< `protocol::Pull`
    fresh_request = 0x04, ///< `protocol::FreshRequest`
    welcome = 0x81,       ///< `protocol::Welcome`
    download = 0x82,      ///< `protocol::Download<Op>`
    upload_ack = 0x83,    ///< `protocol::UploadAck`
    fresh_chunk = 0x84,   ///< `protocol::FreshChunk`
    server_error = 0x85,  ///< `ServerError`
};

/// Whether `kind` is a message a client sends (Hello, Upload, Pull, FreshRequest).
constexpr bool is_client_message(MessageKind kind) noexcept {
    const auto k = static_cast<std::uint8_t>(kind);
    return k >= 0x01 && k <= 0x04;
}

/// Whether `kind` is a message a server sends (Welcome, Download, UploadAck, FreshChunk, ServerError).
constexpr bool is_server_message(MessageKind kind) noexcept {
    const auto k = static_cast<std::uint8_t>(kind);
    return k >= 0x81 && k <= 0x85;
}

/// The message's name, for logs; "unknown" for a value that is not a kind.
constexpr std::string_view to_string(MessageKind kind) noexcept {
    switch (kind) {
    case MessageKind::hello: return "Hello";
    case MessageKind::upload: return "Upload";
    case MessageKind::pull: return "Pull";
    case MessageKind::fresh_request: return "FreshRequest";
    case MessageKind::welcome: return "Welcome";
    case MessageKind::download: return "Download";
    case MessageKind::upload_ack: return "UploadAck";
    case MessageKind::fresh_chunk: return "FreshChunk";
    case MessageKind::server_error: return "ServerError";
    }
    return "unknown";
}

/// A frame header, as read by `read_header`.
struct FrameHeader {
    std::uint16_t version = wire::version; ///< the wire format version the frame was written in
    MessageKind kind = MessageKind::hello; ///< the message the payload holds
    std::uint64_t payload_size = 0;        ///< payload bytes after the header
    std::uint32_t crc = 0;                 ///< CRC-32 of header bytes [0, 16) then the payload

    /// Header and payload together.
    constexpr std::uint64_t frame_size() const noexcept { return header_size + payload_size; }
};

namespace detail {

inline std::uint64_t read_le(std::string_view bytes, std::size_t at, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    return v;
}

inline void write_le(std::string& out, std::size_t at, std::uint64_t v, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
}

/// The checksum of a frame: CRC-32 of the header up to (not including) the CRC field, then the
/// payload. The kind and the length are covered too, so a damaged kind byte can never turn one
/// message into another that happens to parse.
inline std::uint32_t frame_crc(std::string_view header, std::string_view payload) noexcept {
    return resync::detail::crc32(payload, resync::detail::crc32(header.substr(0, 16)));
}

/// Appends a header for `kind` with a zero length and checksum, to be completed by `seal`.
inline void open(std::string& out, MessageKind kind) {
    out.append(magic);
    out.push_back(static_cast<char>(version & 0xFFU));
    out.push_back(static_cast<char>(version >> 8));
    out.push_back(static_cast<char>(kind));
    out.push_back('\0'); // flags: none are defined in version 1
    out.append(12, '\0');
}

/// Completes the header that `open` wrote at `at`: everything after it is the payload.
inline void seal(std::string& out, std::size_t at) noexcept {
    const std::string_view all(out);
    const std::string_view payload = all.substr(at + header_size);
    write_le(out, at + 8, payload.size(), 8);
    write_le(out, at + 16, frame_crc(all.substr(at, header_size), payload), 4);
}

} // namespace detail

/// Checks a frame header, each field as soon as its bytes are there: `bytes` may be a whole
/// frame, a whole header, or the first few bytes of one (as they arrive from a stream).
///
/// Checks, in order: the magic (`wire_corrupt`); the version (0 is `wire_corrupt`, a newer one
/// is `wire_version_unsupported`: nothing after it is read, since a newer version may lay out
/// the rest differently); the kind (a value that names no message is `wire_corrupt`); the flags
/// (must be 0, else `wire_corrupt`); the length (a frame larger than `max_frame_bytes` is
/// `wire_frame_too_large`). The CRC is not checked: it needs the payload (see `open_frame`).
/// Returns the header, or `wire_truncated` when `bytes` is shorter than a header and nothing in
/// it is wrong yet (more bytes are needed).
inline Result<FrameHeader> read_header(std::string_view bytes,
                                       std::uint64_t max_frame_bytes = std::numeric_limits<std::uint64_t>::max()) {
    const std::size_t n = bytes.size() < header_size ? bytes.size() : header_size;
    for (std::size_t i = 0; i < n && i < magic.size(); ++i)
        if (bytes[i] != magic[i]) return errc::wire_corrupt;
    FrameHeader h;
    if (n >= 6) {
        h.version = static_cast<std::uint16_t>(detail::read_le(bytes, 4, 2));
        if (h.version == 0) return errc::wire_corrupt;
        if (h.version > version) return errc::wire_version_unsupported;
    }
    if (n >= 7) {
        h.kind = static_cast<MessageKind>(static_cast<unsigned char>(bytes[6]));
        if (!is_client_message(h.kind) && !is_server_message(h.kind)) return errc::wire_corrupt;
    }
    if (n >= 8 && bytes[7] != '\0') return errc::wire_corrupt;
    if (n >= 16) {
        h.payload_size = detail::read_le(bytes, 8, 8);
        if (max_frame_bytes < header_size || h.payload_size > max_frame_bytes - header_size)
            return errc::wire_frame_too_large;
    }
    if (n < header_size) return errc::wire_truncated;
    h.crc = static_cast<std::uint32_t>(detail::read_le(bytes, 16, 4));
    return h;
}

/// A checked frame: its header and a view of its payload (into the bytes given to `open_frame`).
struct FrameView {
    FrameHeader header;       ///< the checked header
    std::string_view payload; ///< the payload bytes, whose checksum matched
};

/// Checks one whole frame - `frame` must be exactly one frame, no more - and returns a view of
/// its payload. The header is checked as by `read_header`; then a frame shorter than its header
/// announces is `wire_truncated`, a longer one (bytes after the frame) and a checksum mismatch
/// are `wire_corrupt`. The payload itself is not decoded (see `wire/codec.hpp`).
inline Result<FrameView> open_frame(std::string_view frame) {
    auto header = read_header(frame);
    if (!header) return header.error();
    const std::uint64_t body = frame.size() - header_size;
    if (body < header->payload_size) return errc::wire_truncated;
    if (body > header->payload_size) return errc::wire_corrupt;
    const std::string_view payload = frame.substr(header_size);
    if (detail::frame_crc(frame, payload) != header->crc) return errc::wire_corrupt;
    return FrameView{*header, payload};
}

} // namespace resync::wire
