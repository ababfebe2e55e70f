#pragma once
/// \file
/// `PieceBytes`: a byte source for `BasicBinaryReader` over bytes kept in pieces (a fresh copy
/// as it arrived), releasing each piece once it has been read, so decoding never holds the whole
/// encoded copy and the whole decoded state at once.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace resync::detail {

/// Bytes in a sequence of pieces, read front to back; a piece's memory is released as soon as
/// its last byte is read. Move-only: copying would copy the pieces.
class PieceBytes {
public:
    explicit PieceBytes(std::vector<std::string>&& pieces) noexcept : pieces_(std::move(pieces)) {
        for (const auto& p : pieces_) remaining_ += p.size();
        settle();
    }
    PieceBytes(PieceBytes&&) noexcept = default;
    PieceBytes& operator=(PieceBytes&&) noexcept = default;
    PieceBytes(const PieceBytes&) = delete;
    PieceBytes& operator=(const PieceBytes&) = delete;

    std::size_t remaining() const noexcept { return remaining_; }
    /// The next byte, not consumed. Requires `remaining() > 0`.
    unsigned char peek() const noexcept { return static_cast<unsigned char>(pieces_[piece_][pos_]); }
    /// Copies the next `n` bytes to `out`. Requires `n <= remaining()`.
    void read(char* out, std::size_t n) noexcept {
        // Most reads lie within one piece: copy them directly.
        if (piece_ < pieces_.size() && n <= pieces_[piece_].size() - pos_) {
            std::memcpy(out, pieces_[piece_].data() + pos_, n);
            consume(n);
            return;
        }
        while (n > 0) {
            const std::size_t k = std::min(n, pieces_[piece_].size() - pos_);
            std::memcpy(out, pieces_[piece_].data() + pos_, k);
            out += k;
            n -= k;
            consume(k);
        }
    }
    /// The next `n` bytes as a string. Requires `n <= remaining()`.
    std::string take(std::size_t n) {
        if (piece_ < pieces_.size() && n <= pieces_[piece_].size() - pos_) {
            std::string s(pieces_[piece_].data() + pos_, n);
            consume(n);
            return s;
        }
        std::string s(n, '\0');
        read(s.data(), n);
        return s;
    }
    /// Skips the next `n` bytes. Requires `n <= remaining()`.
    void skip(std::size_t n) noexcept {
        while (n > 0) {
            const std::size_t k = std::min(n, pieces_[piece_].size() - pos_);
            n -= k;
            consume(k);
        }
    }

private:
    void consume(std::size_t k) noexcept {
        pos_ += k;
        remaining_ -= k;
        if (pos_ == pieces_[piece_].size()) settle();
    }
    // Releases every piece read to its end, so `pieces_[piece_]` has a byte to read unless
    // everything has been read.
    void settle() noexcept {
        while (piece_ < pieces_.size() && pos_ == pieces_[piece_].size()) {
            std::string().swap(pieces_[piece_]);
            ++piece_;
            pos_ = 0;
        }
    }

    std::vector<std::string> pieces_;
    std::size_t piece_ = 0;
    std::size_t pos_ = 0;
    std::size_t remaining_ = 0;
};

} // namespace resync::detail
