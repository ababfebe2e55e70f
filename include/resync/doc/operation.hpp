#pragma once
/// \file
/// Operations of the shipped document model, and changesets of them.
///
/// Every operation names its target by collection and primary key, never by position, so an
/// operation means the same thing on any replica; list operations (which name elements by
/// identity) extend the same variant.

#include <resync/doc/value.hpp>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace resync::doc {

/// Creates the object if it does not exist (an upsert: creating an existing object is a no-op).
struct CreateObject {
    std::string collection;
    std::string key;
    friend bool operator==(const CreateObject&, const CreateObject&) = default;
};

/// Erases the object and all its fields, if it exists.
struct EraseObject {
    std::string collection;
    std::string key;
    friend bool operator==(const EraseObject&, const EraseObject&) = default;
};

/// Sets one field of an existing object; setting null removes the field.
struct SetField {
    std::string collection;
    std::string key;
    std::string field;
    Value value;
    friend bool operator==(const SetField&, const SetField&) = default;
};

/// Adds `delta` to an integer field of an existing object (wrapping on overflow, so that
/// additions commute on every replica). Applies only when the field holds an integer.
struct AddInteger {
    std::string collection;
    std::string key;
    std::string field;
    std::int64_t delta = 0;
    friend bool operator==(const AddInteger&, const AddInteger&) = default;
};

/// Inserts a new element into a list field of an existing object, directly after the element
/// `after` (at the front when `after` is empty; at the end when `after` is no longer in the
/// list). A null or absent field becomes a list. Inserting an id the list already holds does
/// nothing, so an insert is never duplicated.
struct ListInsert {
    std::string collection;
    std::string key;
    std::string field;
    std::optional<ElementId> after;
    ElementId id;
    Scalar value;
    friend bool operator==(const ListInsert&, const ListInsert&) = default;
};

/// Erases the element `id` from a list; nothing happens when it is not there (it is never
/// resurrected by a later replay).
struct ListErase {
    std::string collection;
    std::string key;
    std::string field;
    ElementId id;
    friend bool operator==(const ListErase&, const ListErase&) = default;
};

/// Moves the element `id` directly after `after` (front when empty, end when `after` is gone);
/// nothing happens when `id` is not in the list.
struct ListMove {
    std::string collection;
    std::string key;
    std::string field;
    ElementId id;
    std::optional<ElementId> after;
    friend bool operator==(const ListMove&, const ListMove&) = default;
};

/// Sets the value of the element `id`; nothing happens when it is not in the list.
struct ListSet {
    std::string collection;
    std::string key;
    std::string field;
    ElementId id;
    Scalar value;
    friend bool operator==(const ListSet&, const ListSet&) = default;
};

/// Removes every element of a list field.
struct ListClear {
    std::string collection;
    std::string key;
    std::string field;
    friend bool operator==(const ListClear&, const ListClear&) = default;
};

/// One operation. The alternatives' order is part of the file and wire format: append only.
using Operation =
    std::variant<CreateObject, EraseObject, SetField, AddInteger, ListInsert, ListErase, ListMove, ListSet, ListClear>;

/// The operations of one transaction, in order.
using Changeset = std::vector<Operation>;

/// Calls `f` with the alternative `op` holds and returns what it returns: `std::visit` for
/// operations, as a `switch` on the index (one call per alternative, no table of function
/// pointers to instantiate for every visitor). `f` must return the same type for every
/// alternative. A valueless operation throws `std::bad_variant_access`, as `std::visit` does.
template <class Op, class F>
    requires std::same_as<std::remove_cvref_t<Op>, Operation>
decltype(auto) visit_operation(F&& f, Op&& op) {
    switch (op.index()) {
    case 0: return std::forward<F>(f)(*std::get_if<0>(&op));
    case 1: return std::forward<F>(f)(*std::get_if<1>(&op));
    case 2: return std::forward<F>(f)(*std::get_if<2>(&op));
    case 3: return std::forward<F>(f)(*std::get_if<3>(&op));
    case 4: return std::forward<F>(f)(*std::get_if<4>(&op));
    case 5: return std::forward<F>(f)(*std::get_if<5>(&op));
    case 6: return std::forward<F>(f)(*std::get_if<6>(&op));
    case 7: return std::forward<F>(f)(*std::get_if<7>(&op));
    default: return std::forward<F>(f)(std::get<8>(op));
    }
}

/// The collection an operation targets.
inline const std::string& collection_of(const Operation& op) noexcept {
    return visit_operation([](const auto& o) -> const std::string& { return o.collection; }, op);
}

/// The field an operation targets, or an empty string for object-level operations.
inline std::string_view field_of(const Operation& op) noexcept {
    return visit_operation(
        [](const auto& o) -> std::string_view {
            if constexpr (requires { o.field; }) return o.field;
            else return {};
        },
        op);
}

/// The primary key of the object an operation targets.
inline const std::string& key_of(const Operation& op) noexcept {
    return visit_operation([](const auto& o) -> const std::string& { return o.key; }, op);
}

} // namespace resync::doc
