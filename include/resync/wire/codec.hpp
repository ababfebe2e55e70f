#pragma once
/// \file
/// The binary wire codec of the sync protocol (wire format version 1): every `protocol` message
/// as one checksummed, versioned frame (`wire/format.hpp`), for any `resync::Model`, whose
/// operations are encoded with `M::encode` and decoded with `M::decode_operation`. Decoding is
/// total: any bytes give a message or a typed error (`errc::wire_*`), never a crash, and no
/// count or length read from the input drives an allocation larger than the input itself.
/// The byte-by-byte layout is in docs/server.md ("Wire format").

#include <resync/bytes.hpp>
#include <resync/concepts/model.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/protocol.hpp>
#include <resync/result.hpp>
#include <resync/server_error.hpp>
#include <resync/wire/format.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace resync::wire {

namespace detail {

// -------------------------------------------------------------------------------- reading

/// A bounds-checked little-endian reader over one payload that hands out views of its bytes, so
/// each operation is decoded by the model from exactly its own bytes, without a copy. After a
/// failure every read yields zero values.
class Cursor {
public:
    explicit Cursor(std::string_view in) noexcept : in_(in) {}

    bool failed() const noexcept { return failed_; }
    bool at_end() const noexcept { return pos_ == in_.size(); }
    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    void fail() noexcept { failed_ = true; }

    std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(fixed(1)); }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(fixed(4)); }
    std::uint64_t u64() noexcept { return fixed(8); }
    /// A byte that must be 0 or 1.
    bool boolean() noexcept {
        const auto b = u8();
        if (b > 1) fail();
        return b == 1;
    }
    /// The next `n` bytes; a length beyond the input fails instead of reading past it.
    std::string_view bytes(std::uint64_t n) noexcept {
        if (failed_ || n > remaining()) {
            failed_ = true;
            return {};
        }
        const std::string_view v = in_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return v;
    }
    /// A length-prefixed byte string.
    std::string str() { return std::string(bytes(u64())); }
    /// A count of items that each take at least `min_item_bytes` of input; a count the rest of
    /// the input cannot hold fails.
    std::uint64_t count(std::size_t min_item_bytes) noexcept {
        const std::uint64_t n = u64();
        if (!failed_ && n > remaining() / min_item_bytes) failed_ = true;
        return failed_ ? 0 : n;
    }

private:
    std::uint64_t fixed(std::size_t n) noexcept {
        if (failed_ || remaining() < n) {
            failed_ = true;
            return 0;
        }
        const std::uint64_t v = wire::detail::read_le(in_, pos_, n);
        pos_ += n;
        return v;
    }

    std::string_view in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

/// Reserves room for `n` items, but never more memory than the rest of the input takes: a
/// hostile count can cost no more than the frame it came in.
template <class T>
void reserve_bounded(std::vector<T>& v, std::uint64_t n, const Cursor& in) {
    const std::uint64_t fits = in.remaining() / sizeof(T) + 1;
    v.reserve(static_cast<std::size_t>(n < fits ? n : fits));
}

// Smallest encodings, for `Cursor::count`.
inline constexpr std::size_t min_operation_bytes = 8;            // its length, of an empty encoding
inline constexpr std::size_t min_local_changeset_bytes = 8 + 8 + 8;
inline constexpr std::size_t min_remote_changeset_bytes = 8 + 8 + 8 + 8 + 8;
inline constexpr std::size_t min_probe_bytes = 8 + 1 + 8 + 8 + 1;
inline constexpr std::size_t min_integrated_bytes = 8 + 8;

inline ServerPosition get_position(Cursor& in) noexcept {
    ServerPosition p;
    p.version = in.u64();
    p.salt = in.u64();
    return p;
}

/// Operations: a count, then each as its length and the model's encoding. The model decodes
/// from exactly those bytes and must consume all of them.
template <class M>
void get_operations(Cursor& in, std::vector<typename M::operation_type>& ops) {
    const std::uint64_t n = in.count(min_operation_bytes);
    reserve_bounded(ops, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
        const std::string_view bytes = in.bytes(in.u64());
        if (in.failed()) return;
        ByteReader op_in(bytes);
        auto op = M::decode_operation(op_in);
        if (!op || op_in.failed() || !op_in.at_end()) return in.fail();
        ops.push_back(std::move(*op));
    }
}

