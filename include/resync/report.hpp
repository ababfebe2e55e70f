#pragma once
/// \file
/// `ResetReport`: the structured account of one reset: what triggered it, which strategy ran
/// (after any downgrade), what happened to every local operation, where the backup is, and how
/// long each phase took.

#include <resync/reset_commit.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace resync {

/// What became of one local operation in a reset.
enum class OperationFate : std::uint8_t {
    recovered = 1,   ///< replayed onto the fresh copy as it was
    transformed,     ///< replayed in a changed form (e.g. a list index re-resolved)
    dropped,         ///< not replayed; `reason` says why (e.g. the server erased the object)
    quarantined,     ///< not replayed, and kept durably in the store's quarantine for export or retry
    discarded,       ///< not replayed by a discarding reset; kept in a backup file (see the report), unless the application opted out
    lost_on_server,  ///< acknowledged once, then lost by the server (restored from a backup); not re-applied by this strategy (RecoverAll would)
};

constexpr std::string_view to_string(OperationFate f) noexcept {
    switch (f) {
    case OperationFate::recovered: return "recovered";
    case OperationFate::transformed: return "transformed";
    case OperationFate::dropped: return "dropped";
    case OperationFate::quarantined: return "quarantined";
    case OperationFate::discarded: return "discarded";
    case OperationFate::lost_on_server: return "lost on server";
    }
    return "unknown";
}

/// The fate of one operation of one local changeset.
struct OperationOutcome {
    ClientVersion client_version = 0; ///< the changeset it belonged to
    std::size_t index = 0;            ///< its position in that changeset
    OperationFate fate = OperationFate::recovered;
    std::string reason;               ///< why, for anything but `recovered`
    std::string what;                 ///< what the operation does, in the model's words (empty if it has none)
};

/// How a reset ended.
enum class ResetOutcome : std::uint8_t {
    completed = 1,  ///< committed; the pending-reset record clears once the server confirms
    awaiting_user,  ///< a manual reset is waiting for `execute_reset()`
    abandoned,      ///< failed before the commit; the local data is unchanged
};

constexpr std::string_view to_string(ResetOutcome o) noexcept {
    switch (o) {
    case ResetOutcome::completed: return "completed";
    case ResetOutcome::awaiting_user: return "awaiting user";
    case ResetOutcome::abandoned: return "abandoned";
    }
    return "unknown";
}

/// The structured account of one reset.
struct ResetReport {
    ResetTrigger trigger;
    ResetMode mode_requested = ResetMode::discard; ///< what the policy asks for
    ResetMode mode_used = ResetMode::discard;      ///< what ran, after the cycle guard and fallbacks
    std::uint32_t attempt = 1;                     ///< attempt number for this reason
    ResetOutcome outcome = ResetOutcome::abandoned;
    std::error_code error;                         ///< why it was abandoned, if it was
    std::optional<ResetPhase> failed_phase;        ///< which phase failed, if one did
    std::string detail;                            ///< extra words on the failure, if any

    std::string backup_location;                   ///< a file path, "memory", "callback" or empty
    /// A backup file written just before the commit to keep operations the reset did not carry
    /// forward and no earlier backup held (writes made while the reset ran, say); empty if none.
    std::string keeping_location;
    bool resumed = false;                          ///< the attempt went on after a restart or an abandoned try
    std::size_t unsynced_changesets = 0;           ///< local changesets not yet acknowledged before the reset
    std::size_t unsynced_operations = 0;
    std::size_t lost_acknowledged = 0;             ///< acknowledged changesets the restored server no longer had
    std::optional<std::size_t> objects_before;     ///< objects before the commit, when the store can count them
    std::optional<std::size_t> objects_after;
    std::uint64_t fresh_copy_bytes = 0;
    std::optional<DiffStats> diff;                 ///< set when the discard wrote a minimal diff
    std::vector<OperationOutcome> operations;      ///< one entry per local operation

