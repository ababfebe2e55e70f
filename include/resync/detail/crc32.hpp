#pragma once
/// \file
/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) for integrity checks of files and
/// fresh copies. Slice-by-8: eight bytes per step through eight tables (8 KiB), about six times
/// the bytewise loop, since every fresh copy and backup file is checked whole. `crc32_combine`
/// and `crc32_split` join and separate the CRCs of adjacent pieces without reading their bytes
/// again, so a file that nests one checksummed frame in another is read once.

#include <resync/detail/linkage.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace resync::detail {

/// `crc32_tables[0]` is the classic bytewise table; `crc32_tables[k][i]` is the CRC of byte `i`
/// followed by `k` zero bytes, so eight table lookups advance the CRC by eight bytes.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::size_t i = 0; i < 256; ++i) t[k][i] = t[0][t[k - 1][i] & 0xFFU] ^ (t[k - 1][i] >> 8);
    return t;
}();

/// Continues a CRC-32 over `bytes`; start with `crc = 0`.
inline std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) noexcept {
    const auto& t = crc32_tables;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t n = bytes.size();
    crc = ~crc;
    // Bytes are combined explicitly (not loaded as words), so the result is the same on any
    // byte order; g++ and clang fold the shifts into plain loads.
    for (; n >= 8; p += 8, n -= 8) {
        const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                        std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
        const std::uint32_t hi = std::uint32_t{p[4]} | std::uint32_t{p[5]} << 8 |
                                 std::uint32_t{p[6]} << 16 | std::uint32_t{p[7]} << 24;
        crc = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^
              t[3][hi & 0xFFU] ^ t[2][(hi >> 8) & 0xFFU] ^ t[1][(hi >> 16) & 0xFFU] ^ t[0][hi >> 24];
    }
    for (; n > 0; ++p, --n) crc = t[0][(crc ^ *p) & 0xFFU] ^ (crc >> 8);
    return ~crc;
}

namespace crc32_algebra {
// The CRC register as a polynomial over GF(2) modulo the CRC polynomial P, in the reflected bit
// order of the tables above: bit 31 holds the coefficient of x^0, bit 0 that of x^31. Feeding a
// zero bit multiplies the register by x; feeding n zero bytes multiplies it by x^(8n) mod P.

/// a * b mod P.
constexpr std::uint32_t multiply(std::uint32_t a, std::uint32_t b) noexcept {
    std::uint32_t product = 0;
    for (int degree = 0; degree < 32; ++degree) { // b holds (original b) * x^degree mod P
        if (a & (0x80000000U >> degree)) product ^= b;
        b = (b & 1U) ? 0xEDB88320U ^ (b >> 1) : b >> 1;
    }
    return product;
}

/// x^(8 * bytes) mod P, by squaring.
constexpr std::uint32_t x_to_8n(std::uint64_t bytes) noexcept {
    std::uint32_t result = 0x80000000U;  // x^0
    std::uint32_t power = 0x00800000U;   // x^8
    for (; bytes != 0; bytes >>= 1) {
        if (bytes & 1U) result = multiply(result, power);
        power = multiply(power, power);
    }
    return result;
}
} // namespace crc32_algebra

/// The raw CRC register `reg` carried over `bytes` zero bytes (no initial or final inversion):
/// what the register becomes when that many zero bytes follow.
constexpr std::uint32_t crc32_register_over_zeros(std::uint32_t reg, std::uint64_t bytes) noexcept {
    return crc32_algebra::multiply(reg, crc32_algebra::x_to_8n(bytes));
}

/// The CRC-32 of `a` followed by `b`, from `crc_a = crc32(a)`, `crc_b = crc32(b)` and the length
/// of `b` alone: O(log length), no byte read.
constexpr std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) noexcept {
    // With the inversions, crc32(a b) = crc32(b) ^ ((crc32(a) ^ ~0) carried over b's zeros) ^
    // (~0 carried over b's zeros) = crc32(b) ^ (crc32(a) carried over b's zeros).
    return crc_b ^ crc32_register_over_zeros(crc_a, length_b);
}

/// The CRC-32 of `b` alone, from `crc_ab = crc32(a b)`, `crc_a = crc32(a)` and the length of `b`:
/// the inverse of `crc32_combine`.
constexpr std::uint32_t crc32_split(std::uint32_t crc_ab, std::uint32_t crc_a, std::uint64_t length_b) noexcept {
    return crc_ab ^ crc32_register_over_zeros(crc_a, length_b);
}

/// What changing the bytes at one place does to a CRC-32: `crc32(m')` = `crc32(m) ^
/// crc32_change(x, after)` where `m'` is `m` with `x` XORed into it at some offset and `after`
/// bytes following `x`'s end. For a field written as zeros, then filled in with `x`.
RESYNC_FUNC std::uint32_t crc32_change(std::string_view x, std::uint64_t after) noexcept
#if RESYNC_HEADER_DEFINITIONS
{
    // The raw register of x alone from zero: crc32 with the inversions undone.
    const std::uint32_t raw = ~crc32(x, 0xFFFFFFFFU);
    return crc32_register_over_zeros(raw, after);
}
#else
;
#endif

} // namespace resync::detail
