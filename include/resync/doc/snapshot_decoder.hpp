#pragma once
/// \file
/// `doc::SnapshotDecoder`: decodes an encoded snapshot (a fresh copy) fed in pieces, a bounded
/// number of objects per step, so a budgeted reset never decodes a whole large copy in one
/// `poll()` and never holds the whole encoded copy and the whole decoded state at once.

#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/linkage.hpp>
#include <resync/doc/state.hpp>
#include <resync/error.hpp>
#include <resync/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// What only the member functions' definitions use (see <resync/detail/linkage.hpp>).
#if RESYNC_HEADER_DEFINITIONS
#include <resync/detail/crc32.hpp>
#include <resync/doc/codec.hpp>

#include <algorithm>
#include <utility>
#endif

namespace resync::doc {

/// Decodes a snapshot made by `encode_snapshot` from the pieces it arrives in.
///
/// `feed()` the bytes in order (any cut), `step(n)` decodes up to `n` more objects from what was
/// fed, and once every byte has been fed, `finish()` says whether the snapshot is whole. Errors
/// are those of `decode_snapshot` on the same bytes joined: `fresh_copy_truncated` when the
/// input ends early, `fresh_copy_corrupt` for any other damage (checksum, structure, duplicate
/// keys or list elements, bytes beyond the announced size).
class SnapshotDecoder {
public:
    /// Appends the next bytes of the encoding, taking their memory when nothing is pending.
    void feed(std::string&& bytes);
    void feed(std::string_view bytes);

    /// Decodes up to `max_objects` more objects from the bytes fed so far. Returns true once the
    /// whole snapshot is decoded and its checksum matches; false while more bytes are needed (or
    /// a damage is known but the input is not yet complete: the error then comes when it is,
    /// so that a short input is reported as short however it was cut); an error when damaged.
    Result<bool> step(std::size_t max_objects);

    /// Called once every byte was fed: true when the snapshot is whole, else its error.
    Result<bool> finish();

    bool done() const noexcept { return done_; }
    /// Objects decoded so far.
    std::size_t objects() const noexcept { return objects_; }
    /// Bytes fed so far, and the total the header announces (0 until the header is read).
    std::uint64_t bytes_fed() const noexcept { return fed_; }
    std::uint64_t bytes_total() const noexcept { return header_ ? resync::detail::frame_header_size + declared_ : 0; }

    /// Hands over what was decoded since the last call, for a store that writes a copy out as it
    /// decodes (so the decoded state is never whole in memory): `on_collection(name)` for every
    /// collection met so far (empty ones included), then `on_object(collection, key, Object&&)`
    /// for each object decoded since. Decoding goes on after it. Objects handed over are no
    /// longer checked for a duplicate key: the receiver checks (a database's primary key).
    template <class OnCollection, class OnObject>
    void drain(OnCollection&& on_collection, OnObject&& on_object) {
        for (auto& [name, collection] : state_.collections) {
            on_collection(std::string_view(name));
            for (auto& [key, object] : collection) on_object(std::string_view(name), std::string_view(key), std::move(object));
            collection.clear();
        }
    }

    /// The decoded state (valid once `done()`), leaving the decoder empty.
    State take();

private:
    void read_header();

    void take_collection_count(ByteReader& r);

    // The checksum covers the payload; it is computed as bytes arrive (each byte once).
    void checksum_new_bytes();

    std::uint64_t consumed_payload() const noexcept;
    std::uint64_t remaining_payload(const ByteReader& r) const noexcept;
    bool complete() const noexcept;

    // A read that ran out of fed bytes waits for more (unless all were fed); any other failure,
    // or running out with nothing more to come, is damage.
    Result<bool> wait_or_fail(const ByteReader& r);
    Result<bool> damage();
    errc damage_now();
    Result<bool> header_error() const;

    // Drops decoded bytes from the buffer once they are the larger part of it.
    void release_consumed();

