#pragma once
/// \file
/// `SyncState`: the durable sync bookkeeping a Store keeps next to its data, and the
/// pending-reset record that guards against reset loops (DESIGN §4.3).

#include <resync/position.hpp>
#include <resync/trigger.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace resync {

/// How a reset treats local changes, as recorded by the cycle guard. Ordered by escalation:
/// a failed `recover` attempt becomes `discard`, a failed `discard` becomes `manual`.
enum class ResetMode : std::uint8_t { recover = 1, discard = 2, manual = 3 };

constexpr std::string_view to_string(ResetMode m) noexcept {
    switch (m) {
    case ResetMode::recover: return "recover";
    case ResetMode::discard: return "discard";
    case ResetMode::manual: return "manual";
    }
    return "unknown";
}

/// The phases of the reset pipeline, in order (DESIGN §4).
enum class ResetPhase : std::uint8_t {
    detect = 1, guard, backup, fetch, recover, commit, notify, replay, acknowledge
};

constexpr std::string_view to_string(ResetPhase p) noexcept {
    switch (p) {
    case ResetPhase::detect: return "detect";
    case ResetPhase::guard: return "guard";
    case ResetPhase::backup: return "backup";
    case ResetPhase::fetch: return "fetch";
    case ResetPhase::recover: return "recover";
    case ResetPhase::commit: return "commit";
    case ResetPhase::notify: return "notify";
    case ResetPhase::replay: return "replay";
    case ResetPhase::acknowledge: return "acknowledge";
    }
    return "unknown";
}

/// The durable record of a reset in flight. It is committed on its own before any reset work,
/// and cleared only once the server has acknowledged the replayed upload and the download is
/// complete, so a crash or a failure at any point is seen by the next attempt.
struct PendingReset {
    std::uint32_t attempt = 1;           ///< consecutive resets since the server last confirmed one
    ResetMode mode = ResetMode::recover; ///< the mode in effect, after any downgrade
    ResetReason reason = ResetReason::server_requested;
    int server_error = 0;                ///< the originating server error code, 0 if none
    std::string message;                 ///< the originating server error message
    std::int64_t started_at_ms = 0;      ///< wall-clock start, milliseconds since the Unix epoch
    ResetPhase phase = ResetPhase::guard;///< the last phase that completed durably
    bool awaiting_user = false;          ///< a manual reset waits for `execute()`
    std::string backup_path;             ///< the backup file written for this reset, if any

    friend bool operator==(const PendingReset&, const PendingReset&) = default;
};

/// The sync bookkeeping a Store keeps durably, updated atomically with its data.
struct SyncState {
    ClientIdent client_ident = 0;    ///< 0 until the server assigns one
    ServerPosition download{};       ///< the last server version integrated, with its salt
    ClientVersion upload_acked = 0;  ///< the last local version the server acknowledged
    Epoch epoch = 0;                 ///< the server epoch this replica belongs to; 0 = never synced
    SchemaVersion schema_version = 0;
    std::optional<PendingReset> pending_reset;

    friend bool operator==(const SyncState&, const SyncState&) = default;
};

} // namespace resync
