#pragma once
/// \file
/// Binary encoding of the document model: values, operations, changesets and whole states.
/// Decoding is total: any input, however malformed, yields either a value or `std::nullopt`.

#include <resync/bytes.hpp>
#include <resync/detail/chunked_frame.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/linkage.hpp>
#include <resync/error.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/result.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace resync::doc {

namespace detail {
template <class V>
void encode_variant(resync::ByteWriter& w, const V& v);
}

RESYNC_FUNC void encode(resync::ByteWriter& w, const Scalar& v)
#if RESYNC_HEADER_DEFINITIONS
{ detail::encode_variant(w, v); }
#else
;
#endif

RESYNC_FUNC void encode(resync::ByteWriter& w, const Value& v)
#if RESYNC_HEADER_DEFINITIONS
{ detail::encode_variant(w, v); }
#else
;
#endif

RESYNC_FUNC void encode(resync::ByteWriter& w, const ElementId& id)
#if RESYNC_HEADER_DEFINITIONS
{
    w.u64(id.replica);
    w.u64(id.seq);
}
#else
;
#endif
template <class Bytes>
ElementId decode_element_id(resync::BasicByteReader<Bytes>& r) {
    ElementId id;
    id.replica = r.u64();
    id.seq = r.u64();
    return id;
}

namespace detail {
template <class V>
void encode_variant(resync::ByteWriter& w, const V& v) {
    w.u8(static_cast<std::uint8_t>(v.index()));
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) w.u8(x ? 1 : 0);
            else if constexpr (std::is_same_v<T, std::int64_t>) w.i64(x);
            else if constexpr (std::is_same_v<T, double>) w.f64(x);
            else if constexpr (std::is_same_v<T, std::string>) w.str(x);
            else if constexpr (std::is_same_v<T, List>) {
                w.u64(x.elements.size());
                for (const auto& e : x.elements) {
                    encode(w, e.id);
                    encode(w, e.value);
                }
            }
        },
        v);
}
} // namespace detail

/// Decodes a scalar; a list tag is rejected (lists do not nest).
template <class Bytes>
std::optional<Scalar> decode_scalar(resync::BasicByteReader<Bytes>& r) {
    switch (r.u8()) {
    case 0: return Scalar{Null{}};
    case 1: {
        auto b = r.u8();
        if (b > 1) r.fail();
        return Scalar{b == 1};
    }
    case 2: return Scalar{r.i64()};
    case 3: return Scalar{r.f64()};
    case 4: return Scalar{r.str()};
    default: r.fail(); return std::nullopt;
    }
}

template <class Bytes>
std::optional<Value> decode_value(resync::BasicByteReader<Bytes>& r) {
    // Peek at the tag: a list is decoded here, a scalar by decode_scalar.
    if (r.peek_u8() != 5) {
        auto s = decode_scalar(r);
        if (!s) return std::nullopt;
        return to_value(*s);
    }
    r.u8();
    List list;
    const auto n = r.count(8 + 8 + 1);
    list.elements.reserve(n);
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        Element e;
        e.id = decode_element_id(r);
        auto v = decode_scalar(r);
        if (!v) return std::nullopt;
        e.value = std::move(*v);
        list.elements.push_back(std::move(e));
    }
    if (r.failed()) return std::nullopt;
    // Element identity is what list recovery relies on: a list naming one element twice is damage.
    std::vector<ElementId> ids;
    ids.reserve(list.elements.size());
    for (const auto& e : list.elements) ids.push_back(e.id);
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
        r.fail();
        return std::nullopt;
    }
    return Value{std::move(list)};
}

