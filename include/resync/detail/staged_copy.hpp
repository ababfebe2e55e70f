#pragma once
/// \file
/// `StagedCopy`: a fresh copy as it is fetched, kept in the pieces it arrives in.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resync::detail {

/// The bytes of a fresh copy fetched so far, kept as the pieces that brought them: receiving
/// never copies or reallocates the whole, and a Store that decodes pieces can release each one
/// as it decodes it (so the encoded copy and the decoded state are not both whole at once).
class StagedCopy {
public:
    /// Bytes received so far (where the next piece starts).
    std::uint64_t size() const noexcept { return size_; }

    /// Appends the next piece, taking its memory.
    void append(std::string&& piece) {
        if (piece.empty()) return;
        size_ += piece.size();
        pieces_.push_back(std::move(piece));
    }

    /// Forgets everything received, releasing its memory.
    void clear() noexcept {
        std::vector<std::string>().swap(pieces_);
        size_ = 0;
    }

    /// Takes the pieces out, in order, leaving the copy empty.
    std::vector<std::string> take() noexcept {
        size_ = 0;
        return std::exchange(pieces_, {});
    }

    /// Joins pieces into one string, releasing each once copied: the most held at once is the
    /// whole plus one piece.
    static std::string join(std::vector<std::string>&& pieces) {
        std::size_t total = 0;
        for (const auto& p : pieces) total += p.size();
        std::string whole;
        whole.reserve(total);
        for (auto& p : pieces) {
            whole += p;
            std::string().swap(p);
        }
        std::vector<std::string>().swap(pieces);
        return whole;
    }

private:
    std::vector<std::string> pieces_;
    std::uint64_t size_ = 0;
};

} // namespace resync::detail
