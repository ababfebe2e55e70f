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
#include <vector>

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

/// What a session knows of the fresh copy it is staging: where the server took it, and how big
/// it is. Kept in the pending-reset record, so a restart resumes the download where it stopped.
struct FreshCopyHeader {
    ServerPosition position{};        ///< the server position the copy was taken at
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
    ClientIdent new_ident = 0;        ///< the ident the client adopts with this copy
    std::uint64_t total_bytes = 0;    ///< the copy's size, as its first chunk announced it
    ClientVersion integrated_from_requester = 0; ///< unsynced changes up to this are already in the copy

    friend bool operator==(const FreshCopyHeader&, const FreshCopyHeader&) = default;
};

/// The durable record of a reset in flight, and its checkpoint. It is committed on its own before
/// any reset work, updated at the end of every step, and cleared only once the server has
/// acknowledged the replayed upload and the download is complete, so a crash or a failure at any
/// point is seen by the next session, which resumes the same attempt from its checkpoint.
struct PendingReset {
    std::uint32_t attempt = 1;           ///< completed resets since the server last confirmed one, plus this one
    std::uint32_t repeats = 0;           ///< of those, consecutive ones for this same reason (drives escalation)
    std::uint32_t failures = 0;          ///< times this attempt was abandoned on an error before its commit
    ResetMode mode = ResetMode::recover; ///< the mode in effect, after any downgrade
    ResetReason reason = ResetReason::server_requested;
    bool recovery_allowed = true;        ///< false: the server forbids replaying local operations
    int server_error = 0;                ///< the originating server error code, 0 if none
    std::string message;                 ///< the originating server error message
    std::int64_t started_at_ms = 0;      ///< wall-clock start, milliseconds since the Unix epoch
    std::int64_t not_before_ms = 0;      ///< backoff: the attempt does not start (or go on) before this time
    ResetPhase phase = ResetPhase::guard;///< the last phase that completed durably
    bool awaiting_user = false;          ///< a manual reset waits for `execute_reset()`
    std::string backup_path;             ///< the backup file written for this reset, if any
    /// `backup_path` is a durable file holding the state and every unsynced change up to
    /// `backed_up_upto` (later writes are not in it).
    bool backup_keeps_unsynced = false;
    ClientVersion backed_up_upto = 0;
    std::string staging_path;            ///< the file the fresh copy is staged in, if any
    std::optional<FreshCopyHeader> copy; ///< the fresh copy being staged, once its first chunk came
    /// The acknowledged local changesets the server of that copy no longer has (by client
    /// version), as its answers to the probes said: kept here, so a restart that resumes from
    /// the staged copy still reports them (and RebaseAll still re-applies them).
    std::vector<ClientVersion> lost_acknowledged;

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