// Every message's fields are bound by name, encoding and decoding alike: a field added to a
// protocol message fails to compile here, because it needs a place in the wire format (and a
// new wire format version), not a silent omission.

inline void get(Cursor& in, protocol::Hello& m) {
    auto& [ident, download, upload_acked, epoch, schema_version] = m;
    ident = in.u64();
    download = get_position(in);
    upload_acked = in.u64();
    epoch = in.u64();
    schema_version = in.u32();
}

template <class M>
void get(Cursor& in, protocol::Upload<typename M::operation_type>& m) {
    auto& [ident, download, changesets] = m;
    ident = in.u64();
    download = get_position(in);
    const std::uint64_t n = in.count(min_local_changeset_bytes);
    reserve_bounded(changesets, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
        auto& [client_version, server_version, ops] = changesets.emplace_back();
        client_version = in.u64();
        server_version = in.u64();
        get_operations<M>(in, ops);
    }
}

inline void get(Cursor& in, protocol::Pull& m) {
    auto& [ident, from, max_entries] = m;
    ident = in.u64();
    from = get_position(in);
    max_entries = in.u32();
}

inline void get(Cursor& in, protocol::FreshRequest& m) {
    auto& [ident, offset, expected, reserved_ident, max_bytes, probe_versions] = m;
    ident = in.u64();
    offset = in.u64();
    expected = get_position(in);
    reserved_ident = in.u64();
    max_bytes = in.u32();
    const std::uint64_t n = in.count(8);
    reserve_bounded(probe_versions, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) probe_versions.push_back(in.u64());
}

inline void get(Cursor& in, protocol::Welcome& m) {
    auto& [ident, latest, salt_at_cursor, oldest_available, epoch, schema_version] = m;
    ident = in.u64();
    latest = get_position(in);
    if (in.boolean()) salt_at_cursor = in.u64();
    oldest_available = in.u64();
    epoch = in.u64();
    schema_version = in.u32();
}

template <class M>
void get(Cursor& in, protocol::Download<typename M::operation_type>& m) {
    auto& [ident, base, latest, entries] = m;
    ident = in.u64();
    base = get_position(in);
    latest = get_position(in);
    const std::uint64_t n = in.count(min_remote_changeset_bytes);
    reserve_bounded(entries, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
        auto& [server_version, salt, origin, client_version, ops] = entries.emplace_back();
        server_version = in.u64();
        salt = in.u64();
        origin = in.u64();
        client_version = in.u64();
        get_operations<M>(in, ops);
    }
}

inline void get(Cursor& in, protocol::UploadAck& m) {
    auto& [ident, client_version, integrated] = m;
    ident = in.u64();
    client_version = in.u64();
    const std::uint64_t n = in.count(min_integrated_bytes);
    reserve_bounded(integrated, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
        const std::uint64_t cv = in.u64();
        integrated.emplace_back(cv, in.u64());
    }
}

inline void get(Cursor& in, protocol::FreshChunk& m) {
    auto& [position, epoch, schema_version, new_ident, total_bytes, offset, bytes, probes,
           integrated_from_requester] = m;
    position = get_position(in);
    epoch = in.u64();
    schema_version = in.u32();
    new_ident = in.u64();
    total_bytes = in.u64();
    offset = in.u64();
    bytes = in.str();
    const std::uint64_t n = in.count(min_probe_bytes);
    reserve_bounded(probes, n, in);
    for (std::uint64_t i = 0; i < n && !in.failed(); ++i) {
        auto& [probed_version, present, origin, client_version, compacted] = probes.emplace_back();
        probed_version = in.u64();
        present = in.boolean();
        origin = in.u64();
        client_version = in.u64();
        compacted = in.boolean();
    }
    integrated_from_requester = in.u64();
}