RESYNC_FUNC void encode(resync::ByteWriter& w, const Operation& op)
#if RESYNC_HEADER_DEFINITIONS
{
    w.u8(static_cast<std::uint8_t>(op.index()));
    visit_operation(
        [&](const auto& o) {
            using T = std::decay_t<decltype(o)>;
            w.str(o.collection);
            w.str(o.key);
            if constexpr (requires { o.field; }) w.str(o.field);
            if constexpr (std::is_same_v<T, SetField>) {
                encode(w, o.value);
            } else if constexpr (std::is_same_v<T, AddInteger>) {
                w.i64(o.delta);
            } else if constexpr (std::is_same_v<T, ListInsert>) {
                w.u8(o.after ? 1 : 0);
                if (o.after) encode(w, *o.after);
                encode(w, o.id);
                encode(w, o.value);
            } else if constexpr (std::is_same_v<T, ListErase>) {
                encode(w, o.id);
            } else if constexpr (std::is_same_v<T, ListMove>) {
                encode(w, o.id);
                w.u8(o.after ? 1 : 0);
                if (o.after) encode(w, *o.after);
            } else if constexpr (std::is_same_v<T, ListSet>) {
                encode(w, o.id);
                encode(w, o.value);
            }
        },
        op);
}
#else
;
#endif

/// An optional predecessor: a flag byte (0 or 1; anything else is damage), then the id if 1.
template <class Bytes>
std::optional<ElementId> decode_after(resync::BasicByteReader<Bytes>& r) {
    const auto flag = r.u8();
    if (flag > 1) r.fail();
    if (flag != 1) return std::nullopt;
    return decode_element_id(r);
}

template <class Bytes>
std::optional<Operation> decode_operation(resync::BasicByteReader<Bytes>& r) {
    const auto kind = r.u8();
    std::string collection = r.str();
    std::string key = r.str();
    std::optional<Operation> op;
    switch (kind) {
    case 0: op = CreateObject{std::move(collection), std::move(key)}; break;
    case 1: op = EraseObject{std::move(collection), std::move(key)}; break;
    case 2: {
        std::string field = r.str();
        auto v = decode_value(r);
        if (v) op = SetField{std::move(collection), std::move(key), std::move(field), std::move(*v)};
        break;
    }
    case 3: {
        std::string field = r.str();
        op = AddInteger{std::move(collection), std::move(key), std::move(field), r.i64()};
        break;
    }
    case 4: {
        std::string field = r.str();
        std::optional<ElementId> after = decode_after(r);
        const ElementId id = decode_element_id(r);
        auto v = decode_scalar(r);
        if (v) op = ListInsert{std::move(collection), std::move(key), std::move(field), after, id, std::move(*v)};
        break;
    }
    case 5: {
        std::string field = r.str();
        op = ListErase{std::move(collection), std::move(key), std::move(field), decode_element_id(r)};
        break;
    }
    case 6: {
        std::string field = r.str();
        const ElementId id = decode_element_id(r);
        std::optional<ElementId> after = decode_after(r);
        op = ListMove{std::move(collection), std::move(key), std::move(field), id, after};
        break;
    }
    case 7: {
        std::string field = r.str();
        const ElementId id = decode_element_id(r);
        auto v = decode_scalar(r);
        if (v) op = ListSet{std::move(collection), std::move(key), std::move(field), id, std::move(*v)};
        break;
    }
    case 8: op = ListClear{std::move(collection), std::move(key), r.str()}; break;
    default: r.fail();
    }
    if (r.failed()) return std::nullopt;
    return op;
}

RESYNC_FUNC void encode(resync::ByteWriter& w, const Changeset& ops)
#if RESYNC_HEADER_DEFINITIONS
{
    w.u64(ops.size());
    for (const auto& op : ops) encode(w, op);
}
#else
;
#endif

template <class Bytes>
std::optional<Changeset> decode_changeset(resync::BasicByteReader<Bytes>& r) {
    Changeset ops;
    // Smallest operation: kind byte + two empty strings.
    const auto n = r.count(1 + 8 + 8);
    ops.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        auto op = decode_operation(r);
        if (!op) return std::nullopt;
        ops.push_back(std::move(*op));
    }
    if (r.failed()) return std::nullopt;
    return ops;
}

