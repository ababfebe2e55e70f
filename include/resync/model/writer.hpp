#pragma once
/// \file
/// `doc::Writer`: what a local write transaction on a document-model store looks like to the
/// application. Each call applies at once and is recorded for sync.

#include <resync/model/operation.hpp>
#include <resync/model/state.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resync::doc {

/// Records and applies the operations of one local transaction.
class Writer {
public:
    Writer(State& state, std::vector<Operation>& ops, std::vector<Operation>& undo)
        : state_(state), ops_(ops), undo_(undo) {}

    /// Creates an object (no-op if it exists).
    Writer& create(std::string_view collection, std::string_view key) {
        return record(CreateObject{std::string(collection), std::string(key)});
    }
    /// Erases an object (no-op if it does not exist).
    Writer& erase(std::string_view collection, std::string_view key) {
        return record(EraseObject{std::string(collection), std::string(key)});
    }
    /// Sets a field of an existing object; null removes it.
    Writer& set(std::string_view collection, std::string_view key, std::string_view field, Value value) {
        return record(SetField{std::string(collection), std::string(key), std::string(field), std::move(value)});
    }
    /// Adds to an integer field of an existing object.
    Writer& add(std::string_view collection, std::string_view key, std::string_view field, std::int64_t delta) {
        return record(AddInteger{std::string(collection), std::string(key), std::string(field), delta});
    }
    /// Applies and records any operation.
    Writer& apply(Operation op) { return record(std::move(op)); }

    /// The state as this transaction sees it.
    const State& state() const noexcept { return state_; }

private:
    Writer& record(Operation op) {
        doc::apply(state_, op, &undo_);
        ops_.push_back(std::move(op));
        return *this;
    }
    State& state_;
    std::vector<Operation>& ops_;
    std::vector<Operation>& undo_;
};

} // namespace resync::doc