inline void get(Cursor& in, ServerError& m) {
    auto& [code, action, message] = m;
    // A 32-bit two's-complement integer on the wire, whatever the width of `int`.
    static_assert(sizeof(int) >= 4, "resync::wire needs an int of at least 32 bits for error codes");
    const std::uint32_t raw = in.u32();
    code = raw <= 0x7FFFFFFFU ? static_cast<int>(raw) : -static_cast<int>(~raw) - 1;
    const std::uint8_t a = in.u8();
    if (a > static_cast<std::uint8_t>(ServerAction::protocol_violation)) in.fail();
    action = static_cast<ServerAction>(a);
    message = in.str();
}

/// Decodes the payload of a checked frame as the message `T`; any field that does not parse,
/// and any byte left over, is `wire_corrupt` (the checksum matched, so this is not damage in
/// transit but a writer that does not follow the format).
template <class T, class Get>
Result<T> decode_payload(std::string_view payload, Get&& get_fields) {
    Cursor in(payload);
    T message{};
    get_fields(in, message);
    if (in.failed() || !in.at_end()) return errc::wire_corrupt;
    return message;
}

// -------------------------------------------------------------------------------- writing

inline void put(ByteWriter& w, const ServerPosition& p) {
    w.u64(p.version);
    w.u64(p.salt);
}

template <class M>
void put_operations(std::string& out, const std::vector<typename M::operation_type>& ops) {
    ByteWriter w(out);
    w.u64(ops.size());
    for (const auto& op : ops) {
        // The length goes before the model's bytes; it is known once they are written.
        const std::size_t at = out.size();
        w.u64(0);
        M::encode(w, op);
        wire::detail::write_le(out, at, out.size() - at - 8, 8);
    }
}

template <class M>
void put(std::string& out, const protocol::Hello& m) {
    const auto& [ident, download, upload_acked, epoch, schema_version] = m;
    ByteWriter w(out);
    w.u64(ident);
    put(w, download);
    w.u64(upload_acked);
    w.u64(epoch);
    w.u32(schema_version);
}

template <class M>
void put(std::string& out, const protocol::Upload<typename M::operation_type>& m) {
    const auto& [ident, download, changesets] = m;
    ByteWriter w(out);
    w.u64(ident);
    put(w, download);
    w.u64(changesets.size());
    for (const auto& cs : changesets) {
        const auto& [client_version, server_version, ops] = cs;
        w.u64(client_version);
        w.u64(server_version);
        put_operations<M>(out, ops);
    }
}

template <class M>
void put(std::string& out, const protocol::Pull& m) {
    const auto& [ident, from, max_entries] = m;
    ByteWriter w(out);
    w.u64(ident);
    put(w, from);
    w.u32(max_entries);
}

template <class M>
void put(std::string& out, const protocol::FreshRequest& m) {
    const auto& [ident, offset, expected, reserved_ident, max_bytes, probe_versions] = m;
    ByteWriter w(out);
    w.u64(ident);
    w.u64(offset);
    put(w, expected);
    w.u64(reserved_ident);
    w.u32(max_bytes);
    w.u64(probe_versions.size());
    for (const auto v : probe_versions) w.u64(v);
}

template <class M>
void put(std::string& out, const protocol::Welcome& m) {
    const auto& [ident, latest, salt_at_cursor, oldest_available, epoch, schema_version] = m;
    ByteWriter w(out);
    w.u64(ident);
    put(w, latest);
    w.u8(salt_at_cursor ? 1 : 0);
    if (salt_at_cursor) w.u64(*salt_at_cursor);
    w.u64(oldest_available);
    w.u64(epoch);
    w.u32(schema_version);
}

template <class M>
void put(std::string& out, const protocol::Download<typename M::operation_type>& m) {
    const auto& [ident, base, latest, entries] = m;
    ByteWriter w(out);
    w.u64(ident);
    put(w, base);
    put(w, latest);
    w.u64(entries.size());
    for (const auto& e : entries) {
        const auto& [server_version, salt, origin, client_version, ops] = e;
        w.u64(server_version);
        w.u64(salt);
        w.u64(origin);
        w.u64(client_version);
        put_operations<M>(out, ops);
    }
}

