#pragma once
/// \file
/// The recovery laws for the document model: `testing::check_recovery_laws(fresh, before, local,
/// rules)` on `doc::State`, with the document model's hooks - an unrelated object (law 4) and
/// resurrected objects or list elements (law 7).

#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/history.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/testing/recovery_laws.hpp>

#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace resync::testing {

/// What `state` holds that `fresh` does not and no local operation creates: resurrected objects
/// and list elements, in words.
inline std::vector<std::string> resurrected(const doc::State& fresh, const doc::State& state,
                                            const std::vector<LocalChangeset<doc::Operation>>& local) {
    std::set<std::pair<std::string, std::string>> created;
    std::set<doc::ElementId> inserted;
    for (const auto& cs : local)
        for (const auto& op : cs.ops) {
            if (const auto* c = std::get_if<doc::CreateObject>(&op)) created.emplace(c->collection, c->key);
            if (const auto* i = std::get_if<doc::ListInsert>(&op)) inserted.insert(i->id);
            if (const auto* s = std::get_if<doc::SetField>(&op))
                if (const auto* l = std::get_if<doc::List>(&s->value))
                    for (const auto& e : l->elements) inserted.insert(e.id);
        }
    std::vector<std::string> out;
    for (const auto& [name, c] : state.collections)
        for (const auto& [key, obj] : c) {
            if (!fresh.find(name, key) && !created.contains({name, key}))
                out.push_back("an object the fresh copy lacks (" + name + "/" + key + ") came back without a local create");
            for (const auto& [field, value] : obj) {
                const auto* list = std::get_if<doc::List>(&value);
                if (!list) continue;
                const doc::Value had = fresh.get(name, key, field);
                const auto* had_list = std::get_if<doc::List>(&had);
                for (const auto& e : list->elements)
                    if (!(had_list && had_list->contains(e.id)) && !inserted.contains(e.id))
                        out.push_back("a list element the fresh copy lacks came back without a local insert (" + name +
                                      "/" + key + "." + field + ")");
            }
        }
    return out;
}

/// The document model's law hooks.
inline LawHooks<doc::Model> document_law_hooks() {
    LawHooks<doc::Model> hooks;
    hooks.add_unrelated = [](doc::State& s) {
        doc::apply(s, doc::CreateObject{"resync.unrelated", "resync.unrelated"});
        doc::apply(s, doc::SetField{"resync.unrelated", "resync.unrelated", "f", std::int64_t{1}});
    };
    hooks.resurrected = &resurrected;
    return hooks;
}

/// The laws for document-model rules (`recover::DocumentRules` by default), all seven.
template <class Rules = recover::DocumentRules>
std::vector<std::string> check_recovery_laws(const doc::State& fresh, const doc::State& before,
                                             const std::vector<LocalChangeset<doc::Operation>>& local,
                                             const Rules& rules = {}) {
    return check_recovery_laws<doc::Model>(fresh, before, local, rules, document_law_hooks());
}

} // namespace resync::testing
