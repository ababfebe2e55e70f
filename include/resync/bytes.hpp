#pragma once
/// \file
/// `ByteWriter` and `ByteReader`: the little-endian binary encoding every resync format is written
/// in (backup files, fresh copies, the wire), and that a user's `Model` encodes its operations
/// and snapshots with. The reader never reads past its input: a short or malformed input sets
/// `failed()` and yields zero values from then on.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace resync {

/// Appends little-endian integers, IEEE doubles and length-prefixed strings to a string.
class ByteWriter {
public:
    explicit ByteWriter(std::string& out) : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) { fixed(v); }
    void u64(std::uint64_t v) { fixed(v); }
    void i64(std::int64_t v) { fixed(static_cast<std::uint64_t>(v)); }
    void f64(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        fixed(bits);
    }
    void str(std::string_view s) {
        u64(s.size());
        out_.append(s);
    }
    void raw(std::string_view s) { out_.append(s); }

private:
    template <class U>
    void fixed(U v) {
        char bytes[sizeof(U)];
        for (std::size_t i = 0; i < sizeof(U); ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
        out_.append(bytes, sizeof(U));
    }
    std::string& out_;
};

/// Bytes in one contiguous buffer: the byte source a `ByteReader` reads by default.
class ContiguousBytes {
public:
    explicit ContiguousBytes(std::string_view in) noexcept : in_(in) {}

    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    /// The next byte, not consumed. Requires `remaining() > 0`.
    unsigned char peek() const noexcept { return static_cast<unsigned char>(in_[pos_]); }
    /// Copies the next `n` bytes to `out`. Requires `n <= remaining()`.
    void read(char* out, std::size_t n) noexcept {
        std::memcpy(out, in_.data() + pos_, n);
        pos_ += n;
    }
    /// The next `n` bytes as a string. Requires `n <= remaining()`.
    std::string take(std::size_t n) {
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

/// The bounds-checked reader, over any byte source with `remaining()`, `peek()`, `read(out, n)`
/// and `take(n)`.
template <class Bytes>
class BasicByteReader {
public:
    template <class... A>
        requires std::constructible_from<Bytes, A&&...>
    explicit BasicByteReader(A&&... in) : in_(std::forward<A>(in)...) {}

    /// Whether a read failed (short input, or a value the caller rejected with `fail()`).
    bool failed() const noexcept { return failed_; }
    /// Whether a read failed because the input ended before the value did, or a count needs more
    /// input than remains (as opposed to a malformed value): a decoder fed in slices waits for
    /// more bytes instead of giving up.
    bool exhausted() const noexcept { return exhausted_; }
    bool at_end() const noexcept { return in_.remaining() == 0; }
    std::size_t remaining() const noexcept { return in_.remaining(); }
    /// Bytes read so far (whether or not the reads succeeded).
    std::size_t consumed() const noexcept { return consumed_; }
    void fail() noexcept { failed_ = true; }

    std::uint8_t u8() { return fixed<std::uint8_t>(); }
    /// The next byte without consuming it; 0 after a failure or at the end (where the next read
    /// fails).
    std::uint8_t peek_u8() const { return failed_ || remaining() < 1 ? 0 : in_.peek(); }
    std::uint32_t u32() { return fixed<std::uint32_t>(); }
    std::uint64_t u64() { return fixed<std::uint64_t>(); }
    std::int64_t i64() { return static_cast<std::int64_t>(fixed<std::uint64_t>()); }
    double f64() {
        std::uint64_t bits = fixed<std::uint64_t>();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    /// A length-prefixed string; a length beyond the input fails instead of allocating.
    std::string str() {
        std::uint64_t n = u64();
        if (failed_) return {};
        if (n > remaining()) {
            failed_ = exhausted_ = true;
            return {};
        }
        consumed_ += static_cast<std::size_t>(n);
        return in_.take(static_cast<std::size_t>(n));
    }
    /// A count of items that each take at least `min_item_bytes`; a count the remaining input
    /// cannot hold fails, so hostile counts never drive huge allocations.
    std::uint64_t count(std::size_t min_item_bytes) {
        std::uint64_t n = u64();
        // Counted as running out of input: with more input to come, the items may yet fit.
        if (!failed_ && min_item_bytes && n > remaining() / min_item_bytes) failed_ = exhausted_ = true;
        return failed_ ? 0 : n;
    }

private:
    template <class U>
    U fixed() {
        if (failed_) return 0;
        if (remaining() < sizeof(U)) {
            failed_ = exhausted_ = true;
            return 0;
        }
        char bytes[sizeof(U)];
        in_.read(bytes, sizeof(U));
        consumed_ += sizeof(U);
        U v = 0;
        for (std::size_t i = 0; i < sizeof(U); ++i)
            v |= static_cast<U>(static_cast<U>(static_cast<unsigned char>(bytes[i])) << (8 * i));
        return v;
    }
    Bytes in_;
    bool failed_ = false;
    bool exhausted_ = false;
    std::size_t consumed_ = 0;
};

/// The reader over contiguous bytes.
using ByteReader = BasicByteReader<ContiguousBytes>;

} // namespace resync
