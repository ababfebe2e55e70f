#pragma once
/// \file
/// Role tags: a reset policy model declares its role with `using resync_role = resync::role::X;`.

#include <concepts>

namespace resync::role {

struct detection {}; ///< turns server messages into a `ResetTrigger`
struct backup {};    ///< preserves the before-state and the unsynced changes
struct discard {};   ///< the one atomic commit that makes the live state equal the fresh copy
struct recovery {};  ///< re-applies local changes onto the fresh copy
struct replay {};    ///< uploads what was recovered
struct execution {}; ///< whether a reset runs at once or waits for the user
struct fallback {};  ///< what a reset does when recovery fails or is not allowed

/// True when `P` declares the role `R`.
template <class P, class R>
concept declares = requires { typename P::resync_role; } && std::same_as<typename P::resync_role, R>;

/// True when `P` declares any role at all.
template <class P>
concept any = declares<P, detection> || declares<P, backup> || declares<P, discard> ||
              declares<P, recovery> || declares<P, replay> || declares<P, execution> || declares<P, fallback>;

} // namespace resync::role
