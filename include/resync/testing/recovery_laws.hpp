#pragma once
/// \file
/// `testing::check_recovery_laws`: the laws every recovery rule set must obey, checked on one
/// case. Run it over many generated cases (with your own generator, for your own rules):
///
/// 1. **accounts for everything**: every local operation gets exactly one outcome;
/// 2. **nothing in, nothing out**: recovering no changes keeps nothing and changes nothing;
/// 3. **idempotent**: recovering the recovered changes again, from the same fresh copy, gives the same state;
/// 4. **local**: an unrelated object on the server does not change any outcome;
/// 5. **deterministic**: the same input gives the same output;
/// 6. **kept as reported**: an operation reported `recovered` is replayed as it was, or its effect
///    is already in the state it is recovered onto (never silently swallowed);
/// 7. **no resurrection**: an object or list element the fresh copy lacks is in the result only if
///    a local operation creates or inserts it.

#include <resync/history.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/recover/document_rules.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace resync::testing {

namespace detail {

struct LawOutcome {
    std::vector<OperationOutcome> outcomes;
    std::vector<doc::Operation> kept;
    bool failed = false;
    std::size_t swallowed = 0; ///< reported recovered, not replayed, and not already in effect
};

template <class Rules>
LawOutcome run_rules(const Rules& rules, const doc::State& fresh, const doc::State* before,
                     const std::vector<LocalChangeset<doc::Operation>>& local) {
    typename Rules::Context ctx(fresh, before);
    LawOutcome out;
    doc::State now = fresh; // the fresh copy with everything kept so far
    for (const auto& cs : local) {
        for (std::size_t i = 0; i < cs.ops.size(); ++i) {
            auto r = rules.recover(ctx, cs.ops[i]);
            out.outcomes.push_back({cs.client_version, i, r.fate, r.reason});
            if (r.failure) {
                out.failed = true;
                return out;
            }
            if (r.fate == OperationFate::recovered && !(r.emit.size() == 1 && r.emit.front() == cs.ops[i])) {
                doc::State probe = now;
                doc::apply(probe, cs.ops[i]);
                if (!(probe == now)) ++out.swallowed;
            }
            for (auto& op : r.emit) {
                doc::apply(now, op);
                out.kept.push_back(std::move(op));
            }
        }
    }
    return out;
}

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

inline bool same(const std::vector<OperationOutcome>& a, const std::vector<OperationOutcome>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].client_version != b[i].client_version || a[i].index != b[i].index || a[i].fate != b[i].fate)
            return false;
    return true;
}

} // namespace detail

/// Checks the laws for one case: `local` changes recovered onto `fresh`, with `before` the
/// client's state before the reset. Returns the laws broken, in words; empty when all hold.
template <class Rules = recover::DocumentRules>
std::vector<std::string> check_recovery_laws(const doc::State& fresh, const doc::State& before,
                                             const std::vector<LocalChangeset<doc::Operation>>& local,
                                             const Rules& rules = {}) {
    std::vector<std::string> broken;
    const auto first = detail::run_rules(rules, fresh, &before, local);

    // 1. Every operation accounted for, exactly once (all of them unless recovery failed).
    std::set<std::pair<ClientVersion, std::size_t>> seen;
    std::size_t total = 0;
    for (const auto& cs : local) total += cs.ops.size();
    for (const auto& o : first.outcomes)
        if (!seen.emplace(o.client_version, o.index).second)
            broken.push_back("an operation got two outcomes (v" + std::to_string(o.client_version) + "#" +
                             std::to_string(o.index) + ")");
    if (!first.failed && first.outcomes.size() != total)
        broken.push_back("the outcomes account for " + std::to_string(first.outcomes.size()) + " of " +
                         std::to_string(total) + " operations");
    for (const auto& o : first.outcomes)
        if (o.fate != OperationFate::recovered && o.reason.empty())
            broken.push_back("an operation that was not recovered has no reason");
    // 6. Kept as reported.
    if (first.swallowed)
        broken.push_back("an operation reported recovered was neither replayed nor already in effect");

    // 2. Nothing in, nothing out.
    const auto none = detail::run_rules(rules, fresh, &before, {});
    if (!none.kept.empty() || !none.outcomes.empty()) broken.push_back("recovering nothing produced something");

    if (first.failed) return broken; // the remaining laws are about successful recoveries

    // 3. Idempotent: the recovered changesets survive a second recovery from the same fresh copy
    //    unchanged (a reset that follows a reset at once keeps what the first one recovered).
    //    Recovering the *original* changes onto a state that already holds them is not a law:
    //    add-integer would count twice; idempotency keys guard against that, not rules.
    doc::State once = fresh;
    for (const auto& op : first.kept) doc::apply(once, op);
    const std::vector<LocalChangeset<doc::Operation>> recovered{{ClientVersion{1}, 0, first.kept}};
    const auto again = detail::run_rules(rules, fresh, &once, recovered);
    doc::State twice = fresh;
    for (const auto& op : again.kept) doc::apply(twice, op);
    if (again.failed) broken.push_back("recovering twice failed where once succeeded");
    else if (!(twice == once)) broken.push_back("recovering twice differs from recovering once");

    // 7. No resurrection: what the fresh copy lacks comes back only by a local create or insert.
    for (auto& words : detail::resurrected(fresh, once, local)) broken.push_back(std::move(words));

    // 4. Local: an unrelated object on the server changes no outcome.
    doc::State wider = fresh;
    doc::apply(wider, doc::CreateObject{"resync.unrelated", "resync.unrelated"});
    doc::apply(wider, doc::SetField{"resync.unrelated", "resync.unrelated", "f", std::int64_t{1}});
    const auto widened = detail::run_rules(rules, wider, &before, local);
    if (widened.failed || !detail::same(widened.outcomes, first.outcomes))
        broken.push_back("an unrelated object on the server changed the outcomes");

    // 5. Deterministic.
    const auto repeat = detail::run_rules(rules, fresh, &before, local);
    if (!detail::same(repeat.outcomes, first.outcomes) || repeat.kept != first.kept)
        broken.push_back("the same input gave a different output");
    return broken;
}

} // namespace resync::testing
