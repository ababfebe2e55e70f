#pragma once
/// \file
/// `resync::Strategy<Models...>`: composes reset-policy models into a `ResetPolicy`, one per
/// role, in any order, every role defaulted.

#include <resync/backup/none.hpp>
#include <resync/detect/standard.hpp>
#include <resync/discard/replace.hpp>
#include <resync/execute.hpp>
#include <resync/policy/role.hpp>
#include <resync/recover/none.hpp>
#include <resync/replay/upload.hpp>
#include <resync/sync_state.hpp>

#include <boost/hana/append.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/front.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace resync {

namespace detail {

/// The model given for role `R` among `Models`, or `Default`; and how many were given.
template <class R, class Default, class... Models>
struct RoleSlot {
    static constexpr auto given = boost::hana::filter(boost::hana::tuple_t<Models...>, [](auto t) {
        return boost::hana::bool_c<role::declares<typename decltype(t)::type, R>>;
    });
    static constexpr std::size_t count = decltype(boost::hana::length(given))::value;
    using type = typename decltype(+boost::hana::front(
        boost::hana::append(given, boost::hana::type_c<Default>)))::type;
};

/// The first argument of type `T`, or a default-constructed `T`.
template <class T>
T pick_model() {
    return T{};
}
template <class T, class First, class... Rest>
T pick_model(First&& first, Rest&&... rest) {
    if constexpr (std::is_same_v<std::remove_cvref_t<First>, T>)
        return T(std::forward<First>(first));
    else
        return pick_model<T>(std::forward<Rest>(rest)...);
}

} // namespace detail

/// A reset policy composed of one model per role. Give any subset of models, in any order; a
/// role left out takes its default:
///
/// | role | default |
/// |---|---|
/// | detection | `detect::Standard` |
/// | backup | `backup::None` |
/// | discard | `discard::Replace` |
/// | recovery | `recover::None` |
/// | replay | `replay::Upload` |
/// | execution | `execute::Automatic` |
/// | fallback | `fallback::Manual` (never discards unless asked to) |
///
/// Stateless models take no space. Construct with the stateful models you need, in any order:
/// `Strategy<backup::File, execute::Manual>{backup::File{"/var/backups"}}`.
template <class... Models>
class Strategy {
    static_assert((role::any<Models> && ...),
                  "resync::Strategy<...>: every argument must be a reset policy model, i.e. declare "
                  "`using resync_role = resync::role::<detection|backup|discard|recovery|replay|execution|fallback>;`");

    template <class R, class D>
    using slot = detail::RoleSlot<R, D, Models...>;

    static_assert(slot<role::detection, void>::count <= 1,
                  "resync::Strategy<...>: two detection policies were given; give each role at most once "
                  "(combine detection policies with detect::AnyOf<...>)");
    static_assert(slot<role::backup, void>::count <= 1,
                  "resync::Strategy<...>: two backup policies were given; give each role at most once");
    static_assert(slot<role::discard, void>::count <= 1,
                  "resync::Strategy<...>: two discard policies were given; give each role at most once");
    static_assert(slot<role::recovery, void>::count <= 1,
                  "resync::Strategy<...>: two recovery policies were given; give each role at most once");
    static_assert(slot<role::replay, void>::count <= 1,
                  "resync::Strategy<...>: two replay policies were given; give each role at most once");
    static_assert(slot<role::execution, void>::count <= 1,
                  "resync::Strategy<...>: two execution policies were given; give each role at most once");
    static_assert(slot<role::fallback, void>::count <= 1,
                  "resync::Strategy<...>: two fallback policies were given; give each role at most once");

public:
    using detection_type = typename slot<role::detection, detect::Standard>::type;
    using backup_type = typename slot<role::backup, backup::None>::type;
    using discard_type = typename slot<role::discard, discard::Replace>::type;
    using recovery_type = typename slot<role::recovery, recover::None>::type;
    using replay_type = typename slot<role::replay, replay::Upload>::type;
    using execution_type = typename slot<role::execution, execute::Automatic>::type;
    using fallback_type = typename slot<role::fallback, fallback::Manual>::type;

    /// The mode this strategy asks for, before the cycle guard has its say.
    static constexpr ResetMode requested_mode =
        execution_type::waits_for_user ? ResetMode::manual : recovery_type::mode;

    Strategy() = default;

    /// Takes any of the strategy's models, in any order; the others are default-constructed.
    template <class... Args>
        requires(sizeof...(Args) > 0 &&
                 ((std::is_same_v<std::remove_cvref_t<Args>, detection_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, backup_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, discard_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, recovery_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, replay_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, execution_type> ||
                   std::is_same_v<std::remove_cvref_t<Args>, fallback_type>) &&
                  ...))
    explicit Strategy(Args&&... models)
        : detection_(detail::pick_model<detection_type>(std::forward<Args>(models)...)),
          backup_(detail::pick_model<backup_type>(std::forward<Args>(models)...)),
          discard_(detail::pick_model<discard_type>(std::forward<Args>(models)...)),
          recovery_(detail::pick_model<recovery_type>(std::forward<Args>(models)...)),
          replay_(detail::pick_model<replay_type>(std::forward<Args>(models)...)),
          execution_(detail::pick_model<execution_type>(std::forward<Args>(models)...)),
          fallback_(detail::pick_model<fallback_type>(std::forward<Args>(models)...)) {}

    const detection_type& detection() const noexcept { return detection_; }
    const backup_type& backup() const noexcept { return backup_; }
    const discard_type& discard() const noexcept { return discard_; }
    const recovery_type& recovery() const noexcept { return recovery_; }
    const replay_type& replay() const noexcept { return replay_; }
    const execution_type& execution() const noexcept { return execution_; }
    const fallback_type& fallback() const noexcept { return fallback_; }

private:
    [[no_unique_address]] detection_type detection_{};
    [[no_unique_address]] backup_type backup_{};
    [[no_unique_address]] discard_type discard_{};
    [[no_unique_address]] recovery_type recovery_{};
    [[no_unique_address]] replay_type replay_{};
    [[no_unique_address]] execution_type execution_{};
    [[no_unique_address]] fallback_type fallback_{};
};

} // namespace resync
