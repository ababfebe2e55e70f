#pragma once
/// \file
/// What the fuzz targets share: the layout of a fuzz input for a checksummed format, a check
/// that aborts (so libFuzzer saves the input), and canonical encodings that compare decoded
/// values bit for bit.

#include <resync/backup/file_format.hpp>
#include <resync/doc/model.hpp>
#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/state.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

/// Aborts with the failed condition when `cond` is false: libFuzzer reports the abort as a
/// crash and saves the input. Not `assert`, which a build with NDEBUG would drop.
#define RESYNC_FUZZ_CHECK(cond)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace resync_fuzz {

/// A fuzz input for a checksummed (framed) format, as a target sees it:
///
///   byte 0       control. Bit 0 set: the rest is a payload, which the target frames with the
///                right magic, version and CRC-32 before decoding it - a mutation almost never
///                keeps a checksum valid, so without this the decoders behind the frame would go
///                untested. Bit 0 clear: the rest is the whole encoding, decoded as given (this
///                fuzzes the frame checks). Bits 1-3: how many cut points follow (0-7), for the
///                targets that decode pieces; the others ignore these bits.
///   2 bytes each the cut points, little-endian, each taken modulo (size of the bytes + 1).
///   the rest     the bytes.
///
/// `fuzz/make_seeds.cpp` writes its seeds in this layout.
struct FramedInput {
    bool ok = false;                ///< false: too short for the cut points it announces
    std::string bytes;              ///< what the decoder gets (framed when the control says so)
    std::vector<std::size_t> cuts;  ///< sorted cut points into `bytes`, repeats allowed

    /// `bytes` cut at `cuts` (empty pieces included: a fresh copy can arrive so).
    std::vector<std::string> pieces() const {
        std::vector<std::string> out;
        std::size_t from = 0;
        for (std::size_t cut : cuts) {
            out.push_back(bytes.substr(from, cut - from));
            from = cut;
        }
        out.push_back(bytes.substr(from));
        return out;
    }
};

/// Control byte bit 0: frame the rest as a payload.
inline constexpr std::uint8_t frame_payload = 1;

/// Reads a fuzz input in the layout above, for a format with this `magic` and `version`.
inline FramedInput read_framed_input(const std::uint8_t* data, std::size_t size, std::string_view magic,
                                     std::uint32_t version, bool with_cuts) {
    FramedInput in;
    if (size == 0) {
        in.ok = true;
        return in;
    }
    const std::uint8_t control = data[0];
    std::size_t at = 1;
    std::vector<std::uint16_t> raw_cuts;
    if (with_cuts) {
        const std::size_t n = (control >> 1) & 7U;
        if (size < at + 2 * n) return in;
        for (std::size_t i = 0; i < n; ++i, at += 2)
            raw_cuts.push_back(static_cast<std::uint16_t>(data[at] | (data[at + 1] << 8)));
    }
    const std::string_view rest(reinterpret_cast<const char*>(data + at), size - at);
    in.bytes = (control & frame_payload) ? resync::detail::frame(magic, version, rest) : std::string(rest);
    for (std::uint16_t c : raw_cuts) in.cuts.push_back(c % (in.bytes.size() + 1));
    std::sort(in.cuts.begin(), in.cuts.end());
    in.ok = true;
    return in;
}

/// A state's canonical encoding: collections by name, objects by key, fields by name, doubles
/// bit for bit, empty collections left out. Two states are equal (as `==` says, except that a
/// NaN equals itself here) exactly when their canonical encodings are; `doc::encode` does not
/// do for this, since it writes a collection's objects in hash-table order.
inline std::string canonical(const resync::doc::State& s) {
    std::string out;
    resync::ByteWriter w(out);
    for (const auto& [name, collection] : s.collections) {
        if (collection.empty()) continue;
        w.str(name);
        std::vector<const resync::doc::Collection::value_type*> objects;
        for (const auto& entry : collection) objects.push_back(&entry);
        std::sort(objects.begin(), objects.end(), [](auto* a, auto* b) { return a->first < b->first; });
        w.u64(objects.size());
        for (const auto* entry : objects) {
            w.str(entry->first);
            w.u64(entry->second.size());
            for (const auto& [field, value] : entry->second) {
                w.str(field);
                resync::doc::encode(w, value);
            }
        }
    }
    return out;
}

/// A changeset's encoding (vectors have one order, so `doc::encode` is canonical here).
inline std::string canonical(const resync::doc::Changeset& ops) {
    std::string out;
    resync::ByteWriter w(out);
    resync::doc::encode(w, ops);
    return out;
}

/// A backup's canonical encoding: `backup_format::encode` with the state made canonical.
inline std::string canonical(const resync::BackupContents<resync::doc::Model>& b) {
    std::string out;
    resync::ByteWriter w(out);
    w.i64(b.created_at_ms);
    resync::detail::encode(w, b.sync_state);
    resync::detail::encode(w, b.trigger);
    w.str(canonical(b.state));
    w.u64(b.unsynced.size());
    for (const auto& cs : b.unsynced) {
        w.u64(cs.client_version);
        w.u64(cs.server_version);
        w.str(canonical(cs.ops));
    }
    return out;
}

} // namespace resync_fuzz
