#pragma once
/// \file
/// `session::RecoveryRun<P, S, Fresh>`: one recovery as the session drives it, in slices when the
/// recovery policy offers a task (`recover::Rebase` does), else in one step. `Fresh` is what the
/// rules read as the fresh copy: the decoded snapshot, or a store's view of its staged copy.
/// When the store keeps a history recovery applied already (`cap::recovered_in_place`) and the
/// policy can recover onto the decoded snapshot itself (`task_in_place`), it does: each local
/// operation is applied once, there, and the commit keeps the result.

#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/history.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace resync::session {

template <class P, class S, class Fresh = snapshot_of<S>>
class RecoveryRun {
    using R = typename P::recovery_type;
    using Op = operation_of<S>;

public:
    /// Whether the policy recovers onto the decoded copy itself, for a store that keeps the
    /// history so applied: `Recovered::undo` is then set, and the commit passes it on.
    static constexpr bool in_place =
        store_requirements::takes_recovered_in_place<S> && std::is_same_v<Fresh, snapshot_of<S>> &&
        requires(const R& r, const S& s, Fresh& f, const ResetTrigger& t) { r.task_in_place(s, f, t); };
    /// Whether the policy recovers in slices.
    static constexpr bool sliced = in_place || requires(const R& r, const S& s, const Fresh& f, const ResetTrigger& t) {
        r.task(s, f, t);
    };

    /// Starts a recovery onto `fresh` (which must outlive it; a recovery in place changes it).
    void start(const R& policy, const S& store, Fresh& fresh, const ResetTrigger& trigger) {
        policy_ = &policy;
        store_ = &store;
        fresh_ = &fresh;
        trigger_ = trigger;
        local_.clear();
        added_ = 0;
        if constexpr (in_place) task_.emplace(policy.task_in_place(store, fresh, trigger));
        else if constexpr (sliced) task_.emplace(policy.task(store, std::as_const(fresh), trigger));
    }

    /// Adds changesets to recover, after those added before.
    void add(const LocalChangeset<Op>& cs) {
        added_ += cs.ops.size();
        if constexpr (sliced) task_->add(cs);
        else local_.push_back(cs);
    }

    /// Recovers up to `max_operations` more (all at once without slices). True once done.
    /// A policy's error comes back from `take()`.
    bool step(std::size_t max_operations) {
        if constexpr (sliced) {
            return task_->step(max_operations);
        } else {
            (void)max_operations;
            result_.emplace(policy_->recover(*store_, *fresh_, trigger_, local_));
            return true;
        }
    }

    /// Operations accounted for so far, and added in all (for progress).
    std::size_t done() const {
        if constexpr (sliced) return task_->done();
        else return result_ ? added_ : 0;
    }
    std::size_t total() const noexcept { return added_; }

    /// Gives up a recovery whose policy threw: what it applied onto the copy is reverted, so a
    /// fallback commits the copy as fetched.
    void revert() {
        if constexpr (in_place) task_->revert();
    }

    /// The result, once `step` returned true.
    Result<Recovered<Op>> take() {
        if constexpr (sliced) return task_->take();
        else return std::move(*result_);
    }

private:
    // Looked at only for the kind of recovery the policy offers (a lazy choice: `task` or
    // `task_in_place` may not exist).
    template <bool, bool, class = void>
    struct TaskOf {
        struct type {};
    };
    template <class Void>
    struct TaskOf<true, false, Void> {
        using type = decltype(std::declval<const R&>().task(std::declval<const S&>(), std::declval<const Fresh&>(),
                                                            std::declval<const ResetTrigger&>()));
    };
    template <bool Sliced, class Void>
    struct TaskOf<Sliced, true, Void> {
        using type = decltype(std::declval<const R&>().task_in_place(std::declval<const S&>(), std::declval<Fresh&>(),
                                                                     std::declval<const ResetTrigger&>()));
    };

    const R* policy_ = nullptr;
    const S* store_ = nullptr;
    const Fresh* fresh_ = nullptr;
    ResetTrigger trigger_;
    std::vector<LocalChangeset<Op>> local_;
    std::size_t added_ = 0;
    std::optional<typename TaskOf<sliced, in_place>::type> task_;
    std::optional<Result<Recovered<Op>>> result_;
};

} // namespace resync::session
