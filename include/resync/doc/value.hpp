#pragma once
/// \file
/// Field values of the shipped document model: null, bool, int64, double, string, and lists of
/// those scalars whose elements have identity.

#include <resync/detail/linkage.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace resync::doc {

/// The null value; a field holding null is the same as a field that is absent.
using Null = std::monostate;

/// A value a list element can hold. The alternatives' order is part of the file and wire
/// format: append only.
using Scalar = std::variant<Null, bool, std::int64_t, double, std::string>;

/// The identity of a list element: the replica that inserted it and a sequence number there.
/// Operations name elements by identity, never by index, so a list edit means the same thing on
/// every replica however the list changed meanwhile.
struct ElementId {
    std::uint64_t replica = 0;
    std::uint64_t seq = 0;
    friend auto operator<=>(const ElementId&, const ElementId&) = default;
};

/// One list element.
struct Element {
    ElementId id;
    Scalar value;
    friend bool operator==(const Element&, const Element&) = default;
};

/// A list of scalars with element identity.
struct List {
    std::vector<Element> elements;
    friend bool operator==(const List&, const List&) = default;

    /// The element's position, or `elements.size()` when it is not in the list.
    std::size_t index_of(const ElementId& id) const noexcept {
        for (std::size_t i = 0; i < elements.size(); ++i)
            if (elements[i].id == id) return i;
        return elements.size();
    }
    bool contains(const ElementId& id) const noexcept { return index_of(id) != elements.size(); }
};

/// A field value. The alternatives' order is part of the file and wire format: append only.
using Value = std::variant<Null, bool, std::int64_t, double, std::string, List>;

/// The name of the type a value holds, for reports and error messages.
constexpr std::string_view type_name(const Value& v) noexcept {
    constexpr std::string_view names[] = {"null", "bool", "int", "double", "string", "list"};
    return names[v.index()];
}

inline bool is_null(const Value& v) noexcept { return std::holds_alternative<Null>(v); }

/// A scalar as a field value.
RESYNC_FUNC Value to_value(const Scalar& s)
#if RESYNC_HEADER_DEFINITIONS
{
    return std::visit([](const auto& x) -> Value { return x; }, s);
}
#else
;
#endif

} // namespace resync::doc