    /// Wall-clock time spent in each phase, indexed by `ResetPhase` - 1.
    std::array<std::chrono::nanoseconds, 9> phase_time{};

    std::size_t count(OperationFate fate) const noexcept {
        std::size_t n = 0;
        for (const auto& op : operations) n += op.fate == fate;
        return n;
    }
    std::chrono::nanoseconds time_in(ResetPhase p) const noexcept {
        return phase_time[static_cast<std::size_t>(p) - 1];
    }
};

/// What a reset would do, computed without touching anything (`SyncSession::plan_reset`).
struct ResetPlan {
    ResetTrigger trigger;
    ResetMode mode = ResetMode::discard;      ///< the mode the cycle guard would choose now
    std::uint32_t attempt = 1;
    std::vector<OperationOutcome> operations; ///< one entry per unsynced local operation
    std::string failure;                      ///< why recovery would fail (and fall back), if it would

    std::size_t count(OperationFate fate) const noexcept {
        std::size_t n = 0;
        for (const auto& op : operations) n += op.fate == fate;
        return n;
    }
};

/// A human-readable, multi-line rendering of a report.
inline std::string to_string(const ResetReport& r) {
    std::string s;
    auto line = [&](std::string_view a, std::string_view b = {}) {
        s.append(a);
        s.append(b);
        s.push_back('\n');
    };
    line("client reset: ", to_string(r.outcome));
    line("  cause:      ", to_string(r.trigger.reason));
    if (r.trigger.server_error.code != 0)
        line("  server:     ", std::to_string(r.trigger.server_error.code) + " " + r.trigger.server_error.message);
    line("  strategy:   ", std::string(to_string(r.mode_requested)) +
                               (r.mode_used != r.mode_requested
                                    ? std::string(" -> ") + std::string(to_string(r.mode_used))
                                    : std::string()) +
                               " (attempt " + std::to_string(r.attempt) + ")");
    if (!r.backup_location.empty()) line("  backup:     ", r.backup_location);
    if (!r.keeping_location.empty()) line("  also kept:  ", r.keeping_location);
    if (r.resumed) line("  resumed:    ", "yes (after a restart or an abandoned try)");
    line("  unsynced:   ", std::to_string(r.unsynced_changesets) + " changesets, " +
                               std::to_string(r.unsynced_operations) + " operations");
    if (r.lost_acknowledged)
        line("  lost acked: ", std::to_string(r.lost_acknowledged) + " changesets the restored server no longer had");
    auto count_of = [](const std::optional<std::size_t>& n) { return n ? std::to_string(*n) : std::string("?"); };
    if (r.objects_before || r.objects_after)
        line("  objects:    ", count_of(r.objects_before) + " before, " + count_of(r.objects_after) + " after");
    if (r.diff)
        line("  written:    ", std::to_string(r.diff->created) + " created, " + std::to_string(r.diff->updated) +
                                   " updated, " + std::to_string(r.diff->erased) + " erased, " +
                                   std::to_string(r.diff->unchanged) + " unchanged");
    for (auto fate : {OperationFate::recovered, OperationFate::transformed, OperationFate::dropped,
                      OperationFate::quarantined, OperationFate::discarded, OperationFate::lost_on_server})
        if (auto n = r.count(fate)) line("  ", std::string(to_string(fate)) + ": " + std::to_string(n) + " operations");
    for (const auto& op : r.operations)
        if (op.fate != OperationFate::recovered && !op.reason.empty())
            line("    v", std::to_string(op.client_version) + "#" + std::to_string(op.index) + " " +
                            (op.what.empty() ? std::string() : op.what + " ") + std::string(to_string(op.fate)) +
                            ": " + op.reason);
    if (r.error) {
        line("  error:      ", r.error.message());
        if (r.failed_phase) line("  failed in:  ", to_string(*r.failed_phase));
    }
    // Also without an error: a recovery that failed into the fallback says here which operation
    // failed and why.
    if (!r.detail.empty()) line("  detail:     ", r.detail);
    return s;
}

} // namespace resync
