#pragma once
/// \file
/// `detect::ServerErrors`: a reset whenever the server's error action asks for one.

#include <resync/detect/make_trigger.hpp>
#include <resync/policy/role.hpp>

#include <optional>

namespace resync::detect {

/// Resets when a server error carries the action `reset` or `reset_no_recovery`; the action is
/// authoritative (as in Realm), the code only names the reason. An error with any other action
/// - including an unknown code - never resets.
///
/// | code | reason |
/// |---|---|
/// | 208 bad_client_file_ident | client_unknown |
/// | 209 bad_server_version | server_rollback |
/// | 210 bad_client_version, 211 diverging_histories | diverging_history |
/// | 217 bad_client_file | schema_changed (recovery never allowed) |
/// | 222 client_file_expired | client_expired |
/// | any other | server_requested |
struct ServerErrors {
    using resync_role = role::detection;

    static constexpr ResetReason reason_for(int code) noexcept {
        switch (code) {
        case server_code::bad_client_file_ident: return ResetReason::client_unknown;
        case server_code::bad_server_version: return ResetReason::server_rollback;
        case server_code::bad_client_version:
        case server_code::diverging_histories: return ResetReason::diverging_history;
        case server_code::bad_client_file: return ResetReason::schema_changed;
        case server_code::client_file_expired: return ResetReason::client_expired;
        default: return ResetReason::server_requested;
        }
    }

    std::optional<ResetTrigger> on_welcome(const SyncState&, const protocol::Welcome&) const { return {}; }

    std::optional<ResetTrigger> on_error(const SyncState& client, const ServerError& e) const {
        if (e.action != ServerAction::reset && e.action != ServerAction::reset_no_recovery) return {};
        const auto reason = reason_for(e.code);
        const bool recovery_allowed =
            e.action == ServerAction::reset && reason != ResetReason::schema_changed;
        return trigger_from_error(reason, recovery_allowed, client, e);
    }
};

} // namespace resync::detect