template <class M>
void put(std::string& out, const protocol::UploadAck& m) {
    const auto& [ident, client_version, integrated] = m;
    ByteWriter w(out);
    w.u64(ident);
    w.u64(client_version);
    w.u64(integrated.size());
    for (const auto& [cv, sv] : integrated) {
        w.u64(cv);
        w.u64(sv);
    }
}

template <class M>
void put(std::string& out, const protocol::FreshChunk& m) {
    const auto& [position, epoch, schema_version, new_ident, total_bytes, offset, bytes, probes,
                 integrated_from_requester] = m;
    ByteWriter w(out);
    put(w, position);
    w.u64(epoch);
    w.u32(schema_version);
    w.u64(new_ident);
    w.u64(total_bytes);
    w.u64(offset);
    w.str(bytes);
    w.u64(probes.size());
    for (const auto& p : probes) {
        const auto& [probed_version, present, origin, client_version, compacted] = p;
        w.u64(probed_version);
        w.u8(present ? 1 : 0);
        w.u64(origin);
        w.u64(client_version);
        w.u8(compacted ? 1 : 0);
    }
    w.u64(integrated_from_requester);
}

template <class M>
void put(std::string& out, const ServerError& m) {
    const auto& [code, action, message] = m;
    ByteWriter w(out);
    w.u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(code)));
    w.u8(static_cast<std::uint8_t>(action));
    w.str(message);
}

/// The kind of each message type.
template <class T, class Op>
constexpr MessageKind kind_of() noexcept {
    if constexpr (std::is_same_v<T, protocol::Hello>) return MessageKind::hello;
    else if constexpr (std::is_same_v<T, protocol::Upload<Op>>) return MessageKind::upload;
    else if constexpr (std::is_same_v<T, protocol::Pull>) return MessageKind::pull;
    else if constexpr (std::is_same_v<T, protocol::FreshRequest>) return MessageKind::fresh_request;
    else if constexpr (std::is_same_v<T, protocol::Welcome>) return MessageKind::welcome;
    else if constexpr (std::is_same_v<T, protocol::Download<Op>>) return MessageKind::download;
    else if constexpr (std::is_same_v<T, protocol::UploadAck>) return MessageKind::upload_ack;
    else if constexpr (std::is_same_v<T, protocol::FreshChunk>) return MessageKind::fresh_chunk;
    else {
        static_assert(std::is_same_v<T, ServerError>, "not a protocol message");
        return MessageKind::server_error;
    }
}

/// Whether `T` is one of the nine protocol messages for operations `Op`.
template <class T, class Op>
inline constexpr bool is_message =
    std::is_same_v<T, protocol::Hello> || std::is_same_v<T, protocol::Upload<Op>> ||
    std::is_same_v<T, protocol::Pull> || std::is_same_v<T, protocol::FreshRequest> ||
    std::is_same_v<T, protocol::Welcome> || std::is_same_v<T, protocol::Download<Op>> ||
    std::is_same_v<T, protocol::UploadAck> || std::is_same_v<T, protocol::FreshChunk> ||
    std::is_same_v<T, ServerError>;

template <class M>
constexpr bool check_model() noexcept {
    static_assert(resync::Model<M>,
                  "resync::wire::encode<M> / decode_client<M> / decode_server<M>: M must model resync::Model "
                  "(declare `using model_concept = resync::model_t;`, and provide "
                  "'static void encode(ByteWriter&, const operation_type&)' and "
                  "'static std::optional<operation_type> decode_operation(ByteReader&)', among the rest; "
                  "see resync/concepts/model.hpp)");
    return resync::Model<M>;
}

template <class M, class T>
std::string encode_message(const T& message) {
    std::string out;
    wire::detail::open(out, kind_of<T, typename M::operation_type>());
    put<M>(out, message);
    wire::detail::seal(out, 0);
    return out;
}

