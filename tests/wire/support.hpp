// Shared by the wire tests: a small model of the tests' own (so the codec is proven generic, not
// tied to the document model), sample messages of every kind with every field set, field-by-field
// comparison of messages, and a framer written from docs/server.md rather than from the codec.
#pragma once

#include <resync/bytes.hpp>
#include <resync/concepts/model.hpp>
#include <resync/detail/crc32.hpp>
#include <resync/doc/model.hpp>
#include <resync/error.hpp>
#include <resync/protocol.hpp>
#include <resync/result.hpp>
#include <resync/wire/format.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace wire_test {

using namespace std::string_literals;

// ------------------------------------------------------------------------- a model of our own

/// An operation that is a fixed-size struct: add `delta` to the counter of `entity`.
struct Bump {
    std::uint32_t entity = 0;
    std::int32_t delta = 0;
    friend bool operator==(const Bump&, const Bump&) = default;
};

/// Counters by entity: a game-like model with nothing of the document model in it.
struct CounterModel {
    using model_concept = resync::model_t;
    using operation_type = Bump;
    using snapshot_type = std::map<std::uint32_t, std::int64_t>;

    static void apply(snapshot_type& s, const Bump& b) { s[b.entity] += b.delta; }
    static std::size_t object_count(const snapshot_type& s) noexcept { return s.size(); }

    static void encode(resync::ByteWriter& w, const Bump& b) {
        w.u32(b.entity);
        w.u32(static_cast<std::uint32_t>(b.delta));
    }
    static std::optional<Bump> decode_operation(resync::ByteReader& r) {
        Bump b;
        b.entity = r.u32();
        b.delta = static_cast<std::int32_t>(r.u32());
        if (r.failed()) return std::nullopt;
        return b;
    }

    static std::string encode_snapshot(const snapshot_type& s) {
        std::string out;
        resync::ByteWriter w(out);
        w.u64(s.size());
        for (const auto& [entity, value] : s) {
            w.u32(entity);
            w.i64(value);
        }
        return out;
    }
    static resync::Result<snapshot_type> decode_snapshot(std::string_view bytes) {
        resync::ByteReader r(bytes);
        snapshot_type s;
        const auto n = r.count(4 + 8);
        for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
            const auto entity = r.u32();
            s[entity] = r.i64();
        }
        if (r.failed() || !r.at_end()) return resync::errc::fresh_copy_corrupt;
        return s;
    }
};

static_assert(resync::Model<CounterModel>);

// --------------------------------------------------------------------------- sample operations

template <class M>
struct Ops;

template <>
struct Ops<resync::doc::Model> {
    /// Every kind of document operation, with strings holding NULs, quotes and bytes >= 0x80.
    static std::vector<resync::doc::Operation> some() {
        namespace doc = resync::doc;
        const std::string tricky = "say \"hi\"\0 'there' \\ \xFF\x80 end"s;
        doc::List list;
        list.elements.push_back({doc::ElementId{1, 2}, doc::Scalar{std::int64_t{-3}}});
        list.elements.push_back({doc::ElementId{std::numeric_limits<std::uint64_t>::max(), 0}, doc::Scalar{tricky}});
        return {
            doc::CreateObject{"tasks", "k\0ey"s},
            doc::EraseObject{"", ""},
            doc::SetField{"tasks", "t1", "title", doc::Value{tricky}},
            doc::SetField{"tasks", "t1", "done", doc::Value{true}},
            doc::SetField{"tasks", "t1", "weight", doc::Value{-1.5}},
            doc::SetField{"tasks", "t1", "none", doc::Value{}},
            doc::SetField{"tasks", "t1", "tags", doc::Value{list}},
            doc::AddInteger{"tasks", "t1", "n", std::numeric_limits<std::int64_t>::min()},
            doc::ListInsert{"tasks", "t1", "tags", std::nullopt, doc::ElementId{7, 8}, doc::Scalar{std::int64_t{9}}},
            doc::ListInsert{"tasks", "t1", "tags", doc::ElementId{1, 2}, doc::ElementId{7, 9}, doc::Scalar{"\0"s}},
            doc::ListErase{"tasks", "t1", "tags", doc::ElementId{1, 2}},
            doc::ListMove{"tasks", "t1", "tags", doc::ElementId{7, 8}, std::nullopt},
            doc::ListMove{"tasks", "t1", "tags", doc::ElementId{7, 8}, doc::ElementId{7, 9}},
            doc::ListSet{"tasks", "t1", "tags", doc::ElementId{7, 9}, doc::Scalar{2.25}},
            doc::ListClear{"tasks", "t1", "tags"},
        };
    }
    static resync::doc::Operation numbered(std::uint64_t i) {
        return resync::doc::AddInteger{"c", "k" + std::to_string(i % 97), "x", static_cast<std::int64_t>(i)};
    }
};

