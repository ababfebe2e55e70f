#pragma once
/// \file
/// The state of a document-model replica (collections -> objects by primary key -> fields)
/// and the one function that applies an operation to it.

#include <resync/detail/linkage.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/value.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace resync::doc {

/// Fields of one object by name. Absent fields read as null.
using Object = std::map<std::string, Value, std::less<>>;

namespace detail {
/// Hashes keys for the tables of objects. Deliberately not `noexcept`: libstdc++ then keeps each
/// key's hash in its node, so a lookup, an erase, a node moved between tables or a rehash never
/// hashes a stored key again (with a `noexcept` hash it hashes the neighbours of every node it
/// walks past - a fifth of a diff's instructions).
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
        return std::hash<std::string_view>{}(s);
    }
};
} // namespace detail

/// Objects of one collection by primary key.
using Collection =
    std::unordered_map<std::string, Object, detail::StringHash, std::equal_to<>>;

/// A whole replica: collections by name. Empty collections are equal to absent ones.
struct State {
    std::map<std::string, Collection, std::less<>> collections;

    const Object* find(std::string_view collection, std::string_view key) const;
    Object* find(std::string_view collection, std::string_view key) {
        return const_cast<Object*>(std::as_const(*this).find(collection, key));
    }

    /// The value of a field, or null when the object or the field does not exist.
    Value get(std::string_view collection, std::string_view key, std::string_view field) const;

    /// Whether the state has the collection (empty or not).
    bool has_collection(std::string_view collection) const;
    /// How many objects the collection holds (0 when it does not exist).
    std::size_t collection_size(std::string_view collection) const;

    std::size_t object_count() const noexcept;

    friend bool operator==(const State& a, const State& b);
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC const Object* State::find(std::string_view collection, std::string_view key) const {
    auto c = collections.find(collection);
    if (c == collections.end()) return nullptr;
    auto o = c->second.find(key);
    return o == c->second.end() ? nullptr : &o->second;
}

RESYNC_FUNC Value State::get(std::string_view collection, std::string_view key, std::string_view field) const {
    const Object* o = find(collection, key);
    if (!o) return Null{};
    auto f = o->find(field);
    return f == o->end() ? Value{Null{}} : f->second;
}

RESYNC_FUNC bool State::has_collection(std::string_view collection) const {
    return collections.find(collection) != collections.end();
}

RESYNC_FUNC std::size_t State::collection_size(std::string_view collection) const {
    auto c = collections.find(collection);
    return c == collections.end() ? 0 : c->second.size();
}

RESYNC_FUNC std::size_t State::object_count() const noexcept {
    std::size_t n = 0;
    for (const auto& [name, c] : collections) n += c.size();
    return n;
}

RESYNC_FUNC bool operator==(const State& a, const State& b) {
    auto non_empty = [](const State& s) {
        std::size_t n = 0;
        for (const auto& [name, c] : s.collections) n += !c.empty();
        return n;
    };
    if (non_empty(a) != non_empty(b)) return false;
    for (const auto& [name, c] : a.collections) {
        if (c.empty()) continue;
        auto other = b.collections.find(name);
        if (other == b.collections.end() || other->second != c) return false;
    }
    return true;
}

#endif // RESYNC_HEADER_DEFINITIONS

/// Frees up to `max_objects` objects of `state` (and each collection it empties) and returns how
/// many it freed: what a session calls, a slice per `poll()`, on the state a reset replaced, so
/// that freeing a large state never stalls one call. Which objects go first is unspecified.
RESYNC_FUNC std::size_t release_objects(State& state, std::size_t max_objects)
#if RESYNC_HEADER_DEFINITIONS
{
    std::size_t released = 0;
    while (released < max_objects && !state.collections.empty()) {
        const auto first = state.collections.begin();
        Collection& c = first->second;
        while (released < max_objects && !c.empty()) {
            c.erase(c.begin());
            ++released;
        }
        if (c.empty()) state.collections.erase(first);
    }
    return released;
}
#else
;
#endif

/// What `apply` did with an operation.
enum class Applied : std::uint8_t {
    yes,             ///< the state changed (or already equalled the result, for create/set)
    no_object,       ///< the target object does not exist: nothing changed
    not_an_integer,  ///< add-integer onto a field that does not hold an integer: nothing changed
    not_a_list,      ///< a list operation on a field that holds something else: nothing changed
    no_element,      ///< the list element is not there (removed, or never inserted): nothing changed
};

namespace detail {
/// Where an element goes when inserted or moved "after" `after`: directly after it, at the
/// front when `after` is empty, at the end when `after` is no longer in the list.
RESYNC_FUNC std::size_t position_after(const List& list, const std::optional<ElementId>& after)
#if RESYNC_HEADER_DEFINITIONS
{
    if (!after) return 0;
    const std::size_t i = list.index_of(*after);
    return i == list.elements.size() ? i : i + 1;
}
#else
;
#endif
} // namespace detail

/// Applies a field set to `obj`, the object it targets (already found: recovery looks an
/// object up once to decide and to apply). When `undo` is given, appends the operation that
/// reverts it (before the change, so a change is never made without its undo).
RESYNC_FUNC Applied apply_to_object(Object& obj, const SetField& o, std::vector<Operation>* undo = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    auto it = obj.find(o.field);
    // The old value is copied only for the undo log (not when integrating).
    if (undo) undo->push_back(SetField{o.collection, o.key, o.field, it == obj.end() ? Value{Null{}} : it->second});
    if (is_null(o.value)) {
        if (it != obj.end()) obj.erase(it);
    } else if (it == obj.end()) {
        obj.emplace(o.field, o.value);
    } else {
        it->second = o.value;
    }
    return Applied::yes;
}
#else
;
#endif

/// Applies an add-integer to `obj`, the object it targets (see the set's overload).
RESYNC_FUNC Applied apply_to_object(Object& obj, const AddInteger& o, std::vector<Operation>* undo = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    auto it = obj.find(o.field);
    if (it == obj.end() || !std::holds_alternative<std::int64_t>(it->second)) return Applied::not_an_integer;
    if (undo)
        undo->push_back(AddInteger{o.collection, o.key, o.field, static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(o.delta))});
    auto& v = std::get<std::int64_t>(it->second);
    // Wrapping addition: defined behaviour, and additions commute on every replica.
    v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) + static_cast<std::uint64_t>(o.delta));
    return Applied::yes;
}
#else
;
#endif

