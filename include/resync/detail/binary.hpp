#pragma once
/// \file
/// Little-endian binary writer and a bounds-checked reader. The reader never reads past its
/// input: a short or malformed input sets `failed()` and yields zero values from then on.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace resync::detail {

class BinaryWriter {
public:
    explicit BinaryWriter(std::string& out) : out_(out) {}

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

class BinaryReader {
public:
    explicit BinaryReader(std::string_view in) : in_(in) {}

    bool failed() const noexcept { return failed_; }
    bool at_end() const noexcept { return pos_ == in_.size(); }
    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    void fail() noexcept { failed_ = true; }

    std::uint8_t u8() { return fixed<std::uint8_t>(); }
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
        if (failed_ || n > remaining()) { failed_ = true; return {}; }
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    /// A count of items that each take at least `min_item_bytes`; a count the remaining input
    /// cannot hold fails, so hostile counts never drive huge allocations.
    std::uint64_t count(std::size_t min_item_bytes) {
        std::uint64_t n = u64();
        if (!failed_ && min_item_bytes && n > remaining() / min_item_bytes) failed_ = true;
        return failed_ ? 0 : n;
    }

private:
    template <class U>
    U fixed() {
        if (failed_ || remaining() < sizeof(U)) { failed_ = true; return 0; }
        U v = 0;
        for (std::size_t i = 0; i < sizeof(U); ++i)
            v |= static_cast<U>(static_cast<U>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i));
        pos_ += sizeof(U);
        return v;
    }
    std::string_view in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

} // namespace resync::detail
