#pragma once
/// \file
/// `doc::Writer`: what a local write transaction on a document-model store looks like to the
/// application. Each call applies at once and is recorded for sync.

#include <resync/detail/linkage.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace resync::doc {

/// Where a writer over a partial state gets the objects it has not seen yet: a database store
/// loads each object into the writer's state the first time the transaction touches it, so a
/// write costs what it touches, not the store's size.
class ObjectSource {
public:
    /// Puts `collection/key` into the writer's state if the store has it (called once or more).
    virtual void load(std::string_view collection, std::string_view key) = 0;

protected:
    ~ObjectSource() = default;
};

/// Records and applies the operations of one local transaction.
class Writer {
public:
    /// `replica` and `next_seq` name new list elements: (replica, seq) is unique per store.
    /// With a `source`, `state` holds only the objects loaded so far (see `ObjectSource`).
    Writer(State& state, std::vector<Operation>& ops, std::vector<Operation>& undo, std::uint64_t replica = 0,
           std::uint64_t* next_seq = nullptr, ObjectSource* source = nullptr)
        : state_(state), ops_(ops), undo_(undo), replica_(replica), next_seq_(next_seq), source_(source) {}

    /// Creates an object (no-op if it exists).
    Writer& create(std::string_view collection, std::string_view key);
    /// Erases an object (no-op if it does not exist).
    Writer& erase(std::string_view collection, std::string_view key);
    /// Sets a field of an existing object; null removes it. Setting a whole list onto a field that
    /// holds a list is recorded element by element (erases, inserts, moves and sets by element
    /// identity), so that a reset's recovery never copies a stale whole list over the server's
    /// (Realm #7155); elements without an id (`ElementId{}`) get a new one.
    Writer& set(std::string_view collection, std::string_view key, std::string_view field, Value value);
    /// Adds to an integer field of an existing object.
    Writer& add(std::string_view collection, std::string_view key, std::string_view field, std::int64_t delta);
    /// Appends `value` to a list field (a null field becomes a list); returns the new element's id.
    ElementId list_push_back(std::string_view collection, std::string_view key, std::string_view field, Scalar value);
    /// Inserts `value` at `index` of a list field (clamped to its size); returns the new id.
    ElementId list_insert(std::string_view collection, std::string_view key, std::string_view field, std::size_t index,
                          Scalar value);
    /// Erases the element at `index` (nothing if out of range).
    Writer& list_erase_at(std::string_view collection, std::string_view key, std::string_view field, std::size_t index);
    /// Erases the element `id`.
    Writer& list_erase(std::string_view collection, std::string_view key, std::string_view field, ElementId id);
    /// Moves the element at `from` so that it ends up at index `to` (both clamped).
    Writer& list_move(std::string_view collection, std::string_view key, std::string_view field, std::size_t from,
                      std::size_t to);
    /// Sets the element at `index` (nothing if out of range).
    Writer& list_set(std::string_view collection, std::string_view key, std::string_view field, std::size_t index,
                     Scalar value);
    /// Removes every element of a list field.
    Writer& list_clear(std::string_view collection, std::string_view key, std::string_view field);

    /// Applies and records any operation (a whole-list set as `set` records it).
    Writer& apply(Operation op);

    /// One field's value as this transaction sees it, or null (loaded from the store first when
    /// the writer reads through an `ObjectSource`).
    Value get(std::string_view collection, std::string_view key, std::string_view field) const;

    /// The state as this transaction sees it (with an `ObjectSource`: the objects it touched).
    const State& state() const noexcept { return state_; }

private:
    const List* list_at(std::string_view collection, std::string_view key, std::string_view field) const;
    std::optional<ElementId> id_at(std::string_view c, std::string_view k, std::string_view f, std::size_t i) const;
    std::optional<ElementId> id_before(std::string_view c, std::string_view k, std::string_view f, std::size_t i) const;
    ElementId new_id();

    void name_new_elements(List& list);

    // Records the edits that turn `current` into `target`, by element identity: erases of the
    // elements `target` lacks, then each of `target`'s elements in order - inserted when new,
    // moved when its predecessor differs, set when its value differs.
    Writer& set_list(std::string_view c, std::string_view k, std::string_view f, const List& current, List target);

    ElementId insert(std::string_view c, std::string_view k, std::string_view f, std::optional<ElementId> after,
                     Scalar value);

