#pragma once
/// \file
/// `recover::DocumentRules`: the recovery rules of the shipped document model (DESIGN §4.5).
///
/// | local operation | rule |
/// |---|---|
/// | create | an upsert: always applied |
/// | erase | applied (a no-op when the server erased it too) |
/// | set field | local wins over the server's value; dropped when the server erased the object (never resurrected) |
/// | set a whole list, onto a list the server has | by element identity: the elements the server lacks are inserted after their nearest predecessor it has, the server's own elements stay, values set locally win (transformed); never a whole-list copy |
/// | add integer | applied only onto a live integer; otherwise dropped |
/// | list insert | by element identity: after the same predecessor, or after the nearest earlier one the server still has (transformed); never duplicated |
/// | list erase / move / set | by element identity; dropped when the server removed the element (never resurrected) |
/// | list clear | applied |
/// | any operation on a field whose type the server changed, or on a collection the server no longer has | recovery fails: the reset falls back |
///
/// The rules read the fresh copy and the before-state through lookups (`find(collection, key)`,
/// `has_collection(name)`, `collection_size(name)`): a `doc::State`, or a store's view of its
/// staged copy or live data, so a recovery never needs a whole state in memory.
///
/// Two contexts run the same rules. `context_in_place` recovers onto the decoded copy itself: each
/// kept operation is applied once, there, with an undo log per changeset - what the commit keeps
/// (`cap::recovered_in_place`) instead of applying the history again. `context` recovers onto a
/// copy it may not change (a store's staged view, a dry run): the objects touched are copied into
/// a scratch state, and the commit applies the history.

#include <resync/detail/linkage.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/error.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/report.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace resync::recover {

namespace detail {
/// The value of a field as a lookup view holds it, or null.
template <class View>
doc::Value field_in(const View& view, const std::string& collection, const std::string& key, const std::string& field) {
    const auto object = view.find(collection, key);
    if (!object) return doc::Null{};
    auto it = object->find(field);
    return it == object->end() ? doc::Value{doc::Null{}} : it->second;
}
} // namespace detail

/// The recovery rules of the document model.
struct DocumentRules {
    using operation_type = doc::Operation;
    using snapshot_type = doc::State;
    using Outcome = RuleOutcome<doc::Operation>;

    /// The context of a recovery onto a copy it must not change: the objects touched so far,
    /// copied from the fresh copy on first touch into a scratch state, so a recovery costs what
    /// the local operations touch, not the store's size. `Fresh` and `Before` are lookup views (a
    /// `doc::State`, or a store's view of its data).
    template <class Fresh, class Before>
    class Context {
    public:
        Context(const Fresh& fresh, const Before* before) : fresh_(fresh), before_(before) {}

        /// The object as recovery sees it now (fresh copy plus what recovery applied), or null.
        doc::Object* object(const std::string& collection, const std::string& key) {
            touch(collection, key);
            return scratch_.find(collection, key);
        }
        /// Applies an operation to the scratch state.
        doc::Applied apply(const doc::Operation& op) {
            touch(doc::collection_of(op), doc::key_of(op));
            return doc::apply(scratch_, op);
        }
        /// Applies a field set or add-integer to `obj`, which `object()` returned.
        template <class FieldOp>
        doc::Applied apply_to(doc::Object& obj, const FieldOp& op) {
            return doc::apply_to_object(obj, op);
        }
        const Fresh& fresh() const noexcept { return fresh_; }
        /// Whether the collection is there as recovery sees it: in the fresh copy, or made by a
        /// create this recovery replayed.
        bool has_collection(const std::string& collection) const {
            return fresh_.has_collection(collection) || scratch_.has_collection(collection);
        }
        /// The client's state before the reset, or null when the store offers no view of it.
        const Before* before() const noexcept { return before_; }

    private:
        void touch(const std::string& collection, const std::string& key) {
            // Looked up before anything is built: most touches are of an object already touched
            // (each rule touches its object, then applies to it).
            auto c = touched_.find(collection);
            if (c == touched_.end()) c = touched_.emplace(collection, Keys{}).first;
            if (c->second.contains(key)) return;
            c->second.insert(key);
            if (const auto o = fresh_.find(collection, key)) scratch_.collections[collection][key] = *o;
        }
        using Keys = std::unordered_set<std::string, doc::detail::StringHash, std::equal_to<>>;
        const Fresh& fresh_;
        const Before* before_;
        doc::State scratch_;
        std::map<std::string, Keys, std::less<>> touched_; ///< by collection: the keys touched so far
    };

