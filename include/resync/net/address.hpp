#pragma once
/// \file
/// `net::parse_address`: "host:port" as the TCP client and server take it.

#include <resync/error.hpp>
#include <resync/result.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace resync::net {

/// A host and a port, as written in "host:port" (an IPv6 host in brackets: "[::1]:7000").
struct Address {
    std::string host;
    std::uint16_t port = 0;
};

/// Parses "host:port". Returns `errc::invalid_argument` for a missing host or colon, or a port
/// that is not a number from 0 to 65535 (0 lets a server pick a free port).
inline Result<Address> parse_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return errc::invalid_argument;
    std::string_view host = text.substr(0, colon);
    const std::string_view port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535 || host.empty())
        return errc::invalid_argument;
    return Address{std::string(host), static_cast<std::uint16_t>(value)};
}

} // namespace resync::net
