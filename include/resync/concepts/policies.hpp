#pragma once
/// \file
/// One concept per reset-policy role, each built from named sub-concepts, and the `ResetPolicy`
/// concept that `SyncSession` checks. Contracts in prose: docs/concepts.md.

#include <resync/concepts/store.hpp>
#include <resync/file_hook.hpp>
#include <resync/history.hpp>
#include <resync/policy/role.hpp>
#include <resync/protocol.hpp>
#include <resync/report.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/server_error.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace resync {

/// What a recovery policy produces: the changesets to keep as unsynced local changes, and the
/// fate of every local operation it was given.
template <class Op>
struct Recovered {
    std::vector<LocalChangeset<Op>> history;
    std::vector<OperationOutcome> outcomes;
    /// Set when an operation made recovery impossible (a schema-breaking change): the reset
    /// falls back, and the report names this operation and why.
    std::optional<OperationOutcome> failure;
    std::error_code failure_code;
    /// Set by a recovery onto the staged copy itself (`recover::Rebase::task_in_place`): it
    /// applied `history` there already, and this is the undo log of each of its changesets (in
    /// order; applied in reverse, a log reverts its changeset). Empty when the commit applies
    /// `history` (a recovery onto a read-only copy).
    std::vector<std::vector<Op>> undo;
};

/// What a discard policy's commit returns: the before-state it moved aside (a replacing commit
/// hands back the old state instead of copying it), the diff it wrote (a diffing commit), and
/// what it replaced without freeing it (`leftover`: old objects and unneeded staged copies, not
/// a state to read). The session frees `before` and `leftover` over the following polls
/// (`SessionOptions::release_replaced_state_at_once` frees them at once), not inside the commit.
template <class Snapshot>
struct DiscardOutcome {
    std::optional<Snapshot> before;
    std::optional<DiffStats> diff;
    /// Defaulted, so that a policy written before it existed (`DiscardOutcome{before, diff}`)
    /// still compiles warning-free.
    std::optional<Snapshot> leftover = std::nullopt;
};

/// What the session tells a backup policy: where backup files go when the policy names no
/// directory of its own, and the hook to ask before each durable file step.
struct BackupContext {
    std::string directory;          ///< `SessionOptions::backup_directory`, else the store's; may be empty
    const FileHook* hook = nullptr; ///< fault injection (tests); may be null
};

/// Where a backup policy put its backup.
struct BackupMade {
    /// A file path, "memory", "callback" or empty (nothing kept).
    std::string location;
    /// The backup is a durable file holding every unsynced local change (and the state), so a
    /// discard of those changes leaves them in the user's keeping (the keeping rule).
    bool keeps_unsynced = false;
    /// With `keeps_unsynced`: the last client version it holds (later writes are not in it).
    ClientVersion covers_upto = 0;
};

namespace store_requirements {
template <class S>
concept has_self_backup = requires(const S& s, const std::string& dir, const ResetTrigger& t, const FileHook* hook) {
    { s.back_up(dir, t, hook) } -> std::same_as<Result<BackupMade>>;
    { S::verify_backup(dir) } -> std::same_as<std::error_code>;
};
/// Writes its own durable backup file (`cap::self_backup`): `backup::File` and the session's
/// manual backups use it instead of exporting the whole state through the model; the session
/// checks such a file with `S::verify_backup(path)` before a manual reset relies on it.
template <class S>
concept backs_itself_up = declares_capability<S, cap::self_backup> && has_self_backup<S>;
} // namespace store_requirements

namespace detection_requirements {
template <class D>
concept inspects_welcome = requires(const D& d, const SyncState& s, const protocol::Welcome& w) {
    { d.on_welcome(s, w) } -> std::same_as<std::optional<ResetTrigger>>;
};
template <class D>
concept inspects_errors = requires(const D& d, const SyncState& s, const ServerError& e) {
    { d.on_error(s, e) } -> std::same_as<std::optional<ResetTrigger>>;
};
} // namespace detection_requirements

/// Turns what the server says into a `ResetTrigger`, or nothing. A pure function of its inputs.
template <class D>
concept DetectionPolicy = role::declares<D, role::detection> &&
                          detection_requirements::inspects_welcome<D> &&
                          detection_requirements::inspects_errors<D>;

namespace backup_requirements {
template <class B>
concept says_if_it_keeps_the_before_state = requires {
    { B::keeps_before_state } -> std::convertible_to<bool>;
};
template <class B, class S>
concept backs_up = requires(const B& b, const S& s, const ResetTrigger& t, const BackupContext& c) {
    { b.backup(s, t, c) } -> std::same_as<Result<BackupMade>>;
};
} // namespace backup_requirements

/// Preserves what a reset is about to discard. `backup(store, trigger, context)` returns where
/// the backup is only once it is durable; nothing is touched before it returns.
template <class B, class S>
concept BackupPolicy = role::declares<B, role::backup> &&
                       backup_requirements::says_if_it_keeps_the_before_state<B> &&
                       backup_requirements::backs_up<B, S>;

