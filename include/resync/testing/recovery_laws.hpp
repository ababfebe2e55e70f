#pragma once
/// \file
/// `testing::check_recovery_laws<Model>`: the laws every recovery rule set must obey, checked on
/// one case, for any model. Run it over many generated cases (with your own generator, for your
/// own rules):
///
/// 1. **accounts for everything**: every local operation gets exactly one outcome, with a reason
///    for anything but `recovered`;
/// 2. **nothing in, nothing out**: recovering no changes keeps nothing and changes nothing;
/// 3. **idempotent**: recovering the recovered changes again, from the same fresh copy, gives the same state;
/// 4. **local**: an unrelated object on the server does not change any outcome (when the model's
///    hooks say how to add one);
/// 5. **deterministic**: the same input gives the same output;
/// 6. **kept as reported**: an operation reported `recovered` is replayed as it was, or its effect
///    is already in the state it is recovered onto (never silently swallowed);
/// 7. **no resurrection**: what the fresh copy lacks is in the result only if a local operation
///    creates it (when the model's hooks say how to find such things).
///
/// The document model's hooks are in `<resync/testing/document_laws.hpp>`.

#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/report.hpp>

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace resync::testing {

/// The model-specific parts of the laws, both optional.
template <Model M>
struct LawHooks {
    using Snapshot = typename M::snapshot_type;
    using Changesets = std::vector<LocalChangeset<typename M::operation_type>>;
    /// Law 4: adds to a fresh copy an object no local operation can touch.
    std::function<void(Snapshot&)> add_unrelated;
    /// Law 7: what `result` holds that `fresh` does not and no operation of `local` creates, in words.
    std::function<std::vector<std::string>(const Snapshot& fresh, const Snapshot& result, const Changesets& local)>
        resurrected;
};

namespace detail {

template <class Op>
struct LawOutcome {
    std::vector<OperationOutcome> outcomes;
    std::vector<Op> kept;
    bool failed = false;
    std::size_t swallowed = 0; ///< reported recovered, not replayed, and not already in effect
};

template <Model M, class Rules>
LawOutcome<typename M::operation_type> run_rules(const Rules& rules, const typename M::snapshot_type& fresh,
                                                 const typename M::snapshot_type* before,
                                                 const std::vector<LocalChangeset<typename M::operation_type>>& local) {
    auto ctx = rules.context(fresh, before);
    LawOutcome<typename M::operation_type> out;
    typename M::snapshot_type now = fresh; // the fresh copy with everything kept so far
    for (const auto& cs : local) {
        for (std::size_t i = 0; i < cs.ops.size(); ++i) {
            auto r = rules.recover(ctx, cs.ops[i]);
            out.outcomes.push_back({cs.client_version, i, r.fate, r.reason, {}});
            if (r.failure) {
                out.failed = true;
                return out;
            }
            if (r.keeps_operation) r.emit.insert(r.emit.begin(), cs.ops[i]);
            if (r.fate == OperationFate::recovered && !(r.emit.size() == 1 && r.emit.front() == cs.ops[i])) {
                auto probe = now;
                M::apply(probe, cs.ops[i]);
                if (!(probe == now)) ++out.swallowed;
            }
            for (auto& op : r.emit) {
                M::apply(now, op);
                out.kept.push_back(std::move(op));
            }
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

/// Checks the laws for one case: `local` changes recovered onto `fresh` under `rules`, with
/// `before` the client's state before the reset. Returns the laws broken, in words; empty when
/// all hold. `Rules` provides `context(fresh, before)` and `recover(context, op)` (see
/// docs/concepts.md#recovery-rules).
template <Model M, class Rules>
std::vector<std::string> check_recovery_laws(const typename M::snapshot_type& fresh,
                                             const typename M::snapshot_type& before,
                                             const std::vector<LocalChangeset<typename M::operation_type>>& local,
                                             const Rules& rules, const LawHooks<M>& hooks = {}) {
    using Op = typename M::operation_type;
    std::vector<std::string> broken;
    const auto first = detail::run_rules<M>(rules, fresh, &before, local);

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
    const auto none = detail::run_rules<M>(rules, fresh, &before, {});
    if (!none.kept.empty() || !none.outcomes.empty()) broken.push_back("recovering nothing produced something");

    if (first.failed) return broken; // the remaining laws are about successful recoveries

    // 3. Idempotent: the recovered changesets survive a second recovery from the same fresh copy
    //    unchanged (a reset that follows a reset at once keeps what the first one recovered).
    //    Recovering the *original* changes onto a state that already holds them is not a law:
    //    add-integer would count twice; idempotency keys guard against that, not rules.
    auto once = fresh;
    for (const auto& op : first.kept) M::apply(once, op);
    const std::vector<LocalChangeset<Op>> recovered{{ClientVersion{1}, 0, first.kept}};
    const auto again = detail::run_rules<M>(rules, fresh, &once, recovered);
    auto twice = fresh;
    for (const auto& op : again.kept) M::apply(twice, op);
    if (again.failed) broken.push_back("recovering twice failed where once succeeded");
    else if (!(twice == once)) broken.push_back("recovering twice differs from recovering once");

    // 7. No resurrection.
    if (hooks.resurrected)
        for (auto& words : hooks.resurrected(fresh, once, local)) broken.push_back(std::move(words));

    // 4. Local: an unrelated object on the server changes no outcome.
    if (hooks.add_unrelated) {
        auto wider = fresh;
        hooks.add_unrelated(wider);
        const auto widened = detail::run_rules<M>(rules, wider, &before, local);
        if (widened.failed || !detail::same(widened.outcomes, first.outcomes))
            broken.push_back("an unrelated object on the server changed the outcomes");
    }

    // 5. Deterministic.
    const auto repeat = detail::run_rules<M>(rules, fresh, &before, local);
    if (!detail::same(repeat.outcomes, first.outcomes) || repeat.kept != first.kept)
        broken.push_back("the same input gave a different output");
    return broken;
}

} // namespace resync::testing
