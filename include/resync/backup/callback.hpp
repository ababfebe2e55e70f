#pragma once
/// \file
/// `backup::Callback<F>`: the user's function makes the backup.

#include <resync/concepts/policies.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <concepts>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

namespace resync::backup {

/// Calls `f(const Store&, const ResetTrigger&) -> std::error_code` before anything is touched;
/// the reset goes on only when it returns no error (the backup must be durable by then). What the
/// function keeps is the application's business: unsynced changes a reset discards are kept by
/// the library too (the store's quarantine or a backup file: the keeping rule).
template <class F>
struct Callback {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = false;

    F f;

    Callback() = default;
    explicit Callback(F fn) : f(std::move(fn)) {}

    template <class S>
    Result<BackupMade> backup(const S& store, const ResetTrigger& trigger, const BackupContext&) const {
        static_assert(std::is_invocable_r_v<std::error_code, const F&, const S&, const ResetTrigger&>,
                      "resync::backup::Callback<F>: F must be callable as "
                      "std::error_code(const Store&, const ResetTrigger&)");
        if (auto ec = std::invoke(f, store, trigger)) return ec;
        return BackupMade{std::string("callback"), false};
    }
};

template <class F>
Callback(F) -> Callback<F>;

} // namespace resync::backup