    /// The context of a recovery onto the decoded copy itself: each kept operation is applied
    /// there once, its undo recorded, so the commit keeps the result instead of applying it again.
    template <class Before>
    class StagedContext {
    public:
        StagedContext(doc::State& staged, const Before* before) : staged_(staged), before_(before) {}

        /// The object as recovery sees it now (fresh copy plus what recovery applied), or null.
        doc::Object* object(const std::string& collection, const std::string& key) {
            return staged_.find(collection, key);
        }
        /// Applies an operation to the staged copy, recording its undo.
        doc::Applied apply(const doc::Operation& op) { return doc::apply(staged_, op, &undo_); }
        /// Applies a field set or add-integer to `obj`, which `object()` returned, recording its
        /// undo: the object is not looked up again.
        template <class FieldOp>
        doc::Applied apply_to(doc::Object& obj, const FieldOp& op) {
            return doc::apply_to_object(obj, op, &undo_);
        }
        /// Whether the collection is there as recovery sees it (from the server, or made by a
        /// create this recovery replayed).
        bool has_collection(const std::string& collection) const { return staged_.has_collection(collection); }
        /// The client's state before the reset, or null when the store offers no view of it.
        const Before* before() const noexcept { return before_; }

        /// Room in the undo log for what applying `ops` records, counted before the first is
        /// applied: one entry per operation, and for an erase of an object the copy holds, one
        /// per field and its create. Counted ahead, a run of erases fills the log without growing
        /// it (each growth moves every entry recorded so far).
        void reserve_undo(const std::vector<doc::Operation>& ops) {
            std::size_t entries = undo_.size();
            for (const auto& op : ops) {
                const auto* erase = std::get_if<doc::EraseObject>(&op);
                const doc::Object* obj = erase ? staged_.find(erase->collection, erase->key) : nullptr;
                entries += obj ? obj->size() + 1 : 1;
            }
            undo_.reserve(entries);
        }
        /// The undo log of everything applied since the last call, handed over.
        std::vector<doc::Operation> take_undo() { return std::exchange(undo_, {}); }
        /// Reverts what one log taken from `take_undo` records (newer logs first), emptying it.
        void revert(std::vector<doc::Operation>& undo) { doc::revert(staged_, undo); }

    private:
        doc::State& staged_;
        const Before* before_;
        std::vector<doc::Operation> undo_;
    };

    /// The context of one recovery onto `fresh`, which it does not change, with `before` the
    /// client's state (or null).
    template <class Fresh, class Before>
    Context<Fresh, Before> context(const Fresh& fresh, const Before* before) const {
        return Context<Fresh, Before>(fresh, before);
    }
    /// The context of one recovery onto `staged`, the decoded copy the commit will install, with
    /// `before` the client's state (or null).
    template <class Before>
    StagedContext<Before> context_in_place(doc::State& staged, const Before* before) const {
        return StagedContext<Before>(staged, before);
    }

    template <class Fresh, class Before>
    Outcome recover(Context<Fresh, Before>& ctx, const doc::Operation& op) const {
        return doc::visit_operation([&](const auto& o) { return rule(ctx, op, o); }, op);
    }
    template <class Before>
    Outcome recover(StagedContext<Before>& ctx, const doc::Operation& op) const {
        return std::visit([&](const auto& o) { return rule(ctx, op, o); }, op);
    }

private:
    /// The operation is kept as it is.
    static Outcome kept() { return Outcome{OperationFate::recovered, {}, {}, {}, true}; }
    template <class C>
    static Outcome keep(C& ctx, const doc::Operation& op) {
        ctx.apply(op);
        return kept();
    }
    /// Keeps a field set or add-integer, applied to its object, already found.
    template <class C, class FieldOp>
    static Outcome keep_on(C& ctx, doc::Object& obj, const FieldOp& o) {
        ctx.apply_to(obj, o);
        return kept();
    }
    static Outcome drop(std::string reason);
    static Outcome fail(errc code, std::string reason);

    /// The collection existed locally but the server no longer has it at all: a destructive
    /// schema change, not an erased object. A collection this recovery created again (a replayed
    /// create, e.g. in a collection made offline) is not one the server removed.
    template <class C>
    static std::optional<Outcome> collection_gone(const C& ctx, const std::string& collection) {
        if (ctx.has_collection(collection)) return std::nullopt;
        if (!ctx.before() || ctx.before()->collection_size(collection) == 0) return std::nullopt;
        return fail(errc::schema_mismatch, "the server no longer has the collection '" + collection + "'");
    }

