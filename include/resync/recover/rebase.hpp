#pragma once
/// \file
/// `recover::Rebase<Rules>` and `recover::RebaseAll<Rules>`: re-apply local changes onto the
/// fresh copy under a rule set, in slices of a bounded number of operations.

#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/error.hpp>
#include <resync/policy/role.hpp>
#include <resync/recover/rule_outcome.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace resync::recover {

namespace detail {

/// The client's state before the reset as a rule set reads it: the store's live view when it
/// offers one (kept by reference when the store hands out a reference, by value otherwise).
template <class S>
class BeforeView {
public:
    explicit BeforeView(const S& store) {
        if constexpr (store_requirements::offers_live_view<S>) {
            if constexpr (std::is_reference_v<decltype(store.live_view())>) view_ = &store.live_view();
            else view_.emplace(store.live_view());
        }
    }
    /// A pointer to the view, or null.
    const auto* get() const noexcept {
        if constexpr (std::is_pointer_v<decltype(view_)>) return view_;
        else return view_ ? &*view_ : nullptr;
    }

private:
    // Looked at only when the store offers a live view (a lazy choice: `live_view()` may not exist).
    template <bool, class = void>
    struct HeldOf {
        using type = const snapshot_of<S>*;
    };
    template <class Void>
    struct HeldOf<true, Void> {
        using View = decltype(std::declval<const S&>().live_view());
        using type = std::conditional_t<std::is_reference_v<View>, const std::remove_cvref_t<View>*,
                                        std::optional<std::remove_cvref_t<View>>>;
    };
    typename HeldOf<store_requirements::offers_live_view<S>>::type view_{};
};

/// One recovery in progress: the changesets added so far, recovered one operation at a time
/// under `Rules`, each changeset keeping its client version, every operation accounted for.
template <class Rules, class Op, class Context>
class RebaseTask {
public:
    RebaseTask(const Rules& rules, Context&& context) : rules_(rules), ctx_(std::move(context)) {}

    /// Adds changesets to recover, after those added before.
    void add(const LocalChangeset<Op>& cs) { pending_.push_back(cs); }
    void add(LocalChangeset<Op>&& cs) { pending_.push_back(std::move(cs)); }

    /// Recovers up to `max_operations` more operations. True once every added operation is
    /// accounted for (or recovery failed: see `Recovered::failure`).
    bool step(std::size_t max_operations) {
        for (std::size_t n = 0; n < max_operations && !out_.failure && changeset_ < pending_.size(); ++n) {
            const auto& cs = pending_[changeset_];
            if (index_ == 0) {
                kept_ = LocalChangeset<Op>{};
                kept_.client_version = cs.client_version;
                kept_.ops.reserve(cs.ops.size());
            }
            if (index_ < cs.ops.size()) recover_one(cs, index_++);
            if (index_ >= cs.ops.size()) {
                if (!kept_.ops.empty()) out_.history.push_back(std::move(kept_));
                ++changeset_;
                index_ = 0;
            }
        }
        return out_.failure || changeset_ == pending_.size();
    }

    /// Operations accounted for so far, and in all.
    std::size_t done() const noexcept { return out_.outcomes.size(); }

    /// The result, once `step` returned true.
    Recovered<Op> take() { return std::move(out_); }

private:
    void recover_one(const LocalChangeset<Op>& cs, std::size_t i) {
        // A rule that throws (a user's rule set) fails recovery at this operation, so the report
        // can name it and say why, instead of a bare "recovery failed".
        std::string thrown;
        auto r = [&]() -> std::optional<RuleOutcome<Op>> {
#if defined(__cpp_exceptions)
            try {
                return rules_.recover(ctx_, cs.ops[i]);
            } catch (const std::exception& e) {
                thrown = e.what();
            } catch (...) {
                thrown = "an exception of unknown type";
            }
            return std::nullopt;
#else
            return rules_.recover(ctx_, cs.ops[i]);
#endif
        }();
        if (!r) {
            OperationOutcome outcome{cs.client_version, i, OperationFate::dropped, "the recovery rule threw: " + thrown, {}};
            out_.failure = outcome;
            out_.failure_code = make_error_code(errc::recovery_failed);
            out_.outcomes.push_back(std::move(outcome));
            return;
        }
        OperationOutcome outcome{cs.client_version, i, r->fate, std::move(r->reason), {}};
        if (r->failure) {
            out_.failure = outcome;
            out_.failure_code = r->failure;
            out_.outcomes.push_back(std::move(outcome));
            return;
        }
        out_.outcomes.push_back(std::move(outcome));
        for (auto& op : r->emit) kept_.ops.push_back(std::move(op));
    }