/// Applies `op` to `state` with the model's deterministic semantics. When `undo` is given,
/// appends the operations that revert the change; apply `undo` in reverse order to revert.
RESYNC_FUNC Applied apply(State& state, const Operation& op, std::vector<Operation>* undo = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    struct Visitor {
        State& state;
        std::vector<Operation>* undo;

        // With an undo log, each operation records its undo before it changes the state: if
        // recording fails (an allocation), the state is still as it was, and a change is never
        // made without the undo that reverts it.
        Applied operator()(const CreateObject& o) const {
            auto& c = state.collections[o.collection];
            if (!undo) {
                c.try_emplace(o.key);
                return Applied::yes;
            }
            if (c.find(o.key) != c.end()) return Applied::yes;
            undo->push_back(EraseObject{o.collection, o.key});
            c.try_emplace(o.key);
            return Applied::yes;
        }
        Applied operator()(const EraseObject& o) const {
            auto c = state.collections.find(o.collection);
            if (c == state.collections.end()) return Applied::no_object;
            auto it = c->second.find(o.key);
            if (it == c->second.end()) return Applied::no_object;
            if (undo) {
                // Room first, so that no field is moved into the log unless all of them fit;
                // grown geometrically, or a run of erases reallocates the log at each one.
                const std::size_t need = undo->size() + it->second.size() + 1;
                if (need > undo->capacity()) undo->reserve(std::max(need, 2 * undo->capacity()));
                // Reverted in reverse order: the create must come last in the vector.
                // Filled in place: a temporary moved into the log costs as much again.
                for (auto& [field, value] : it->second) {
                    auto& set = std::get<SetField>(undo->emplace_back(std::in_place_type<SetField>));
                    set.collection = o.collection;
                    set.key = o.key;
                    set.field = field;
                    set.value = std::move(value);
                }
                undo->push_back(CreateObject{o.collection, o.key});
            }
            c->second.erase(it);
            return Applied::yes;
        }
        Applied operator()(const SetField& o) const {
            Object* obj = state.find(o.collection, o.key);
            return obj ? apply_to_object(*obj, o, undo) : Applied::no_object;
        }
        Applied operator()(const AddInteger& o) const {
            Object* obj = state.find(o.collection, o.key);
            return obj ? apply_to_object(*obj, o, undo) : Applied::no_object;
        }

        /// The list a list operation targets, or the reason there is none. A null field becomes
        /// an empty list when `create` is set.
        std::pair<List*, Applied> list_of(const std::string& collection, const std::string& key,
                                          const std::string& field, bool create) const {
            Object* obj = state.find(collection, key);
            if (!obj) return {nullptr, Applied::no_object};
            auto it = obj->find(field);
            if (it == obj->end()) {
                if (!create) return {nullptr, Applied::no_element};
                it = obj->emplace(field, List{}).first;
            }
            if (auto* list = std::get_if<List>(&it->second)) return {list, Applied::yes};
            return {nullptr, Applied::not_a_list};
        }
        /// Records the whole list (or its absence) so that any list edit can be reverted.
        void save_list(const std::string& collection, const std::string& key, const std::string& field) const {
            if (!undo) return;
            undo->push_back(SetField{collection, key, field, state.get(collection, key, field)});
        }

        Applied operator()(const ListInsert& o) const {
            if (state.find(o.collection, o.key) == nullptr) return Applied::no_object;
            if (auto v = state.get(o.collection, o.key, o.field); !is_null(v) && !std::holds_alternative<List>(v))
                return Applied::not_a_list;
            save_list(o.collection, o.key, o.field);
            auto [list, why] = list_of(o.collection, o.key, o.field, true);
            if (!list) return why;
            if (list->contains(o.id)) return Applied::yes; // never duplicated
            const auto at = detail::position_after(*list, o.after);
            list->elements.insert(list->elements.begin() + static_cast<std::ptrdiff_t>(at), Element{o.id, o.value});
            return Applied::yes;
        }
        Applied operator()(const ListErase& o) const {
            auto [list, why] = list_of(o.collection, o.key, o.field, false);
            if (!list) return why;
            const auto i = list->index_of(o.id);
            if (i == list->elements.size()) return Applied::no_element;
            save_list(o.collection, o.key, o.field);
            list->elements.erase(list->elements.begin() + static_cast<std::ptrdiff_t>(i));
            return Applied::yes;
        }
        Applied operator()(const ListMove& o) const {
            auto [list, why] = list_of(o.collection, o.key, o.field, false);
            if (!list) return why;
            const auto i = list->index_of(o.id);
            if (i == list->elements.size()) return Applied::no_element;
            save_list(o.collection, o.key, o.field);
            Element e = std::move(list->elements[i]);
            list->elements.erase(list->elements.begin() + static_cast<std::ptrdiff_t>(i));
            const auto at = o.after == o.id ? i : detail::position_after(*list, o.after);
            list->elements.insert(list->elements.begin() + static_cast<std::ptrdiff_t>(at), std::move(e));
            return Applied::yes;
        }
        Applied operator()(const ListSet& o) const {
            auto [list, why] = list_of(o.collection, o.key, o.field, false);
            if (!list) return why;
            const auto i = list->index_of(o.id);
            if (i == list->elements.size()) return Applied::no_element;
            save_list(o.collection, o.key, o.field);
            list->elements[i].value = o.value;
            return Applied::yes;
        }
        Applied operator()(const ListClear& o) const {
            auto [list, why] = list_of(o.collection, o.key, o.field, false);
            if (!list) return why == Applied::no_element ? Applied::yes : why; // an absent list is empty
            save_list(o.collection, o.key, o.field);
            list->elements.clear();
            return Applied::yes;
        }
    };
    return visit_operation(Visitor{state, undo}, op);
}
#else
;
#endif

/// Applies every operation of a changeset in order.
RESYNC_FUNC void apply(State& state, const Changeset& ops, std::vector<Operation>* undo = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    for (const auto& op : ops) doc::apply(state, op, undo);
}
#else
;
#endif

/// Reverts what `apply` recorded in `undo` (in reverse order) and empties it.
RESYNC_FUNC void revert(State& state, std::vector<Operation>& undo)
#if RESYNC_HEADER_DEFINITIONS
{
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) doc::apply(state, *it);
    undo.clear();
}
#else
;
#endif

} // namespace resync::doc