    /// The server holds a value of another type in this field than the operation writes.
    static std::optional<Outcome> type_changed(const doc::Object& obj, const std::string& field,
                                               std::size_t expected_index, std::string_view expected);

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::CreateObject&) {
        return keep(ctx, op);
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::EraseObject& o) {
        if (auto gone = collection_gone(ctx, o.collection)) return *gone;
        return keep(ctx, op);
    }

    /// Why an update of an object recovery does not see is not applied: the server no longer has
    /// its collection (a failure), or erased the object. (Only asked when the object is missing:
    /// an object that is there has its collection.)
    template <class C>
    static Outcome missing_object(const C& ctx, const std::string& collection, const char* what) {
        if (auto gone = collection_gone(ctx, collection)) return *gone;
        return drop(std::string("the server erased the object; its erase wins over a local ") + what);
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation&, const doc::SetField& o) {
        doc::Object* obj = ctx.object(o.collection, o.key);
        if (!obj) return missing_object(ctx, o.collection, "update");
        if (!doc::is_null(o.value))
            if (auto changed = type_changed(*obj, o.field, o.value.index(), doc::type_name(o.value))) return *changed;
        if (const auto* list = std::get_if<doc::List>(&o.value)) {
            auto it = obj->find(o.field);
            if (it != obj->end())
                if (const auto* server = std::get_if<doc::List>(&it->second)) return merge_list(ctx, o, *list, *server);
        }
        return keep_on(ctx, *obj, o);
    }

    /// A local set of a whole list onto a list the server has (another client made or changed it
    /// meanwhile): copying the local list would bring back elements the server removed and lose
    /// those it added (Realm #7155). Instead, each element is placed by identity: the server's
    /// elements stay, the set's elements the server lacks are inserted after the nearest element
    /// before them that is there, and the set's values win for the elements both have.
    template <class C>
    static Outcome merge_list(C& ctx, const doc::SetField& o, const doc::List& local, doc::List server) {
        std::vector<doc::Operation> emit;
        std::optional<doc::ElementId> prev;
        for (const auto& e : local.elements) {
            const std::size_t at = server.index_of(e.id);
            if (at == server.elements.size()) {
                const auto to = static_cast<std::ptrdiff_t>(doc::detail::position_after(server, prev));
                server.elements.insert(server.elements.begin() + to, e);
                emit.push_back(doc::ListInsert{o.collection, o.key, o.field, prev, e.id, e.value});
            } else if (server.elements[at].value != e.value) {
                server.elements[at].value = e.value;
                emit.push_back(doc::ListSet{o.collection, o.key, o.field, e.id, e.value});
            }
            prev = e.id;
        }
        for (const auto& op : emit) ctx.apply(op);
        if (emit.empty() && server == local)
            return Outcome{OperationFate::recovered, {}, {}, {}}; // the server's list is already this one
        return Outcome{OperationFate::transformed,
                       "a whole-list set onto a list the server changed: applied element by element (the "
                       "server's elements kept, none it removed brought back)",
                       std::move(emit), {}};
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation&, const doc::AddInteger& o) {
        doc::Object* obj = ctx.object(o.collection, o.key);
        if (!obj) return missing_object(ctx, o.collection, "update");
        auto it = obj->find(o.field);
        if (it == obj->end() || !std::holds_alternative<std::int64_t>(it->second))
            return drop("add-integer applies only to a live integer; the field holds " +
                        std::string(it == obj->end() ? "null" : doc::type_name(it->second)));
        return keep_on(ctx, *obj, o);
    }

    /// The list a list operation targets in the scratch state: null when the object is gone; an
    /// outcome when the field holds something else.
    template <class C>
    static std::pair<doc::List*, std::optional<Outcome>> list_for(C& ctx, const std::string& collection,
                                                                 const std::string& key, const std::string& field) {
        doc::Object* obj = ctx.object(collection, key);
        if (!obj) return {nullptr, missing_object(ctx, collection, "list edit")};
        if (auto changed = type_changed(*obj, field, doc::Value(doc::List{}).index(), "a list")) return {nullptr, changed};
        auto it = obj->find(field);
        if (it == obj->end()) return {nullptr, std::nullopt};
        return {std::get_if<doc::List>(&it->second), std::nullopt};
    }

    /// The predecessor to insert or move `self` after, in the server's list: `after` itself if the
    /// server still has it, else the nearest element before it in the local list that the server
    /// still has (none: the front). When the client erased `after` too, the search starts from
    /// `self`'s own place in the local list (scanning from the end would put it last).
    template <class C>
    static std::optional<doc::ElementId> resolve_after(const C& ctx, const doc::List* target,
                                                       const std::string& collection, const std::string& key,
                                                       const std::string& field, std::optional<doc::ElementId> after,
                                                       const doc::ElementId& self, bool& transformed) {
        transformed = false;
        if (!after || (target && target->contains(*after))) return after;
        transformed = true;
        if (!target || !ctx.before()) return std::nullopt;
        const doc::Value local = detail::field_in(*ctx.before(), collection, key, field);
        const auto* local_list = std::get_if<doc::List>(&local);
        if (!local_list) return std::nullopt;
        std::size_t from = local_list->index_of(*after);
        if (from == local_list->elements.size()) from = local_list->index_of(self);
        for (std::size_t i = from; i-- > 0;)
            if (target->contains(local_list->elements[i].id)) return local_list->elements[i].id;
        return std::nullopt;
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::ListInsert& o) {
        auto [list, early] = list_for(ctx, o.collection, o.key, o.field);
        if (early) return *early;
        if (list && list->contains(o.id)) return Outcome{OperationFate::recovered, {}, {}, {}}; // never twice
        bool moved = false;
        auto after = resolve_after(ctx, list, o.collection, o.key, o.field, o.after, o.id, moved);
        if (!moved) return keep(ctx, op);
        doc::ListInsert t = o;
        t.after = after;
        ctx.apply(t);
        return Outcome{OperationFate::transformed,
                       "the element it followed was removed on the server; inserted after the nearest earlier element",
                       {doc::Operation{std::move(t)}}, {}};
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::ListErase& o) {
        auto [list, early] = list_for(ctx, o.collection, o.key, o.field);
        if (early) return *early;
        if (!list || !list->contains(o.id)) return drop("the server already removed the element");
        return keep(ctx, op);
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::ListMove& o) {
        auto [list, early] = list_for(ctx, o.collection, o.key, o.field);
        if (early) return *early;
        if (!list || !list->contains(o.id)) return drop("the server removed the element; a move never resurrects it");
        bool moved = false;
        auto after = resolve_after(ctx, list, o.collection, o.key, o.field, o.after, o.id, moved);
        if (!moved) return keep(ctx, op);
        doc::ListMove t = o;
        t.after = after;
        ctx.apply(t);
        return Outcome{OperationFate::transformed,
                       "the element it was moved after was removed on the server; moved after the nearest earlier element",
                       {doc::Operation{std::move(t)}}, {}};
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::ListSet& o) {
        auto [list, early] = list_for(ctx, o.collection, o.key, o.field);
        if (early) return *early;
        if (!list || !list->contains(o.id)) return drop("the server removed the element; a set never resurrects it");
        return keep(ctx, op);
    }

    template <class C>
    static Outcome rule(C& ctx, const doc::Operation& op, const doc::ListClear& o) {
        auto [list, early] = list_for(ctx, o.collection, o.key, o.field);
        if (early) return *early;
        return keep(ctx, op);
    }
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC DocumentRules::Outcome DocumentRules::drop(std::string reason) {
    return Outcome{OperationFate::dropped, std::move(reason), {}, {}};
}

RESYNC_FUNC DocumentRules::Outcome DocumentRules::fail(errc code, std::string reason) {
    return Outcome{OperationFate::dropped, std::move(reason), {}, make_error_code(code)};
}

RESYNC_FUNC std::optional<DocumentRules::Outcome> DocumentRules::type_changed(const doc::Object& obj, const std::string& field,
                                                                              std::size_t expected_index, std::string_view expected) {
    auto it = obj.find(field);
    if (it == obj.end() || doc::is_null(it->second) || it->second.index() == expected_index) return std::nullopt;
    return fail(errc::schema_mismatch, "field '" + field + "' holds " + std::string(doc::type_name(it->second)) +
                                           " on the server, the local change writes " + std::string(expected));
}

#endif // RESYNC_HEADER_DEFINITIONS

} // namespace resync::recover
