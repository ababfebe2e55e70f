#pragma once
/// \file
/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) for integrity checks of files and
/// fresh copies.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace resync::detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}();

/// Continues a CRC-32 over `bytes`; start with `crc = 0`.
inline std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) noexcept {
    crc = ~crc;
    for (unsigned char b : bytes) crc = crc32_table[(crc ^ b) & 0xFFU] ^ (crc >> 8);
    return ~crc;
}

} // namespace resync::detail
