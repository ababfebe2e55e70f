#pragma once
/// \file
/// Operations of the shipped document model, and changesets of them.
///
/// Every operation names its target by collection and primary key, never by position, so an
/// operation means the same thing on any replica; list operations (which name elements by
/// identity) extend the same variant.

#include <resync/model/value.hpp>

#include <cstdint>
#include <string>
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

/// One operation. The alternatives' order is part of the file and wire format: append only.
using Operation = std::variant<CreateObject, EraseObject, SetField, AddInteger>;

/// The operations of one transaction, in order.
using Changeset = std::vector<Operation>;

/// The collection an operation targets.
inline const std::string& collection_of(const Operation& op) noexcept {
    return std::visit([](const auto& o) -> const std::string& { return o.collection; }, op);
}

/// The primary key of the object an operation targets.
inline const std::string& key_of(const Operation& op) noexcept {
    return std::visit([](const auto& o) -> const std::string& { return o.key; }, op);
}

} // namespace resync::doc