    Writer& record(Operation op);
    State& state_;
    std::vector<Operation>& ops_;
    std::vector<Operation>& undo_;
    std::uint64_t replica_ = 0;
    std::uint64_t* next_seq_ = nullptr;
    std::uint64_t local_seq_ = 0;
    ObjectSource* source_ = nullptr;
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC Writer& Writer::create(std::string_view collection, std::string_view key) {
    return record(CreateObject{std::string(collection), std::string(key)});
}

RESYNC_FUNC Writer& Writer::erase(std::string_view collection, std::string_view key) {
    return record(EraseObject{std::string(collection), std::string(key)});
}

RESYNC_FUNC Writer& Writer::set(std::string_view collection, std::string_view key, std::string_view field, Value value) {
    if (auto* list = std::get_if<List>(&value)) {
        name_new_elements(*list);
        if (const List* current = list_at(collection, key, field)) return set_list(collection, key, field, *current, *list);
    }
    return record(SetField{std::string(collection), std::string(key), std::string(field), std::move(value)});
}

RESYNC_FUNC Writer& Writer::add(std::string_view collection, std::string_view key, std::string_view field, std::int64_t delta) {
    return record(AddInteger{std::string(collection), std::string(key), std::string(field), delta});
}

RESYNC_FUNC ElementId Writer::list_push_back(std::string_view collection, std::string_view key, std::string_view field, Scalar value) {
    const List* list = list_at(collection, key, field);
    std::optional<ElementId> after;
    if (list && !list->elements.empty()) after = list->elements.back().id;
    return insert(collection, key, field, after, std::move(value));
}

RESYNC_FUNC ElementId Writer::list_insert(std::string_view collection, std::string_view key, std::string_view field, std::size_t index,
                                          Scalar value) {
    return insert(collection, key, field, id_before(collection, key, field, index), std::move(value));
}

RESYNC_FUNC Writer& Writer::list_erase_at(std::string_view collection, std::string_view key, std::string_view field, std::size_t index) {
    if (auto id = id_at(collection, key, field, index))
        return record(ListErase{std::string(collection), std::string(key), std::string(field), *id});
    return *this;
}

RESYNC_FUNC Writer& Writer::list_erase(std::string_view collection, std::string_view key, std::string_view field, ElementId id) {
    return record(ListErase{std::string(collection), std::string(key), std::string(field), id});
}

RESYNC_FUNC Writer& Writer::list_move(std::string_view collection, std::string_view key, std::string_view field, std::size_t from,
                                      std::size_t to) {
    auto id = id_at(collection, key, field, from);
    if (!id) return *this;
    // Index `to` after removal of `from`: the predecessor is the element at `to` - 1 in the
    // list without the moved element.
    const List* list = list_at(collection, key, field);
    std::vector<ElementId> rest;
    for (const auto& e : list->elements)
        if (e.id != *id) rest.push_back(e.id);
    std::optional<ElementId> after;
    if (to > 0 && !rest.empty()) after = rest[std::min(to, rest.size()) - 1];
    return record(ListMove{std::string(collection), std::string(key), std::string(field), *id, after});
}

RESYNC_FUNC Writer& Writer::list_set(std::string_view collection, std::string_view key, std::string_view field, std::size_t index,
                                     Scalar value) {
    if (auto id = id_at(collection, key, field, index))
        return record(ListSet{std::string(collection), std::string(key), std::string(field), *id, std::move(value)});
    return *this;
}

RESYNC_FUNC Writer& Writer::list_clear(std::string_view collection, std::string_view key, std::string_view field) {
    return record(ListClear{std::string(collection), std::string(key), std::string(field)});
}

RESYNC_FUNC Writer& Writer::apply(Operation op) {
    if (auto* set_op = std::get_if<SetField>(&op))
        if (std::holds_alternative<List>(set_op->value))
            return set(set_op->collection, set_op->key, set_op->field, std::move(set_op->value));
    return record(std::move(op));
}

RESYNC_FUNC Value Writer::get(std::string_view collection, std::string_view key, std::string_view field) const {
    if (source_) source_->load(collection, key);
    return state_.get(collection, key, field);
}

RESYNC_FUNC const List* Writer::list_at(std::string_view collection, std::string_view key, std::string_view field) const {
    if (source_) source_->load(collection, key);
    const Object* o = state_.find(collection, key);
    if (!o) return nullptr;
    auto it = o->find(field);
    return it == o->end() ? nullptr : std::get_if<List>(&it->second);
}

RESYNC_FUNC std::optional<ElementId> Writer::id_at(std::string_view c, std::string_view k, std::string_view f, std::size_t i) const {
    const List* list = list_at(c, k, f);
    if (!list || i >= list->elements.size()) return std::nullopt;
    return list->elements[i].id;
}

RESYNC_FUNC std::optional<ElementId> Writer::id_before(std::string_view c, std::string_view k, std::string_view f, std::size_t i) const {
    const List* list = list_at(c, k, f);
    if (!list || i == 0 || list->elements.empty()) return std::nullopt;
    return list->elements[std::min(i, list->elements.size()) - 1].id;
}

RESYNC_FUNC ElementId Writer::new_id() {
    return ElementId{replica_, next_seq_ ? (*next_seq_)++ : ++local_seq_};
}

RESYNC_FUNC void Writer::name_new_elements(List& list) {
    for (auto& e : list.elements)
        if (e.id == ElementId{}) e.id = new_id();
}

RESYNC_FUNC Writer& Writer::set_list(std::string_view c, std::string_view k, std::string_view f, const List& current, List target) {
    const std::string collection(c), key(k), field(f);
    std::vector<ElementId> erase;
    for (const auto& e : current.elements)
        if (!target.contains(e.id)) erase.push_back(e.id);
    for (const auto& id : erase) record(ListErase{collection, key, field, id});
    std::optional<ElementId> prev;
    for (auto& e : target.elements) {
        const List& now = *list_at(c, k, f);
        const std::size_t at = now.index_of(e.id);
        if (at == now.elements.size()) {
            record(ListInsert{collection, key, field, prev, e.id, std::move(e.value)});
        } else {
            const std::optional<ElementId> before = at == 0 ? std::nullopt : std::optional(now.elements[at - 1].id);
            if (before != prev) record(ListMove{collection, key, field, e.id, prev});
            const List& moved = *list_at(c, k, f);
            if (moved.elements[moved.index_of(e.id)].value != e.value)
                record(ListSet{collection, key, field, e.id, std::move(e.value)});
        }
        prev = e.id;
    }
    return *this;
}

RESYNC_FUNC ElementId Writer::insert(std::string_view c, std::string_view k, std::string_view f, std::optional<ElementId> after,
                                     Scalar value) {
    const ElementId id = new_id();
    record(ListInsert{std::string(c), std::string(k), std::string(f), after, id, std::move(value)});
    return id;
}

RESYNC_FUNC Writer& Writer::record(Operation op) {
    if (source_) source_->load(collection_of(op), key_of(op));
    doc::apply(state_, op, &undo_);
    ops_.push_back(std::move(op));
    return *this;
}

#endif // RESYNC_HEADER_DEFINITIONS

} // namespace resync::doc
