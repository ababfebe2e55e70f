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

/// Whether a rules' context applies onto the staged copy itself, keeping undo logs (a context
/// from `context_in_place`): then the recovered history is applied already.
template <class Context>
concept applies_in_place = requires(Context& c, decltype(std::declval<Context&>().take_undo())& log) {
    c.revert(log);
};

/// One recovery in progress: the changesets added so far, recovered one operation at a time
/// under `Rules`, each changeset keeping its client version, every operation accounted for.
/// With a context that applies in place, each changeset kept also keeps its undo log, and a
/// recovery that fails reverts everything it applied (the fallback commits the copy as fetched).
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
            if (index_ == 0) begin(cs);
            if (index_ < cs.ops.size()) recover_one(cs, index_++);
            if (index_ >= cs.ops.size() && !out_.failure) {
                end();
                ++changeset_;
                index_ = 0;
            }
        }
        return out_.failure || changeset_ == pending_.size();
    }

    /// Recovers `local` at once, read where it is (nothing is copied but what is kept). Only on a
    /// task nothing was added to.
    void recover_all(const std::vector<LocalChangeset<Op>>& local) {
        std::size_t operations = 0;
        for (const auto& cs : local) operations += cs.ops.size();
        out_.outcomes.reserve(operations);
        out_.history.reserve(local.size());
        if constexpr (applies_in_place<Context>) out_.undo.reserve(local.size());
        for (const auto& cs : local) {
            begin(cs);
            for (std::size_t i = 0; i < cs.ops.size() && !out_.failure; ++i) recover_one(cs, i);
            if (out_.failure) return;
            end();
        }
    }

    /// Operations accounted for so far, and in all.
    std::size_t done() const noexcept { return out_.outcomes.size(); }

    /// Reverts everything this recovery applied onto the staged copy (a recovery given up after
    /// its policy threw). Nothing to do for a recovery onto a scratch state.
    void revert() {
        if constexpr (applies_in_place<Context>) {
            auto current = ctx_.take_undo();
            ctx_.revert(current);
            for (auto it = out_.undo.rbegin(); it != out_.undo.rend(); ++it) ctx_.revert(*it);
            out_.undo.clear();
            out_.history.clear();
        }
    }

    /// The result, once `step` returned true.
    Recovered<Op> take() { return std::move(out_); }

private:
    void begin(const LocalChangeset<Op>& cs) {
        kept_ = LocalChangeset<Op>{};
        kept_.client_version = cs.client_version;
        kept_.ops.reserve(cs.ops.size());
        if constexpr (requires { ctx_.reserve_undo(cs.ops); }) ctx_.reserve_undo(cs.ops);
    }

    /// The changeset is recovered: what it keeps joins the history (with its undo log).
    void end() {
        if constexpr (applies_in_place<Context>) {
            auto undo = ctx_.take_undo();
            if (kept_.ops.empty()) {
                // A rule applied something it did not keep: the staged copy holds only the history.
                ctx_.revert(undo);
                return;
            }
            out_.undo.push_back(std::move(undo));
        }
        if (!kept_.ops.empty()) out_.history.push_back(std::move(kept_));
    }

    /// Recovery failed at an operation: the staged copy goes back to the copy as fetched.
    void fail(OperationOutcome outcome, std::error_code code) {
        out_.failure = outcome;
        out_.failure_code = code;
        out_.outcomes.push_back(std::move(outcome));
        revert();
    }

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
        if (!r)
            return fail(OperationOutcome{cs.client_version, i, OperationFate::dropped, "the recovery rule threw: " + thrown, {}},
                        make_error_code(errc::recovery_failed));
        if (r->failure) return fail(OperationOutcome{cs.client_version, i, r->fate, std::move(r->reason), {}}, r->failure);
        out_.outcomes.push_back(OperationOutcome{cs.client_version, i, r->fate, std::move(r->reason), {}});
        if (r->keeps_operation) kept_.ops.push_back(cs.ops[i]);
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
        auto make_context = [&](const auto* before) { return rules.context(fresh, before); };
        return Task<S, ContextMadeBy<S, decltype(make_context)>>(rules, store, make_context);
    }

    template <class S, class Fresh>
    Result<Recovered<operation_of<S>>> recover(const S& store, const Fresh& fresh, const ResetTrigger& trigger,
                                              const std::vector<LocalChangeset<operation_of<S>>>& local) const {
        auto t = task(store, fresh, trigger);
        t.recover_all(local);
        return t.take();
    }

    /// Whether `Rules` can recover onto store `S`'s decoded copy itself (it offers
    /// `context_in_place(snapshot&, const Before*)`, as `DocumentRules` does).
    template <class S, class R = Rules>
    static constexpr bool recovers_in_place =
        requires(const R& r, snapshot_of<S>& staged, decltype(std::declval<detail::BeforeView<S>>().get()) before) {
            r.context_in_place(staged, before);
        };

    /// A recovery onto `staged`, the decoded copy the commit installs, in slices: each kept
    /// operation is applied there once, and `Recovered::undo` holds each kept changeset's undo
    /// log (what a store with `cap::recovered_in_place` keeps instead of applying the history
    /// again). A recovery that fails leaves `staged` as it was.
    template <class S>
        requires recovers_in_place<S>
    auto task_in_place(const S& store, snapshot_of<S>& staged, const ResetTrigger&) const {
        auto make_context = [&](const auto* before) { return rules.context_in_place(staged, before); };
        return Task<S, ContextMadeBy<S, decltype(make_context)>>(rules, store, make_context);
    }

    /// `task_in_place`, all at once.
    template <class S>
        requires recovers_in_place<S>
    Result<Recovered<operation_of<S>>> recover_in_place(const S& store, snapshot_of<S>& staged, const ResetTrigger& trigger,
                                                       const std::vector<LocalChangeset<operation_of<S>>>& local) const {
        auto t = task_in_place(store, staged, trigger);
        t.recover_all(local);
        return t.take();
    }

private:
    /// The context `make_context(before)` makes, for store `S`'s view of the before-state.
    template <class S, class MakeContext>
    using ContextMadeBy = decltype(std::declval<MakeContext&>()(std::declval<const detail::BeforeView<S>&>().get()));

    /// The task: it owns the view of the before-state the rules' context points into.
    template <class S, class Context>
    class Task {
    public:
        template <class MakeContext>
        Task(const Rules& rules, const S& store, MakeContext&& make_context)
            : before_(std::make_unique<detail::BeforeView<S>>(store)), inner_(rules, make_context(before_->get())) {}
        void add(const LocalChangeset<operation_of<S>>& cs) { inner_.add(cs); }
        void add(LocalChangeset<operation_of<S>>&& cs) { inner_.add(std::move(cs)); }
        bool step(std::size_t max_operations) { return inner_.step(max_operations); }
        void recover_all(const std::vector<LocalChangeset<operation_of<S>>>& local) { inner_.recover_all(local); }
        std::size_t done() const noexcept { return inner_.done(); }
        void revert() { inner_.revert(); }
        Recovered<operation_of<S>> take() { return inner_.take(); }

    private:
        // On the heap, so moving the task does not move the view out from under the context.
        std::unique_ptr<detail::BeforeView<S>> before_;
        detail::RebaseTask<Rules, operation_of<S>, Context> inner_;
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
