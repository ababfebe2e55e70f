#pragma once
/// \file
/// Field values of the shipped document model: null, bool, int64, double, string.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace resync::doc {

/// The null value; a field holding null is the same as a field that is absent.
using Null = std::monostate;

/// A field value. The alternatives' order is part of the file and wire format: append only.
using Value = std::variant<Null, bool, std::int64_t, double, std::string>;

/// The name of the type a value holds, for reports and error messages.
constexpr std::string_view type_name(const Value& v) noexcept {
    constexpr std::string_view names[] = {"null", "bool", "int", "double", "string"};
    return names[v.index()];
}

inline bool is_null(const Value& v) noexcept { return std::holds_alternative<Null>(v); }

} // namespace resync::doc
