#pragma once
/// \file
/// Optional store capabilities are opted into, never guessed from a member's name: a store lists
/// the ones it offers in `using store_capabilities = resync::capabilities<cap::quarantine, ...>;`
/// and the session uses a capability only when it is declared (and then checks its members,
/// with one `static_assert` naming what is missing). A store that happens to have a member
/// called `quarantined()` does not get its operations quarantined by accident. A transport lists
/// its own in `using transport_capabilities = resync::capabilities<...>;` the same way.

#include <type_traits>

namespace resync {

/// The list of optional capabilities a store declares.
template <class... Caps>
struct capabilities {};

/// The optional capabilities a store can declare (docs/concepts.md#optional-capabilities).
namespace cap {
/// `bool has_unsynced() const`: whether anything is unsynced, without listing it.
struct unsynced_flag {};
/// `std::vector<LocalChangeset<Op>> unsynced(std::size_t max_changesets) const`: the oldest
/// unsynced changesets, at most `max_changesets` of them, without copying the rest.
struct unsynced_pages {};
/// `std::vector<LocalChangeset<Op>> acknowledged_after(std::uint64_t server_version) const`:
/// retained acknowledged changesets (rollback-aware recovery, reports of what a restore lost).
struct acknowledged_history {};
/// `quarantined() const` (a range of `QuarantinedOperation<Op>`): the store keeps
/// `ResetCommit::quarantine` durably, in the commit's transaction.
struct quarantine {};
/// `live_view() const`: what recovery rules read as the client's state before the reset
/// (`const snapshot_type&`, or a lookup view the rules accept), and what `plan_reset(trigger)`
/// plans against.
struct live_view {};
/// `std::size_t object_count() const`: objects in the live state, for reports.
struct object_count {};
/// `Result<DiffStats> commit_reset_diff(ResetCommit<Snapshot, Op>&&)`: the commit of
/// `discard::Diff`, writing only the objects that differ.
struct diff_commit {};
/// `Result<DiffCommit<Snapshot>> commit_reset_diff_keeping_before(ResetCommit<Snapshot, Op>&&)`:
/// the same, also handing back the state it replaced without copying it first.
struct diff_commit_keeping_before {};
/// `Result<DiffCommitLeftover<Snapshot>> commit_reset_diff_leaving_leftover(ResetCommit<Snapshot, Op>&&)`:
/// the `diff_commit` commit, handing back what it replaced instead of freeing it inside the
/// commit, so the session frees it over the following polls. Without it, `discard::Diff` uses
/// `commit_reset_diff`, which frees inside the commit.
struct diff_commit_leftover {};
/// `std::string backup_directory() const`: where backup and staging files go when the
/// application names no directory in `SessionOptions::backup_directory`.
struct backup_directory {};
/// The store's `commit_reset` (and `commit_reset_diff*`, when declared) takes a history that
/// recovery already applied onto the fresh state: when `ResetCommit::history_undo` holds one undo
/// log per changeset, it keeps those logs as the changesets' undo instead of applying the history
/// again. Then the session's recovery applies each local operation once, onto the decoded copy.
/// No member to check: it is a promise about the commit.
struct recovered_in_place {};
/// The store stages a fresh copy itself - in its own durable storage, surviving a restart - and
/// decodes it there in slices, lets the recovery rules read it through a view, and commits from
/// it, so a reset never holds the whole state in memory (a database store):
/// `std::optional<FreshCopyHeader> staged_copy() const`, `std::uint64_t staged_bytes() const`,
/// `std::error_code stage_begin(const FreshCopyHeader&)`, `std::error_code stage_append(std::string_view)`,
/// `Result<bool> stage_decode(std::size_t max_objects)`, `std::size_t staged_objects() const`,
/// `staged_view() const`, `std::error_code stage_discard()`, and
/// `Result<DiffStats> commit_staged_reset(StagedResetCommit<Op>&&, CommitKind)`.
struct fresh_copy_staging {};
/// `Result<BackupMade> back_up(const std::string& directory, const ResetTrigger&, const FileHook*) const`:
/// the store writes its own durable backup file (its state, unsynced changes and sync state) into
/// `directory` - a database with its own online backup - instead of `backup::write_file`
/// exporting its whole state through the model; `static std::error_code verify_backup(const
/// std::string& path)` checks such a file (the store's own reader reads it back).
struct self_backup {};
/// For a Transport: every request sent on a connection is answered on that connection, once and
/// in order, unless the connection breaks (`connection_id()` then changes, and the session says
/// Hello again) - a stream to `server::Engine`, as `net::TcpTransport` is. The session then never
/// sends a request again on the same connection (`SessionOptions::retry_after_polls` does not
/// apply): the copy would only queue behind the first, and under load every copy is one more
/// request for a server that is already late.
struct answers_every_request {};
} // namespace cap

namespace detail {
template <class List, class Cap>
struct lists_capability : std::false_type {};
template <class... Caps, class Cap>
struct lists_capability<capabilities<Caps...>, Cap> : std::bool_constant<(std::is_same_v<Caps, Cap> || ...)> {};
} // namespace detail

/// True when `S` declares the optional capability `Cap` in `S::store_capabilities`.
template <class S, class Cap>
concept declares_capability = requires { typename S::store_capabilities; } &&
                              detail::lists_capability<typename S::store_capabilities, Cap>::value;

/// True when the transport `T` declares the optional capability `Cap` in `T::transport_capabilities`.
template <class T, class Cap>
concept declares_transport_capability = requires { typename T::transport_capabilities; } &&
                                        detail::lists_capability<typename T::transport_capabilities, Cap>::value;

} // namespace resync