template <class Variant, class M>
Result<Variant> decode_as(MessageKind kind, std::string_view payload) {
    using Op = typename M::operation_type;
    Result<Variant> out = errc::wire_corrupt;
    // Each alternative of the variant whose kind matches is decoded; the caller has checked the
    // direction, so exactly one matches.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (([&] {
             using T = std::variant_alternative_t<I, Variant>;
             if (kind != kind_of<T, Op>()) return;
             auto m = decode_payload<T>(payload, [](Cursor& in, T& t) {
                 if constexpr (std::is_same_v<T, protocol::Upload<Op>> || std::is_same_v<T, protocol::Download<Op>>)
                     get<M>(in, t);
                 else
                     get(in, t);
             });
             if (m) out = Variant(std::in_place_index<I>, std::move(*m));
             else out = m.error();
         }()),
         ...);
    }(std::make_index_sequence<std::variant_size_v<Variant>>{});
    return out;
}

template <class Variant, class M>
Result<Variant> decode_frame(std::string_view frame, bool (*direction)(MessageKind) noexcept) {
    auto f = open_frame(frame);
    if (!f) return f.error();
    if (!direction(f->header.kind)) return errc::wire_unexpected_message;
    return decode_as<Variant, M>(f->header.kind, f->payload);
}

} // namespace detail

/// Encodes one client message as a frame.
///
/// Requires `M` to model `resync::Model`; its operations are written with `M::encode`.
/// Returns the whole frame (header and payload), ready to send.
template <class M>
std::string encode(const protocol::ClientMessage<typename M::operation_type>& message) {
    static_assert(detail::check_model<M>());
    return std::visit([](const auto& m) { return detail::encode_message<M>(m); }, message);
}

/// Encodes one server message as a frame.
///
/// Requires `M` to model `resync::Model`; its operations are written with `M::encode`.
/// Returns the whole frame (header and payload), ready to send.
template <class M>
std::string encode(const protocol::ServerMessage<typename M::operation_type>& message) {
    static_assert(detail::check_model<M>());
    return std::visit([](const auto& m) { return detail::encode_message<M>(m); }, message);
}

/// Encodes one protocol message, given as itself rather than in a `ClientMessage` or
/// `ServerMessage` variant (no copy of the message into a variant).
///
/// Requires `M` to model `resync::Model`, and `Message` to be one of the nine protocol messages
/// for `M`'s operations. Returns the whole frame.
template <class M, class Message>
    requires detail::is_message<Message, typename M::operation_type>
std::string encode(const Message& message) {
    static_assert(detail::check_model<M>());
    return detail::encode_message<M>(message);
}

/// Decodes one frame holding a client message (what a server receives).
///
/// Requires `M` to model `resync::Model`; operations are read with `M::decode_operation`, each
/// from exactly its own bytes. `frame` must be exactly one frame (a `FrameReader` cuts a stream
/// into frames). Returns the message, or: `wire_truncated` (shorter than its header says),
/// `wire_corrupt` (bad magic, checksum, kind, flags, trailing bytes, or a payload that does not
/// parse), `wire_version_unsupported` (a newer wire format), `wire_unexpected_message` (a server
/// message), `wire_frame_too_large` (a length that no frame can have: header and payload past
/// 2^64 bytes). Never reads outside `frame`.
template <class M>
Result<protocol::ClientMessage<typename M::operation_type>> decode_client(std::string_view frame) {
    static_assert(detail::check_model<M>());
    return detail::decode_frame<protocol::ClientMessage<typename M::operation_type>, M>(frame, is_client_message);
}

/// Decodes one frame holding a server message (what a client receives).
///
/// As `decode_client`, for the server's messages: a client message is `wire_unexpected_message`.
template <class M>
Result<protocol::ServerMessage<typename M::operation_type>> decode_server(std::string_view frame) {
    static_assert(detail::check_model<M>());
    return detail::decode_frame<protocol::ServerMessage<typename M::operation_type>, M>(frame, is_server_message);
}

} // namespace resync::wire
