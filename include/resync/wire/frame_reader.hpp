#pragma once
/// \file
/// `wire::FrameReader`: cuts a byte stream (a TCP connection) into whole wire frames. Bytes go in
/// as they arrive, in any cuts; whole frames come out, ready for `wire::decode_client` /
/// `decode_server`. A header that is malformed, from a newer wire format, or announces a frame
/// larger than the reader's maximum is refused as soon as its bytes arrive, before any of its
/// body is buffered.

#include <resync/error.hpp>
#include <resync/wire/format.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace resync::wire {

/// Reassembles wire frames from a byte stream.
///
/// Feed it every byte received, in order (`feed`); take whole frames out (`next`). After an
/// error the stream cannot be trusted any more (there is no way to find the next frame's start
/// in damaged bytes): the reader refuses everything after it, and the connection should be
/// closed. Frames completed before the error can still be taken. The checksum is checked by
/// `open_frame` / the decoders, not here.
class FrameReader {
public:
    /// A reader that accepts frames (header and payload) of at most `max_frame_bytes` bytes.
    explicit FrameReader(std::uint64_t max_frame_bytes = default_max_frame_bytes) noexcept
        : max_frame_bytes_(max_frame_bytes) {}

    /// Takes the next bytes of the stream.
    ///
    /// Effects: completes frames as their last byte arrives. Each header is checked as its bytes
    /// arrive (see `read_header`), so a bad one is refused before any of its body is kept.
    /// Returns the reader's error (`wire_corrupt`, `wire_version_unsupported`,
    /// `wire_frame_too_large`), now or from before; empty while the stream is sound.
    std::error_code feed(std::string_view bytes) {
        while (!error_) {
            if (partial_.size() < header_size) {
                const std::size_t take = std::min(bytes.size(), header_size - partial_.size());
                partial_.append(bytes.substr(0, take));
                bytes.remove_prefix(take);
                auto header = read_header(partial_, max_frame_bytes_);
                if (!header) {
                    if (header.error() == errc::wire_truncated) return {}; // all of `bytes` taken
                    return fail(header.error());
                }
                frame_size_ = header->frame_size();
            }
            // The body grows with the bytes that really arrive: an announced length alone, even
            // a hostile one just under the maximum, reserves nothing.
            const std::uint64_t missing = frame_size_ - partial_.size();
            const std::size_t take = bytes.size() < missing ? bytes.size() : static_cast<std::size_t>(missing);
            partial_.append(bytes.substr(0, take));
            bytes.remove_prefix(take);
            if (partial_.size() < frame_size_) return {};
            frames_.push_back(std::exchange(partial_, std::string()));
            frame_size_ = 0;
            if (bytes.empty()) return {};
        }
        return error_;
    }

    /// The next whole frame, oldest first, or nothing when no frame is complete.
    std::optional<std::string> next() {
        if (frames_.empty()) return std::nullopt;
        std::string f = std::move(frames_.front());
        frames_.pop_front();
        return f;
    }

    /// Says the stream has ended. Returns `wire_truncated` when it ended in the middle of a frame,
    /// the reader's earlier error if it has one, and nothing after a clean end.
    std::error_code finish() const noexcept {
        if (error_) return error_;
        if (!partial_.empty()) return errc::wire_truncated;
        return {};
    }

    /// The reader's error, if it met one; it stays.
    std::error_code error() const noexcept { return error_; }
    /// How many whole frames wait to be taken with `next`.
    std::size_t frames_ready() const noexcept { return frames_.size(); }
    /// Bytes of the frame being received, kept until it is whole.
    std::size_t partial_bytes() const noexcept { return partial_.size(); }
    /// The largest frame this reader accepts.
    std::uint64_t max_frame_bytes() const noexcept { return max_frame_bytes_; }

private:
    std::error_code fail(std::error_code ec) {
        error_ = ec;
        partial_ = std::string(); // nothing of a refused frame is kept
        return error_;
    }

    std::uint64_t max_frame_bytes_;
    std::string partial_;
    std::uint64_t frame_size_ = 0;
    std::deque<std::string> frames_;
    std::error_code error_;
};

} // namespace resync::wire