template <>
struct Ops<CounterModel> {
    static std::vector<Bump> some() {
        return {Bump{0, 0}, Bump{1, -1}, Bump{std::numeric_limits<std::uint32_t>::max(), std::numeric_limits<std::int32_t>::min()},
                Bump{42, std::numeric_limits<std::int32_t>::max()}};
    }
    static Bump numbered(std::uint64_t i) {
        return Bump{static_cast<std::uint32_t>(i), static_cast<std::int32_t>(i % 1000) - 500};
    }
};

// ----------------------------------------------------------------------------- sample messages

constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t max32 = std::numeric_limits<std::uint32_t>::max();

/// Client messages covering every field: defaults, extremes, empty and filled vectors.
template <class M>
std::vector<resync::protocol::ClientMessage<typename M::operation_type>> client_samples() {
    namespace protocol = resync::protocol;
    using Op = typename M::operation_type;
    const auto ops = Ops<M>::some();
    std::vector<protocol::ClientMessage<Op>> out;
    out.emplace_back(protocol::Hello{});
    out.emplace_back(protocol::Hello{max64, {max64 - 1, 0x0123456789ABCDEFULL}, 77, 0xFEDCBA9876543210ULL, max32});
    out.emplace_back(protocol::Upload<Op>{});
    out.emplace_back(protocol::Upload<Op>{5, {9, 11}, {{1, 0, {}}, {2, 0, ops}, {max64, max64, {ops.front()}}}});
    out.emplace_back(protocol::Pull{});
    out.emplace_back(protocol::Pull{3, {4, 5}, 0});
    out.emplace_back(protocol::Pull{max64, {max64, max64}, max32});
    out.emplace_back(protocol::FreshRequest{});
    out.emplace_back(protocol::FreshRequest{6, 12345, {7, 8}, 9, 0, {0, 1, max64}});
    return out;
}

/// Server messages covering every field, including an absent and a zero `salt_at_cursor`,
/// every combination of a probe's flags, every error action, and bytes holding NULs.
template <class M>
std::vector<resync::protocol::ServerMessage<typename M::operation_type>> server_samples() {
    namespace protocol = resync::protocol;
    using resync::ServerAction;
    using resync::ServerError;
    using Op = typename M::operation_type;
    const auto ops = Ops<M>::some();
    std::vector<protocol::ServerMessage<Op>> out;
    out.emplace_back(protocol::Welcome{});
    out.emplace_back(protocol::Welcome{1, {2, 3}, 0, 4, 5, 6});
    out.emplace_back(protocol::Welcome{max64, {max64, max64}, max64, max64, max64, max32});
    out.emplace_back(protocol::Download<Op>{});
    out.emplace_back(protocol::Download<Op>{4, {1, 2}, {9, 10}, {{2, 22, 0, 0, {}}, {3, 33, 4, 1, ops}, {max64, max64, max64, max64, {ops.back()}}}});
    out.emplace_back(protocol::UploadAck{});
    out.emplace_back(protocol::UploadAck{7, 3, {{1, 10}, {2, 11}, {max64, max64}}});
    out.emplace_back(protocol::FreshChunk{});
    out.emplace_back(protocol::FreshChunk{{5, 55}, 123, 2, 8, 1000, 64, "\0snap\"shot'\0\xFF"s,
                                          {{1, true, 4, 1, false}, {2, false, 0, 0, false}, {3, true, 0, 0, true}, {max64, false, max64, max64, true}},
                                          42});
    out.emplace_back(ServerError{});
    out.emplace_back(ServerError{208, ServerAction::reset, "the server has forgotten about this client"});
    out.emplace_back(ServerError{217, ServerAction::reset_no_recovery, "quote \" NUL \0 end"s});
    out.emplace_back(ServerError{-1, ServerAction::protocol_violation, ""});
    out.emplace_back(ServerError{std::numeric_limits<int>::min(), ServerAction::warning, "min"});
    out.emplace_back(ServerError{std::numeric_limits<int>::max(), ServerAction::transient, "max"});
    return out;
}

