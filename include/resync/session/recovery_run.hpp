#pragma once
/// \file
/// `session::RecoveryRun<P, S, Fresh>`: one recovery as the session drives it, in slices when the
/// recovery policy offers a task (`recover::Rebase` does), else in one step. `Fresh` is what the
/// rules read as the fresh copy: the decoded snapshot, or a store's view of its staged copy.

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
    /// Whether the policy recovers in slices.
    static constexpr bool sliced = requires(const R& r, const S& s, const Fresh& f, const ResetTrigger& t) {
        r.task(s, f, t);
    };

    /// Starts a recovery onto `fresh` (which must outlive it).
    void start(const R& policy, const S& store, const Fresh& fresh, const ResetTrigger& trigger) {
        policy_ = &policy;
        store_ = &store;
        fresh_ = &fresh;
        trigger_ = trigger;
        local_.clear();
        added_ = 0;
        if constexpr (sliced) task_.emplace(policy.task(store, fresh, trigger));
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

    /// The result, once `step` returned true.
    Result<Recovered<Op>> take() {
        if constexpr (sliced) return task_->take();
        else return std::move(*result_);
    }

private:
    template <bool, class = void>
    struct TaskOf {
        struct type {};
    };
    template <class Void>
    struct TaskOf<true, Void> {
        using type = decltype(std::declval<const R&>().task(std::declval<const S&>(), std::declval<const Fresh&>(),
                                                            std::declval<const ResetTrigger&>()));
    };

    const R* policy_ = nullptr;
    const S* store_ = nullptr;
    const Fresh* fresh_ = nullptr;
    ResetTrigger trigger_;
    std::vector<LocalChangeset<Op>> local_;
    std::size_t added_ = 0;
    std::optional<typename TaskOf<sliced>::type> task_;
    std::optional<Result<Recovered<Op>>> result_;
};

} // namespace resync::session
