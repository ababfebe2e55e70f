#pragma once
/// \file
/// `recover::Rebase<Rules>` and `recover::RebaseAll<Rules>`: re-apply local changes onto the
/// fresh copy under a rule set.

#include <resync/concepts/policies.hpp>
#include <resync/error.hpp>
#include <resync/policy/role.hpp>
#include <resync/recover/document_rules.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace resync::recover {

namespace detail {

/// Recovers `local` onto `fresh` with `rules`, keeping each changeset's client version and
/// accounting for every operation.
template <class Rules, class S>
Recovered<typename S::operation_type> rebase(const Rules& rules, const S& store, const typename S::snapshot_type& fresh,
                                             const std::vector<LocalChangeset<typename S::operation_type>>& local) {
    const typename S::snapshot_type* before = nullptr;
    if constexpr (requires { { store.state() } -> std::convertible_to<const typename S::snapshot_type&>; })
        before = &store.state();
    typename Rules::Context ctx(fresh, before);
    Recovered<typename S::operation_type> out;
    std::size_t operations = 0;
    for (const auto& cs : local) operations += cs.ops.size();
    out.outcomes.reserve(operations);
    out.history.reserve(local.size());
    for (const auto& cs : local) {
        LocalChangeset<typename S::operation_type> kept;
        kept.client_version = cs.client_version;
        kept.ops.reserve(cs.ops.size());
        for (std::size_t i = 0; i < cs.ops.size(); ++i) {
            // A rule that throws (a user's rule set) fails recovery at this operation, so the
            // report can name it and say why, instead of a bare "recovery failed".
            std::string thrown;
            auto r = [&]() -> std::optional<std::remove_cvref_t<decltype(rules.recover(ctx, cs.ops[i]))>> {
#if defined(__cpp_exceptions)
                try {
                    return rules.recover(ctx, cs.ops[i]);
                } catch (const std::exception& e) {
                    thrown = e.what();
                } catch (...) {
                    thrown = "an exception of unknown type";
                }
                return std::nullopt;
#else
                return rules.recover(ctx, cs.ops[i]);
#endif
            }();
            if (!r) {
                OperationOutcome outcome{cs.client_version, i, OperationFate::dropped, "the recovery rule threw: " + thrown};
                out.failure = outcome;
                out.failure_code = make_error_code(errc::recovery_failed);
                out.outcomes.push_back(std::move(outcome));
                return out;
            }
            OperationOutcome outcome{cs.client_version, i, r->fate, std::move(r->reason)};
            if (r->failure) {
                out.failure = outcome;
                out.failure_code = r->failure;
                out.outcomes.push_back(std::move(outcome));
                return out;
            }
            out.outcomes.push_back(std::move(outcome));
            for (auto& op : r->emit) kept.ops.push_back(std::move(op));
        }
        if (!kept.ops.empty()) out.history.push_back(std::move(kept));
    }
    return out;
}

} // namespace detail

/// Recovers the unsynced local changes onto the fresh copy under `Rules`; the changesets keep
/// their split and client versions. An operation the rules cannot recover makes the reset fall
/// back (see the strategy's fallback role).
template <class Rules = DocumentRules>
struct Rebase {
    using resync_role = role::recovery;
    static constexpr ResetMode mode = ResetMode::recover;
    /// Whether acknowledged changes that a rolled-back server lost are recovered too.
    static constexpr bool includes_lost_acknowledged = false;

    [[no_unique_address]] Rules rules{};

    template <class S>
    Result<Recovered<typename S::operation_type>>
    recover(const S& store, const typename S::snapshot_type& fresh, const ResetTrigger&,
            const std::vector<LocalChangeset<typename S::operation_type>>& local) const {
        return detail::rebase(rules, store, fresh, local);
    }
};

/// As `Rebase`, and after a server rollback or divergence within the same epoch, also re-applies
/// the acknowledged local changes the restored server no longer has (DESIGN §4.4): a server
/// restore heals from its clients. The session finds those changes by asking the server what
/// it holds at each acknowledged version.
template <class Rules = DocumentRules>
struct RebaseAll : Rebase<Rules> {
    static constexpr bool includes_lost_acknowledged = true;
};

} // namespace resync::recover