// ------------------------------------------------------------------ field-by-field comparison

// Every field bound by name: when a message gains a field these stop compiling, so the tests
// are brought up to date with the codec.
inline auto fields(const resync::protocol::Hello& m) {
    const auto& [ident, download, upload_acked, epoch, schema_version] = m;
    return std::tie(ident, download, upload_acked, epoch, schema_version);
}
template <class Op>
auto fields(const resync::protocol::Upload<Op>& m) {
    const auto& [ident, download, changesets] = m;
    return std::tie(ident, download, changesets);
}
inline auto fields(const resync::protocol::Pull& m) {
    const auto& [ident, from, max_entries] = m;
    return std::tie(ident, from, max_entries);
}
inline auto fields(const resync::protocol::FreshRequest& m) {
    const auto& [ident, offset, expected, reserved_ident, max_bytes, probe_versions] = m;
    return std::tie(ident, offset, expected, reserved_ident, max_bytes, probe_versions);
}
inline auto fields(const resync::protocol::Welcome& m) {
    const auto& [ident, latest, salt_at_cursor, oldest_available, epoch, schema_version] = m;
    return std::tie(ident, latest, salt_at_cursor, oldest_available, epoch, schema_version);
}
template <class Op>
auto fields(const resync::protocol::Download<Op>& m) {
    const auto& [ident, base, latest, entries] = m;
    return std::tie(ident, base, latest, entries);
}
inline auto fields(const resync::protocol::UploadAck& m) {
    const auto& [ident, client_version, integrated] = m;
    return std::tie(ident, client_version, integrated);
}
inline auto fields(const resync::protocol::FreshChunk& m) {
    const auto& [position, epoch, schema_version, new_ident, total_bytes, offset, bytes, probes, integrated_from_requester] = m;
    return std::tie(position, epoch, schema_version, new_ident, total_bytes, offset, bytes, probes, integrated_from_requester);
}
inline auto fields(const resync::ServerError& m) {
    const auto& [code, action, message] = m;
    return std::tie(code, action, message);
}

/// Whether two messages (or two variants of messages) hold the same message with equal fields.
template <class... T>
bool same(const std::variant<T...>& a, const std::variant<T...>& b) {
    if (a.index() != b.index()) return false;
    return std::visit(
        [&](const auto& x) {
            using X = std::decay_t<decltype(x)>;
            return fields(x) == fields(std::get<X>(b));
        },
        a);
}

// ---------------------------------------------------------------- framing, from the written spec

/// A frame as docs/server.md describes it: "RSWF", version (u16), kind (u8), flags (u8),
/// payload length (u64), CRC-32 of the 16 bytes before it and the payload (u32), payload.
inline std::string frame_of(std::uint8_t kind, std::string_view payload, std::uint16_t version = 1, std::uint8_t flags = 0) {
    std::string out = "RSWF";
    resync::ByteWriter w(out);
    w.u8(static_cast<std::uint8_t>(version & 0xFF));
    w.u8(static_cast<std::uint8_t>(version >> 8));
    w.u8(kind);
    w.u8(flags);
    w.u64(payload.size());
    w.u32(resync::detail::crc32(payload, resync::detail::crc32(out)));
    w.raw(payload);
    return out;
}

/// The frame again with its checksum recomputed, so that a change reaches the payload checks.
inline std::string resealed(std::string frame) {
    const std::string_view all(frame);
    const std::uint32_t crc = resync::detail::crc32(all.substr(resync::wire::header_size), resync::detail::crc32(all.substr(0, 16)));
    for (std::size_t i = 0; i < 4; ++i) frame[16 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    return frame;
}

/// Bytes from a hex string ("0a ff ..."; spaces ignored).
inline std::string unhex(std::string_view hex) {
    std::string out;
    int hi = -1;
    for (char c : hex) {
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else continue;
        if (hi < 0) hi = v;
        else {
            out.push_back(static_cast<char>(hi * 16 + v));
            hi = -1;
        }
    }
    return out;
}

/// Whether `ec` is one of the wire errors.
inline bool is_wire_error(std::error_code ec) {
    using resync::errc;
    return ec == errc::wire_truncated || ec == errc::wire_corrupt || ec == errc::wire_version_unsupported ||
           ec == errc::wire_frame_too_large || ec == errc::wire_unexpected_message;
}

} // namespace wire_test
