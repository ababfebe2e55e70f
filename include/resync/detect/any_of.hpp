#pragma once
/// \file
/// `detect::AnyOf<Ds...>`: the first of several detection policies that finds a reason.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>

#include <optional>
#include <tuple>

namespace resync::detect {

/// Asks each detection policy in order and returns the first trigger found; order the more
/// specific causes first (an epoch change makes version comparisons meaningless).
template <class... Ds>
struct AnyOf {
    static_assert(sizeof...(Ds) > 0, "resync::detect::AnyOf<...> needs at least one detection policy");
    static_assert((DetectionPolicy<Ds> && ...),
                  "resync::detect::AnyOf<...>: every argument must model DetectionPolicy "
                  "(declare `using resync_role = resync::role::detection;` and provide "
                  "on_welcome(const SyncState&, const protocol::Welcome&) and "
                  "on_error(const SyncState&, const ServerError&), both returning "
                  "std::optional<ResetTrigger>)");
    using resync_role = role::detection;

    AnyOf() = default;
    explicit AnyOf(Ds... ds) : parts(std::move(ds)...) {}

    std::optional<ResetTrigger> on_welcome(const SyncState& client, const protocol::Welcome& w) const {
        return first([&](const auto& d) { return d.on_welcome(client, w); });
    }
    std::optional<ResetTrigger> on_error(const SyncState& client, const ServerError& e) const {
        return first([&](const auto& d) { return d.on_error(client, e); });
    }

    [[no_unique_address]] std::tuple<Ds...> parts;

private:
    template <class F>
    std::optional<ResetTrigger> first(F&& ask) const {
        std::optional<ResetTrigger> found;
        std::apply([&](const auto&... d) { ((found = found ? found : ask(d)), ...); }, parts);
        return found;
    }
};

} // namespace resync::detect
