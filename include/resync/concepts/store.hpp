#pragma once
/// \file
/// The `Store` concept: the user's local replica, as the library needs it.
/// Contract in prose: docs/concepts.md#store.

#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <concepts>
#include <cstdint>
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

namespace store_requirements {

template <class S>
concept declares_store = requires { typename S::store_concept; } &&
                         std::same_as<typename S::store_concept, store_t>;

template <class S>
concept names_its_types = requires {
    typename S::operation_type;
    typename S::snapshot_type;
};

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
    { s.unsynced() } -> std::convertible_to<std::vector<LocalChangeset<typename S::operation_type>>>;
};

template <class S>
concept integrates_remote = requires(S& s, std::span<const RemoteChangeset<typename S::operation_type>> e) {
    { s.integrate(e) } -> std::same_as<std::error_code>;
};

template <class S>
concept acknowledges_uploads =
    requires(S& s, ClientVersion v, std::span<const std::pair<ClientVersion, std::uint64_t>> at) {
        { s.acknowledge(v, at) } -> std::same_as<std::error_code>;
    };

template <class S>
concept exports_snapshot = requires(const S& s) {
    { s.export_snapshot() } -> std::same_as<typename S::snapshot_type>;
};

template <class S>
concept decodes_snapshot = requires(const S& s, std::string_view bytes) {
    { s.decode_snapshot(bytes) } -> std::same_as<Result<typename S::snapshot_type>>;
};

template <class S>
concept commits_reset =
    requires(S& s, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) {
        { s.commit_reset(std::move(c)) } -> std::same_as<Result<typename S::snapshot_type>>;
    };

/// Optional: an answer to "is anything unsynced?" without listing it. The session asks on every
/// poll; without it, it lists `unsynced()` and tests emptiness.
template <class S>
concept reports_unsynced = requires(const S& s) {
    { s.has_unsynced() } -> std::same_as<bool>;
};

/// Optional: a commit that writes only the objects that differ (used by `discard::Diff`).
template <class S>
concept commits_reset_by_diff =
    requires(S& s, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) {
        { s.commit_reset_diff(std::move(c)) } -> std::same_as<Result<DiffStats>>;
    };

/// Optional: the same minimal-diff commit, also handing back the state it replaced, assembled by
/// moves (the objects it replaced or erased, and the staged copies of those it left unchanged)
/// rather than copied first. Used by `discard::Diff` when the backup keeps the before-state.
template <class S>
concept commits_reset_diff_keeping_before =
    requires(S& s, ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) {
        { s.commit_reset_diff_keeping_before(std::move(c)) }
            -> std::same_as<Result<DiffCommit<typename S::snapshot_type>>>;
    };

/// Optional: decodes a fresh copy kept in the pieces it arrived in, with the same checks and
/// errors as `decode_snapshot` of the pieces joined, releasing each piece once decoded (so the
/// whole encoded copy and the whole decoded state are not held at once). Without it, the
/// session joins the pieces and calls `decode_snapshot`.
template <class S>
concept decodes_snapshot_pieces = requires(const S& s, std::vector<std::string>&& pieces) {
    { s.decode_snapshot_pieces(std::move(pieces)) } -> std::same_as<Result<typename S::snapshot_type>>;
};

} // namespace store_requirements

/// A local replica the library can sync and reset. Each requirement is a named sub-concept, so
/// a compiler names the piece that is missing; `SyncSession` turns each into one readable
/// `static_assert`.
template <class S>
concept Store = store_requirements::declares_store<S> && store_requirements::names_its_types<S> &&
                store_requirements::reads_sync_state<S> && store_requirements::writes_sync_state<S> &&
                store_requirements::lists_unsynced<S> && store_requirements::integrates_remote<S> &&
                store_requirements::acknowledges_uploads<S> && store_requirements::exports_snapshot<S> &&
                store_requirements::decodes_snapshot<S> && store_requirements::commits_reset<S>;

} // namespace resync
