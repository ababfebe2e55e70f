#pragma once
/// \file
/// Binary encoding of the document model: values, operations, changesets and whole states.
/// Decoding is total: any input, however malformed, yields either a value or `std::nullopt`.

#include <resync/detail/binary.hpp>
#include <resync/detail/frame.hpp>
#include <resync/error.hpp>
#include <resync/model/operation.hpp>
#include <resync/model/state.hpp>
#include <resync/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace resync::doc {

inline void encode(resync::detail::BinaryWriter& w, const Value& v) {
    w.u8(static_cast<std::uint8_t>(v.index()));
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>) w.u8(x ? 1 : 0);
            else if constexpr (std::is_same_v<T, std::int64_t>) w.i64(x);
            else if constexpr (std::is_same_v<T, double>) w.f64(x);
            else if constexpr (std::is_same_v<T, std::string>) w.str(x);
        },
        v);
}

inline std::optional<Value> decode_value(resync::detail::BinaryReader& r) {
    switch (r.u8()) {
    case 0: return Value{Null{}};
    case 1: {
        auto b = r.u8();
        if (b > 1) r.fail();
        return Value{b == 1};
    }
    case 2: return Value{r.i64()};
    case 3: return Value{r.f64()};
    case 4: return Value{r.str()};
    default: r.fail(); return std::nullopt;
    }
}

inline void encode(resync::detail::BinaryWriter& w, const Operation& op) {
    w.u8(static_cast<std::uint8_t>(op.index()));
    std::visit(
        [&](const auto& o) {
            using T = std::decay_t<decltype(o)>;
            w.str(o.collection);
            w.str(o.key);
            if constexpr (std::is_same_v<T, SetField>) {
                w.str(o.field);
                encode(w, o.value);
            } else if constexpr (std::is_same_v<T, AddInteger>) {
                w.str(o.field);
                w.i64(o.delta);
            }
        },
        op);
}

inline std::optional<Operation> decode_operation(resync::detail::BinaryReader& r) {
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
    default: r.fail();
    }
    if (r.failed()) return std::nullopt;
    return op;
}

inline void encode(resync::detail::BinaryWriter& w, const Changeset& ops) {
    w.u64(ops.size());
    for (const auto& op : ops) encode(w, op);
}

inline std::optional<Changeset> decode_changeset(resync::detail::BinaryReader& r) {
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

inline void encode(resync::detail::BinaryWriter& w, const State& s) {
    std::uint64_t non_empty = 0;
    for (const auto& [name, c] : s.collections) non_empty += !c.empty();
    w.u64(non_empty);
    for (const auto& [name, c] : s.collections) {
        if (c.empty()) continue;
        w.str(name);
        w.u64(c.size());
        for (const auto& [key, obj] : c) {
            w.str(key);
            w.u64(obj.size());
            for (const auto& [field, value] : obj) {
                w.str(field);
                encode(w, value);
            }
        }
    }
}

inline std::optional<State> decode_state(resync::detail::BinaryReader& r) {
    State s;
    const auto collections = r.count(8 + 8);
    for (std::uint64_t i = 0; i < collections && !r.failed(); ++i) {
        auto& c = s.collections[r.str()];
        const auto objects = r.count(8 + 8);
        c.reserve(objects);
        for (std::uint64_t j = 0; j < objects && !r.failed(); ++j) {
            std::string key = r.str();
            Object obj;
            const auto fields = r.count(8 + 1);
            for (std::uint64_t k = 0; k < fields && !r.failed(); ++k) {
                std::string field = r.str();
                auto v = decode_value(r);
                if (!v) break;
                if (!is_null(*v)) obj.insert_or_assign(std::move(field), std::move(*v));
            }
            c.insert_or_assign(std::move(key), std::move(obj));
        }
    }
    if (r.failed()) return std::nullopt;
    return s;
}

/// Magic and format version of an encoded snapshot (a fresh copy, a store saved to disk).
inline constexpr std::string_view snapshot_magic = "RSYNSNAP";
inline constexpr std::uint32_t snapshot_format = 1;

/// Encodes a whole state as a checksummed snapshot.
inline std::string encode_snapshot(const State& s) {
    std::string payload;
    resync::detail::BinaryWriter w(payload);
    encode(w, s);
    return resync::detail::frame(snapshot_magic, snapshot_format, payload);
}

/// Decodes a snapshot made by `encode_snapshot`. A short input is `fresh_copy_truncated`; any
/// other damage is `fresh_copy_corrupt`.
inline Result<State> decode_snapshot(std::string_view bytes) {
    using resync::detail::FrameStatus;
    auto f = resync::detail::unframe(bytes, snapshot_magic, snapshot_format);
    if (f.status == FrameStatus::truncated) return errc::fresh_copy_truncated;
    if (f.status != FrameStatus::ok) return errc::fresh_copy_corrupt;
    resync::detail::BinaryReader r(f.payload);
    auto s = decode_state(r);
    if (!s || !r.at_end()) return errc::fresh_copy_corrupt;
    return std::move(*s);
}

} // namespace resync::doc