    const Rules& rules_;
    Context ctx_;
    std::vector<LocalChangeset<Op>> pending_;
    std::size_t changeset_ = 0;
    std::size_t index_ = 0;
    LocalChangeset<Op> kept_;
    Recovered<Op> out_;
};

} // namespace detail

/// Recovers the unsynced local changes onto the fresh copy under `Rules`; the changesets keep
/// their split and client versions. An operation the rules cannot recover makes the reset fall
/// back (see the strategy's fallback role).
///
/// `Rules` provides `context(const Fresh& fresh, const Before* before)` (the scratch space of one
/// recovery, `before` the client's state or null) and
/// `RuleOutcome<Op> recover(Context&, const Op&) const` (docs/concepts.md#recovery-rules).
template <class Rules>
struct Rebase {
    using resync_role = role::recovery;
    static constexpr ResetMode mode = ResetMode::recover;
    /// Whether acknowledged changes that a rolled-back server lost are recovered too.
    static constexpr bool includes_lost_acknowledged = false;

    [[no_unique_address]] Rules rules{};

    /// Whether `Rules` recovers the operations of store `S` (rules that name an `operation_type`
    /// recover only that type). `SyncSession` checks it and says so in words when not.
    template <class S>
    static constexpr bool fits = !requires { typename Rules::operation_type; } ||
                                 std::is_same_v<typename Rules::operation_type, operation_of<S>>;

    /// A recovery onto `fresh` that proceeds in slices (`step(max_operations)`).
    template <class S, class Fresh>
    auto task(const S& store, const Fresh& fresh, const ResetTrigger&) const {
        return Task<S, Fresh>(rules, store, fresh);
    }

    template <class S, class Fresh>
    Result<Recovered<operation_of<S>>> recover(const S& store, const Fresh& fresh, const ResetTrigger& trigger,
                                              const std::vector<LocalChangeset<operation_of<S>>>& local) const {
        auto t = task(store, fresh, trigger);
        for (const auto& cs : local) t.add(cs);
        t.step(static_cast<std::size_t>(-1));
        return t.take();
    }

private:
    template <class S, class Fresh>
    using ContextOf = decltype(std::declval<const Rules&>().context(
        std::declval<const Fresh&>(), std::declval<detail::BeforeView<S>>().get()));

    /// The task: it owns the view of the before-state the rules' context points into.
    template <class S, class Fresh>
    class Task {
    public:
        Task(const Rules& rules, const S& store, const Fresh& fresh)
            : before_(std::make_unique<detail::BeforeView<S>>(store)),
              inner_(rules, rules.context(fresh, before_->get())) {}
        void add(const LocalChangeset<operation_of<S>>& cs) { inner_.add(cs); }
        void add(LocalChangeset<operation_of<S>>&& cs) { inner_.add(std::move(cs)); }
        bool step(std::size_t max_operations) { return inner_.step(max_operations); }
        std::size_t done() const noexcept { return inner_.done(); }
        Recovered<operation_of<S>> take() { return inner_.take(); }

    private:
        // On the heap, so moving the task does not move the view out from under the context.
        std::unique_ptr<detail::BeforeView<S>> before_;
        detail::RebaseTask<Rules, operation_of<S>, ContextOf<S, Fresh>> inner_;
    };
};

/// As `Rebase`, and after a server rollback or divergence within the same epoch, also re-applies
/// the acknowledged local changes the restored server no longer has (DESIGN §4.4): a server
/// restore heals from its clients. The session finds those changes by asking the server what
/// it holds at each acknowledged version.
template <class Rules>
struct RebaseAll : Rebase<Rules> {
    static constexpr bool includes_lost_acknowledged = true;
};

} // namespace resync::recover