    std::string buffer_;
    std::size_t pos_ = 0;            ///< the next byte of `buffer_` to decode
    std::uint64_t fed_ = 0;          ///< bytes fed in all (header included)
    bool header_ = false;
    bool header_failed_ = false;
    bool collections_pending_ = false;
    bool damaged_ = false;
    bool done_ = false;
    std::uint64_t declared_ = 0;     ///< payload size announced by the header
    std::uint32_t expected_crc_ = 0;
    std::uint32_t crc_ = 0;
    std::uint64_t checksummed_ = 0;  ///< payload bytes checksummed so far
    std::uint64_t collections_left_ = 0;
    std::uint64_t objects_left_ = 0;
    Collection* current_ = nullptr;
    std::size_t objects_ = 0;
    State state_;
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC void SnapshotDecoder::feed(std::string&& bytes) {
    if (bytes.empty()) return;
    fed_ += bytes.size();
    if (pos_ == buffer_.size()) {
        buffer_ = std::move(bytes);
        pos_ = 0;
    } else {
        buffer_.erase(0, pos_);
        pos_ = 0;
        buffer_ += bytes;
    }
    read_header();
    checksum_new_bytes();
}

RESYNC_FUNC void SnapshotDecoder::feed(std::string_view bytes) {
    feed(std::string(bytes));
}

RESYNC_FUNC Result<bool> SnapshotDecoder::step(std::size_t max_objects) {
    // Bytes beyond the announced size are damage, also after the last object was decoded.
    if (header_ && fed_ > resync::detail::frame_header_size + declared_) return errc::fresh_copy_corrupt;
    if (done_) return true;
    if (!header_ || damaged_ || collections_pending_)
        return damaged_ && complete() ? Result<bool>(errc::fresh_copy_corrupt) : Result<bool>(false);
    for (std::size_t n = 0; n < max_objects;) {
        if (collections_left_ == 0 && objects_left_ == 0) break;
        ByteReader r(std::string_view(buffer_).substr(pos_));
        if (objects_left_ == 0) {
            // The next collection's name and object count.
            std::string name = r.str();
            const std::uint64_t objects = r.u64();
            if (r.failed()) return wait_or_fail(r);
            if (objects > remaining_payload(r) / (8 + 8)) return damage();
            auto [it, inserted] = state_.collections.try_emplace(std::move(name));
            if (!inserted) return damage(); // a collection named twice
            current_ = &it->second;
            // Room for what the bytes at hand can hold: a hostile size in the header must not
            // make a count drive the allocation.
            const std::uint64_t at_hand = (buffer_.size() - pos_) / (8 + 8);
            current_->reserve(static_cast<std::size_t>(std::min<std::uint64_t>(objects, at_hand)));
            objects_left_ = objects;
            --collections_left_;
        } else {
            std::string key = r.str();
            Object object;
            if (!detail::decode_object_fields(r, object)) return wait_or_fail(r);
            if (!current_->try_emplace(std::move(key), std::move(object)).second) return damage();
            --objects_left_;
            ++objects_;
            ++n;
        }
        pos_ += r.consumed();
    }
    release_consumed();
    if (collections_left_ != 0 || objects_left_ != 0) return false;
    // Every object decoded: the payload must end here, and its checksum must match.
    if (consumed_payload() != declared_) return complete() ? Result<bool>(damage_now()) : Result<bool>(false);
    if (crc_ != expected_crc_) return errc::fresh_copy_corrupt;
    done_ = true;
    return true;
}

RESYNC_FUNC Result<bool> SnapshotDecoder::finish() {
    auto r = step(static_cast<std::size_t>(-1));
    if (!r) return r.error();
    if (*r) return true;
    if (!header_) return header_error();
    return fed_ < resync::detail::frame_header_size + declared_ ? errc::fresh_copy_truncated : errc::fresh_copy_corrupt;
}

RESYNC_FUNC State SnapshotDecoder::take() {
    return std::exchange(state_, State{});
}

RESYNC_FUNC void SnapshotDecoder::read_header() {
    if (header_ || header_failed_ || fed_ < resync::detail::frame_header_size) {
        if (!header_ && fed_ >= 8 && std::string_view(buffer_).substr(0, 8) != snapshot_magic.substr(0, 8))
            header_failed_ = true;
        return;
    }
    std::uint32_t crc = 0;
    const auto head = std::string_view(buffer_).substr(0, resync::detail::frame_header_size);
    // The header alone, with a body as long as it announces: only magic and version are judged here.
    const auto h = resync::detail::check_frame_header(head, 0, snapshot_magic, snapshot_format, crc);
    if (h.status == resync::detail::FrameStatus::bad_magic || h.status == resync::detail::FrameStatus::newer_version) {
        header_failed_ = true;
        return;
    }
    header_ = true;
    declared_ = h.declared_size;
    expected_crc_ = crc;
    pos_ = resync::detail::frame_header_size;
    checksummed_ = 0;
    ByteReader r(std::string_view(buffer_).substr(pos_));
    collections_left_ = r.u64();
    if (r.failed()) {
        // The collection count is not in yet: it is read by the first step.
        collections_pending_ = true;
        return;
    }
    take_collection_count(r);
}

RESYNC_FUNC void SnapshotDecoder::take_collection_count(ByteReader& r) {
    collections_pending_ = false;
    pos_ += r.consumed();
    if (collections_left_ > declared_ / (8 + 8)) damaged_ = true;
}

RESYNC_FUNC void SnapshotDecoder::checksum_new_bytes() {
    if (!header_) return;
    const std::uint64_t payload_fed = fed_ - resync::detail::frame_header_size;
    const std::uint64_t upto = std::min<std::uint64_t>(payload_fed, declared_);
    if (upto <= checksummed_) return;
    // Bytes of the payload not yet checksummed are at the end of the buffer.
    const std::uint64_t fresh = upto - checksummed_;
    const std::uint64_t beyond = payload_fed - upto; // bytes past the declared payload
    const std::size_t end = buffer_.size() - static_cast<std::size_t>(beyond);
    crc_ = resync::detail::crc32(std::string_view(buffer_).substr(end - static_cast<std::size_t>(fresh), fresh), crc_);
    checksummed_ = upto;
    if (collections_pending_) {
        ByteReader r(std::string_view(buffer_).substr(pos_));
        collections_left_ = r.u64();
        if (!r.failed()) take_collection_count(r);
    }
}

RESYNC_FUNC std::uint64_t SnapshotDecoder::consumed_payload() const noexcept {
    return fed_ - (buffer_.size() - pos_) - resync::detail::frame_header_size;
}

RESYNC_FUNC std::uint64_t SnapshotDecoder::remaining_payload(const ByteReader& r) const noexcept {
    const std::uint64_t at = consumed_payload() + r.consumed();
    return at >= declared_ ? 0 : declared_ - at;
}

RESYNC_FUNC bool SnapshotDecoder::complete() const noexcept {
    return header_ ? fed_ >= resync::detail::frame_header_size + declared_ : false;
}

RESYNC_FUNC Result<bool> SnapshotDecoder::wait_or_fail(const ByteReader& r) {
    if (r.exhausted() && !complete()) return false;
    return damage();
}

RESYNC_FUNC Result<bool> SnapshotDecoder::damage() {
    damaged_ = true;
    return complete() ? Result<bool>(errc::fresh_copy_corrupt) : Result<bool>(false);
}

RESYNC_FUNC errc SnapshotDecoder::damage_now() {
    damaged_ = true;
    return errc::fresh_copy_corrupt;
}

RESYNC_FUNC Result<bool> SnapshotDecoder::header_error() const {
    const std::string_view got = std::string_view(buffer_).substr(0, std::min<std::size_t>(buffer_.size(), 8));
    if (header_failed_ || got != snapshot_magic.substr(0, got.size())) return errc::fresh_copy_corrupt;
    return errc::fresh_copy_truncated;
}

RESYNC_FUNC void SnapshotDecoder::release_consumed() {
    if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
}

#endif // RESYNC_HEADER_DEFINITIONS

} // namespace resync::doc

namespace resync::doc {

/// Decodes a snapshot made by `encode_snapshot`. A short input is `fresh_copy_truncated`; any
/// other damage is `fresh_copy_corrupt`.
RESYNC_FUNC Result<State> decode_snapshot(std::string_view bytes)
#if RESYNC_HEADER_DEFINITIONS
{
    SnapshotDecoder d;
    d.feed(bytes);
    auto r = d.finish();
    if (!r) return r.error();
    return d.take();
}
#else
;
#endif

/// Decodes a snapshot kept in pieces (as it arrived), with the same checks and errors as
/// `decode_snapshot` of the pieces joined, releasing each piece once decoded: the encoded copy
/// and the decoded state are never both whole in memory. The pieces are consumed either way.
RESYNC_FUNC Result<State> decode_snapshot(std::vector<std::string>&& pieces)
#if RESYNC_HEADER_DEFINITIONS
{
    SnapshotDecoder d;
    for (auto& piece : pieces) {
        d.feed(std::exchange(piece, std::string()));
        auto r = d.step(static_cast<std::size_t>(-1));
        if (!r) {
            std::vector<std::string>().swap(pieces);
            return r.error();
        }
    }
    std::vector<std::string>().swap(pieces);
    auto r = d.finish();
    if (!r) return r.error();
    return d.take();
}
#else
;
#endif

} // namespace resync::doc