namespace detail {
/// Writes a whole state and calls `after_object()` after each object: a point where the caller
/// may take the bytes encoded so far out of the writer's string.
template <class AfterObject>
void encode_state(resync::ByteWriter& w, const State& s, AfterObject&& after_object) {
    // Empty collections are written too: recovery tells a collection the server emptied from
    // one it no longer has (a destructive schema change).
    w.u64(s.collections.size());
    for (const auto& [name, c] : s.collections) {
        w.str(name);
        w.u64(c.size());
        for (const auto& [key, obj] : c) {
            w.str(key);
            w.u64(obj.size());
            for (const auto& [field, value] : obj) {
                w.str(field);
                encode(w, value);
            }
            after_object();
        }
    }
}
} // namespace detail

RESYNC_FUNC void encode(resync::ByteWriter& w, const State& s)
#if RESYNC_HEADER_DEFINITIONS
{
    detail::encode_state(w, s, [] {});
}
#else
;
#endif

namespace detail {
/// Decodes an object's fields (count, then name and value each) into `obj`; false on any
/// failure, a field named twice included. Null fields are dropped (null is absence).
template <class Bytes>
bool decode_object_fields(resync::BasicByteReader<Bytes>& r, Object& obj) {
    const auto fields = r.count(8 + 1);
    for (std::uint64_t k = 0; k < fields && !r.failed(); ++k) {
        std::string field = r.str();
        auto v = decode_value(r);
        if (!v) return false;
        if (obj.contains(field)) {
            r.fail();
            return false;
        }
        if (!is_null(*v)) obj.emplace(std::move(field), std::move(*v));
    }
    return !r.failed();
}
} // namespace detail

/// Decodes a whole state; a collection or an object key named twice is damage.
template <class Bytes>
std::optional<State> decode_state(resync::BasicByteReader<Bytes>& r) {
    State s;
    const auto collections = r.count(8 + 8);
    for (std::uint64_t i = 0; i < collections && !r.failed(); ++i) {
        auto [c, fresh] = s.collections.try_emplace(r.str());
        if (!fresh) return std::nullopt;
        const auto objects = r.count(8 + 8);
        c->second.reserve(objects);
        for (std::uint64_t j = 0; j < objects && !r.failed(); ++j) {
            std::string key = r.str();
            Object obj;
            if (!detail::decode_object_fields(r, obj)) return std::nullopt;
            if (!c->second.try_emplace(std::move(key), std::move(obj)).second) return std::nullopt;
        }
    }
    if (r.failed()) return std::nullopt;
    return s;
}

/// Magic and format version of an encoded snapshot (a fresh copy, a store saved to disk).
inline constexpr std::string_view snapshot_magic = "RSYNSNAP";
inline constexpr std::uint32_t snapshot_format = 1;

/// Appends a whole state, as a checksummed snapshot, to `out`: encoded in place, no copy.
RESYNC_FUNC void encode_snapshot_into(std::string& out, const State& s)
#if RESYNC_HEADER_DEFINITIONS
{
    const std::size_t start = resync::detail::open_frame(out, snapshot_magic, snapshot_format);
    resync::ByteWriter w(out);
    encode(w, s);
    resync::detail::close_frame(out, start);
}
#else
;
#endif

/// Appends a whole state, as a checksummed snapshot, to `out`, which may write it out in pieces
/// as they are ready: the same bytes as `encode_snapshot`, each read once for the checksum.
RESYNC_FUNC void encode_snapshot_into(resync::ChunkedOutput& out, const State& s)
#if RESYNC_HEADER_DEFINITIONS
{
    const auto frame = resync::detail::open_frame(out, snapshot_magic, snapshot_format);
    resync::ByteWriter w(out.buffer());
    detail::encode_state(w, s, [&] { out.piece_done(); });
    resync::detail::close_frame(out, frame);
}
#else
;
#endif

/// Encodes a whole state as a checksummed snapshot.
RESYNC_FUNC std::string encode_snapshot(const State& s)
#if RESYNC_HEADER_DEFINITIONS
{
    std::string out;
    encode_snapshot_into(out, s);
    return out;
}
#else
;
#endif

} // namespace resync::doc
