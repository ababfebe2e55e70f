#pragma once
/// \file
/// `ChunkedOutput`: bytes encoded into a buffer and, when it is bound to a file, written out in
/// pieces as they are ready, so that a large file never sits whole in memory; with a running
/// CRC-32 (each byte read once), and fields written as zeros and filled in later (in the buffer,
/// or with `pwrite` once written out). `backup::File` writes through one, and a model's
/// `encode_snapshot_into(ChunkedOutput&, const snapshot_type&)` (the concept
/// `encodes_snapshots_in_pieces`) encodes its state into it.

#include <resync/bytes.hpp>
#include <resync/detail/crc32.hpp>
#include <resync/detail/linkage.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace resync {

/// A point of a `ChunkedOutput`: its offset, and the CRC-32 of every byte before it.
struct CrcMark {
    std::uint64_t offset = 0;
    std::uint32_t crc_before = 0;
};

class ChunkedOutput {
public:
    /// The whole output kept in `buffer()`.
    ChunkedOutput() = default;

    /// Output written to `fd` from its current position (offset 0 of this output) in pieces of
    /// about `piece_size` bytes. Each piece written is handed to the disk at once (on Linux), so
    /// the final fsync waits for the last piece only. `fd` is not closed; it must not be opened
    /// with O_APPEND (fields are filled in with `pwrite`).
    ChunkedOutput(int fd, std::size_t piece_size);

    /// The bytes not written out yet: append to it (with a `ByteWriter`). Always the same string.
    std::string& buffer() noexcept { return buffer_; }

    /// Bytes output so far: the offset of the next byte.
    std::uint64_t size() const noexcept { return written_ + buffer_.size(); }

    /// A point where the bytes so far may be written out: writes them once they fill a piece.
    void piece_done() {
        if (fd_ >= 0 && buffer_.size() >= piece_size_) write_out();
    }

    /// Gives the field at `at`, written as `bytes.size()` zero bytes before, its value.
    void fill_in(std::uint64_t at, std::string_view bytes);

    /// The current point, for `crc_since`.
    CrcMark mark();

    /// The CRC-32 of the bytes from `from` to here, filled-in fields as filled in.
    std::uint32_t crc_since(const CrcMark& from);

    /// Writes what is left (when bound to a file). Returns the first error of any write.
    std::error_code finish();

private:
    struct Change {
        std::uint64_t at = 0;
        std::uint64_t end = 0;
        std::uint32_t raw_crc = 0; ///< the raw CRC register of the bytes filled in
    };

    std::uint64_t checksummed_end() const noexcept { return written_ + checksummed_; }
    void checksum_pending();
    void write_out();
    std::error_code write_at(std::string_view bytes, std::uint64_t at);
    void overwrite(std::uint64_t at, std::string_view bytes);

    int fd_ = -1;
    std::size_t piece_size_ = 0;
    std::string buffer_;
    std::uint64_t written_ = 0;     ///< bytes written out, before `buffer_[0]`
    std::size_t checksummed_ = 0;   ///< bytes of `buffer_` in `crc_`
    std::uint32_t crc_ = 0;         ///< CRC-32 of the first `checksummed_end()` bytes, as written then
    std::vector<Change> changes_;   ///< fields filled in after their zeros were checksummed
    std::error_code error_;
};

#if RESYNC_HEADER_DEFINITIONS
RESYNC_FUNC ChunkedOutput::ChunkedOutput(int fd, std::size_t piece_size) : fd_(fd), piece_size_(piece_size) {
    // Room for a piece and the object that ends it, so the buffer is allocated once.
    buffer_.reserve(piece_size + piece_size / 8);
}

RESYNC_FUNC void ChunkedOutput::fill_in(std::uint64_t at, std::string_view bytes) {
    const std::uint64_t end = at + bytes.size();
    if (end > checksummed_end()) {
        if (at >= checksummed_end()) return overwrite(at, bytes); // checksummed later, as filled in
        checksum_pending();
    }
    // The zeros went into the CRC: its change is applied when a CRC over the field is asked for.
    changes_.push_back(Change{at, end, detail::crc32_change(bytes, 0)});
    overwrite(at, bytes);
}

RESYNC_FUNC CrcMark ChunkedOutput::mark() {
    checksum_pending();
    return CrcMark{size(), crc_};
}

RESYNC_FUNC std::uint32_t ChunkedOutput::crc_since(const CrcMark& from) {
    checksum_pending();
    const std::uint64_t end = size();
    std::uint32_t crc = detail::crc32_split(crc_, from.crc_before, end - from.offset);
    for (const auto& c : changes_)
        if (c.at >= from.offset) crc ^= detail::crc32_register_over_zeros(c.raw_crc, end - c.end);
    return crc;
}

RESYNC_FUNC std::error_code ChunkedOutput::finish() {
    if (fd_ >= 0 && !buffer_.empty()) write_out();
    return error_;
}

RESYNC_FUNC void ChunkedOutput::checksum_pending() {
    crc_ = detail::crc32(std::string_view(buffer_).substr(checksummed_), crc_);
    checksummed_ = buffer_.size();
}

RESYNC_FUNC void ChunkedOutput::write_out() {
    checksum_pending();
    if (!error_) error_ = write_at(buffer_, written_);
#ifdef SYNC_FILE_RANGE_WRITE
    // Start the disk on this piece now (no waiting): the fsync finds most of the file written.
    if (!error_)
        ::sync_file_range(fd_, static_cast<::off_t>(written_), static_cast<::off_t>(buffer_.size()),
                          SYNC_FILE_RANGE_WRITE);
#endif
    written_ += buffer_.size();
    buffer_.clear();
    checksummed_ = 0;
}

RESYNC_FUNC std::error_code ChunkedOutput::write_at(std::string_view bytes, std::uint64_t at) {
    while (!bytes.empty()) {
        const ::ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<::off_t>(at));
        if (n < 0) {
            if (errno == EINTR) continue;
            return {errno, std::generic_category()};
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
        at += static_cast<std::uint64_t>(n);
    }
    return {};
}

RESYNC_FUNC void ChunkedOutput::overwrite(std::uint64_t at, std::string_view bytes) {
    if (at < written_) { // the part already written out
        const std::size_t in_file = static_cast<std::size_t>(std::min<std::uint64_t>(written_ - at, bytes.size()));
        if (!error_) error_ = write_at(bytes.substr(0, in_file), at);
        bytes.remove_prefix(in_file);
        at += in_file;
    }
    if (!bytes.empty()) std::memcpy(buffer_.data() + (at - written_), bytes.data(), bytes.size());
}
#endif

} // namespace resync
