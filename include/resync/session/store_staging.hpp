#pragma once
/// \file
/// The fresh copy in a store's own staging (`cap::fresh_copy_staging`, a database store): what
/// the session holds of the copy once it is decoded - a lookup view from the store instead of a
/// whole `snapshot_type` - and the store-side twins of the session's own staging steps: resuming,
/// starting, appending, decoding in slices and forgetting. A store without the capability keeps
/// the session's staging (session/staging.hpp, session/decoding.hpp) and never sees these.

#include <resync/concepts/store.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace resync::session {

// (Not in a nested `detail`: inside resync::session that name would hide resync::detail.)
template <class S, bool = store_requirements::stages_fresh_copies<S>>
struct FreshCopyOf {
    using type = snapshot_of<S>;
};
template <class S>
struct FreshCopyOf<S, true> {
    using type = std::remove_cvref_t<decltype(std::declval<const S&>().staged_view())>;
};

/// What the recovery rules read as the fresh copy: the decoded `snapshot_type`, or the store's
/// view of its staged copy.
template <class S>
using fresh_of = typename FreshCopyOf<S>::type;

/// Whether the store stages fresh copies itself.
template <class S>
inline constexpr bool store_stages = store_requirements::stages_fresh_copies<S>;

/// Whether the store's staging holds (a prefix of) the copy `header` describes: the download
/// resumes from `store.staged_bytes()`.
template <class S>
bool store_holds_copy(const S& store, const std::optional<FreshCopyHeader>& header) {
    const auto staged = store.staged_copy();
    return header && staged && *staged == *header && store.staged_bytes() <= header->total_bytes;
}

} // namespace resync::session
