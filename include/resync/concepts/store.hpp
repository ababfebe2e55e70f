#pragma once
/// \file
/// The `Store` concept: the user's local replica, as the library needs it, and its optional
/// capabilities. Contract in prose: docs/concepts.md#store.

#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace resync {

/// Opt-in tag: a Store declares `using store_concept = resync::store_t;`, so that no type
/// models Store (and gets its data discarded by a reset) by accident.
struct store_t {};

/// The model, operation and snapshot types of a store.
template <class S>
using model_of = typename S::model_type;
template <class S>
using operation_of = typename S::model_type::operation_type;
template <class S>
using snapshot_of = typename S::model_type::snapshot_type;
/// What a store's reset commit takes.
template <class S>
using reset_commit_of = ResetCommit<snapshot_of<S>, operation_of<S>>;

namespace store_requirements {

template <class S>
concept declares_store = requires { typename S::store_concept; } &&
                         std::same_as<typename S::store_concept, store_t>;

template <class S>
concept names_its_model = requires { typename S::model_type; } && Model<typename S::model_type>;

template <class S>
concept reads_sync_state = requires(const S& s) {
    { s.sync_state() } -> std::convertible_to<const SyncState&>;
};

template <class S>
concept writes_sync_state = requires(S& s, const SyncState& state) {
    { s.write_sync_state(state) } -> std::same_as<std::error_code>;
};

template <class S>
concept lists_unsynced = requires(const S& s) {
    { s.unsynced() } -> std::convertible_to<std::vector<LocalChangeset<operation_of<S>>>>;
};

template <class S>
concept integrates_remote = requires(S& s, std::span<const RemoteChangeset<operation_of<S>>> e) {
    { s.integrate(e) } -> std::same_as<std::error_code>;
};

template <class S>
concept acknowledges_uploads =
    requires(S& s, ClientVersion v, std::span<const std::pair<ClientVersion, std::uint64_t>> at) {
        { s.acknowledge(v, at) } -> std::same_as<std::error_code>;
    };

template <class S>
concept exports_snapshot = requires(const S& s) {
    { s.export_snapshot() } -> std::same_as<snapshot_of<S>>;
};

template <class S>
concept commits_reset = requires(S& s, reset_commit_of<S>&& c) {
    { s.commit_reset(std::move(c)) } -> std::same_as<Result<snapshot_of<S>>>;
};

// ------------------------------------------------------------------ optional capabilities
// Each is used only when the store declares it (concepts/capabilities.hpp); `SyncSession`
// checks the members of every declared capability and names any that is missing.

template <class S>
concept has_unsynced_flag = requires(const S& s) {
    { s.has_unsynced() } -> std::same_as<bool>;
};
/// Answers "is anything unsynced?" without listing it (asked on every poll).
template <class S>
concept reports_unsynced = declares_capability<S, cap::unsynced_flag> && has_unsynced_flag<S>;

template <class S>
concept has_unsynced_pages = requires(const S& s, std::size_t n) {
    { s.unsynced(n) } -> std::convertible_to<std::vector<LocalChangeset<operation_of<S>>>>;
};
/// Lists the oldest unsynced changesets without copying all of them (each upload).
template <class S>
concept pages_unsynced = declares_capability<S, cap::unsynced_pages> && has_unsynced_pages<S>;

template <class S>
concept has_acknowledged_history = requires(const S& s, std::uint64_t v) {
    { s.acknowledged_after(v) } -> std::convertible_to<std::vector<LocalChangeset<operation_of<S>>>>;
};
/// Keeps acknowledged changesets for a while (rollback-aware recovery, reports of a restore).
template <class S>
concept keeps_acknowledged_history =
    declares_capability<S, cap::acknowledged_history> && has_acknowledged_history<S>;

template <class S>
concept has_quarantine = requires(const S& s) {
    { *std::begin(s.quarantined()) } -> std::convertible_to<const QuarantinedOperation<operation_of<S>>&>;
};
/// Keeps `ResetCommit::quarantine` durably, in the commit's transaction.
template <class S>
concept keeps_quarantine = declares_capability<S, cap::quarantine> && has_quarantine<S>;

template <class S>
concept has_live_view = requires(const S& s) { s.live_view(); };
/// Offers a view of its live state for recovery rules and dry runs.
template <class S>
concept offers_live_view = declares_capability<S, cap::live_view> && has_live_view<S>;
/// Its live view is its own snapshot, lent by reference (`MemoryStore`'s): the model's functions
/// over a snapshot read it in place, without a copy.
template <class S>
concept lends_live_snapshot = offers_live_view<S> && requires(const S& s) {
    { s.live_view() } -> std::same_as<const snapshot_of<S>&>;
};

template <class S>
concept has_object_count = requires(const S& s) {
    { s.object_count() } -> std::convertible_to<std::size_t>;
};
/// Counts its objects cheaply, for reports.
template <class S>
concept counts_objects = declares_capability<S, cap::object_count> && has_object_count<S>;

template <class S>
concept has_diff_commit = requires(S& s, reset_commit_of<S>&& c) {
    { s.commit_reset_diff(std::move(c)) } -> std::same_as<Result<DiffStats>>;
};
/// A commit that writes only the objects that differ (used by `discard::Diff`).
template <class S>
concept commits_reset_by_diff = declares_capability<S, cap::diff_commit> && has_diff_commit<S>;

template <class S>
concept has_diff_commit_keeping_before = requires(S& s, reset_commit_of<S>&& c) {
    { s.commit_reset_diff_keeping_before(std::move(c)) } -> std::same_as<Result<DiffCommit<snapshot_of<S>>>>;
};
/// The minimal-diff commit, also handing back the replaced state assembled by moves.
template <class S>
concept commits_reset_diff_keeping_before =
    declares_capability<S, cap::diff_commit_keeping_before> && has_diff_commit_keeping_before<S>;

/// Takes a history that recovery already applied onto the fresh state, with its undo logs
/// (`ResetCommit::history_undo`), instead of applying it again.
template <class S>
concept takes_recovered_in_place = declares_capability<S, cap::recovered_in_place>;

template <class S>
concept has_diff_commit_leftover = requires(S& s, reset_commit_of<S>&& c) {
    { s.commit_reset_diff_leaving_leftover(std::move(c)) } -> std::same_as<Result<DiffCommitLeftover<snapshot_of<S>>>>;
};
/// The minimal-diff commit, handing back what it replaced for the caller to free later.
template <class S>
concept commits_reset_diff_leaving_leftover =
    declares_capability<S, cap::diff_commit_leftover> && has_diff_commit_leftover<S>;

template <class S>
concept has_backup_directory = requires(const S& s) {
    { s.backup_directory() } -> std::convertible_to<std::string>;
};
/// Names where backup and staging files go, when the application does not.
template <class S>
concept names_backup_directory = declares_capability<S, cap::backup_directory> && has_backup_directory<S>;

template <class S>
concept has_fresh_copy_staging =
    requires(S& s, const S& cs, const FreshCopyHeader& h, std::string_view bytes, std::size_t n,
             StagedResetCommit<operation_of<S>>&& c, CommitKind kind) {
        { cs.staged_copy() } -> std::same_as<std::optional<FreshCopyHeader>>;
        { cs.staged_bytes() } -> std::convertible_to<std::uint64_t>;
        { s.stage_begin(h) } -> std::same_as<std::error_code>;
        { s.stage_append(bytes) } -> std::same_as<std::error_code>;
        { s.stage_decode(n) } -> std::same_as<Result<bool>>;
        { cs.staged_objects() } -> std::convertible_to<std::size_t>;
        cs.staged_view();
        { s.stage_discard() } -> std::same_as<std::error_code>;
        { s.commit_staged_reset(std::move(c), kind) } -> std::same_as<Result<DiffStats>>;
    };
/// Stages a fresh copy in its own durable storage and commits from it (a database store).
template <class S>
concept stages_fresh_copies = declares_capability<S, cap::fresh_copy_staging> && has_fresh_copy_staging<S>;

} // namespace store_requirements

/// A local replica the library can sync and reset. Each requirement is a named sub-concept, so
/// a compiler names the piece that is missing; `SyncSession` turns each into one readable
/// `static_assert`.
template <class S>
concept Store = store_requirements::declares_store<S> && store_requirements::names_its_model<S> &&
                store_requirements::reads_sync_state<S> && store_requirements::writes_sync_state<S> &&
                store_requirements::lists_unsynced<S> && store_requirements::integrates_remote<S> &&
                store_requirements::acknowledges_uploads<S> && store_requirements::exports_snapshot<S> &&
                store_requirements::commits_reset<S>;

} // namespace resync