namespace discard_requirements {
template <class D, class S>
concept commits = requires(const D& d, S& s, reset_commit_of<S>&& c) {
    { d.commit(s, std::move(c)) } -> std::same_as<Result<DiscardOutcome<snapshot_of<S>>>>;
};
/// Optional: the same commit, also filling `DiscardOutcome::before` with the old state without
/// a copy taken first. The session uses it when the backup keeps the before-state; otherwise
/// it copies the state before a commit that does not replace it.
template <class D, class S>
concept commits_keeping_before = requires(const D& d, S& s, reset_commit_of<S>&& c) {
    { d.commit_keeping_before(s, std::move(c)) } -> std::same_as<Result<DiscardOutcome<snapshot_of<S>>>>;
};
/// Optional: the commit from a store's own staging (`cap::fresh_copy_staging`), which needs no
/// snapshot in memory. Required of the discard policy when the store stages its fresh copies.
template <class D, class S>
concept commits_staged = requires(const D& d, S& s, StagedResetCommit<operation_of<S>>&& c) {
    { d.commit_staged(s, std::move(c)) } -> std::same_as<Result<DiscardOutcome<snapshot_of<S>>>>;
};
} // namespace discard_requirements

/// Performs the one atomic commit that makes the live store equal the staged state.
template <class D, class S>
concept DiscardPolicy = role::declares<D, role::discard> && discard_requirements::commits<D, S>;

namespace recovery_requirements {
template <class R>
concept names_its_mode = requires {
    { R::mode } -> std::convertible_to<ResetMode>;
};
template <class R, class S>
concept recovers = requires(const R& r, const S& s, const snapshot_of<S>& fresh, const ResetTrigger& t,
                            const std::vector<LocalChangeset<operation_of<S>>>& local) {
    { r.recover(s, fresh, t, local) } -> std::same_as<Result<Recovered<operation_of<S>>>>;
};
/// Optional: recovery in slices. `r.task(store, fresh, trigger)` returns a task with
/// `add(const LocalChangeset<Op>&)` (the changesets to recover, in order), `step(max_operations)
/// -> bool` (true once every added operation is accounted for) and `take() -> Recovered<Op>`, so
/// a budgeted reset never recovers many operations in one `poll()`.
template <class R, class S>
concept recovers_in_slices = requires(const R& r, const S& s, const snapshot_of<S>& fresh, const ResetTrigger& t) {
    r.task(s, fresh, t);
};
} // namespace recovery_requirements

/// Re-applies local changes onto the fresh copy, accounting for every operation.
template <class R, class S>
concept RecoveryPolicy = role::declares<R, role::recovery> && recovery_requirements::names_its_mode<R> &&
                         recovery_requirements::recovers<R, S>;

namespace replay_requirements {
template <class P, class Op>
concept prepares_uploads = requires(const P& p, std::vector<LocalChangeset<Op>> v) {
    { p.prepare(std::move(v)) } -> std::same_as<std::vector<LocalChangeset<Op>>>;
};
template <class P>
concept bounds_upload_size = requires(const P& p) {
    { p.max_changesets_per_upload() } -> std::convertible_to<std::size_t>;
};
} // namespace replay_requirements

/// Shapes the recovered changesets for upload; uploads stay idempotent whatever it does.
template <class P, class Op>
concept ReplayPolicy = role::declares<P, role::replay> && replay_requirements::prepares_uploads<P, Op> &&
                       replay_requirements::bounds_upload_size<P>;

/// Whether a reset runs at once or waits for the user's `execute_reset()`.
template <class E>
concept ExecutionPolicy = role::declares<E, role::execution> && requires {
    { E::waits_for_user } -> std::convertible_to<bool>;
};

/// What a reset does when recovery fails or is not allowed: `mode` is discard or manual.
template <class F>
concept FallbackPolicy = role::declares<F, role::fallback> && requires {
    { F::mode } -> std::convertible_to<ResetMode>;
};

namespace policy_requirements {
template <class P>
concept names_its_models = requires {
    typename P::detection_type;
    typename P::backup_type;
    typename P::discard_type;
    typename P::recovery_type;
    typename P::replay_type;
    typename P::execution_type;
    typename P::fallback_type;
};
/// The session reaches each model through an accessor, and reads the mode the policy asks for.
template <class P>
concept provides_its_models = requires(const P& p) {
    { p.detection() } -> std::convertible_to<const typename P::detection_type&>;
    { p.backup() } -> std::convertible_to<const typename P::backup_type&>;
    { p.discard() } -> std::convertible_to<const typename P::discard_type&>;
    { p.recovery() } -> std::convertible_to<const typename P::recovery_type&>;
    { p.replay() } -> std::convertible_to<const typename P::replay_type&>;
    { p.execution() } -> std::convertible_to<const typename P::execution_type&>;
    { p.fallback() } -> std::convertible_to<const typename P::fallback_type&>;
    { P::requested_mode } -> std::convertible_to<ResetMode>;
};
} // namespace policy_requirements

/// A complete reset policy for store `S`: one model per role (see `resync::Strategy`).
/// (`provides_its_models` comes last: a Strategy's `requested_mode` reads its recovery and
/// execution models, so it is only looked at once those are known to be well-formed.)
template <class P, class S>
concept ResetPolicy = policy_requirements::names_its_models<P> &&
                      DetectionPolicy<typename P::detection_type> && BackupPolicy<typename P::backup_type, S> &&
                      DiscardPolicy<typename P::discard_type, S> &&
                      RecoveryPolicy<typename P::recovery_type, S> &&
                      ReplayPolicy<typename P::replay_type, operation_of<S>> &&
                      ExecutionPolicy<typename P::execution_type> && FallbackPolicy<typename P::fallback_type> &&
                      policy_requirements::provides_its_models<P>;

} // namespace resync
