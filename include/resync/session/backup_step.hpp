#pragma once
/// \file
/// Phase 3 of a reset, the backup: what the policy promises is durable before anything is
/// touched. A manual reset always gets a durable backup file (the policy's own when it writes
/// one, else one in the session's backup directory), since the application decides later what
/// becomes of the local changes.

#include <resync/backup/file.hpp>
#include <resync/session/core.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace resync::session {

/// Where a backup file of this session goes: the backup policy's own directory when it names
/// one (`backup::File{dir}`), else the session's (`SessionOptions::backup_directory`, else the
/// store's); empty when none is named.
template <class S, class T, class P>
std::string backup_file_directory(const Core<S, T, P>& c) {
    if constexpr (requires { c.policy.backup().directory; })
        if (!c.policy.backup().directory.empty()) return c.policy.backup().directory;
    return c.backup_directory();
}

/// Writes a durable backup file of the store's state and unsynced changes - the store's own, when
/// it backs itself up - into the backup file directory.
template <class S, class T, class P>
Result<BackupMade> backup_file(const Core<S, T, P>& c, const ResetTrigger& trigger) {
    const std::string directory = backup_file_directory(c);
    if (directory.empty()) return errc::no_backup_directory;
    if constexpr (store_requirements::backs_itself_up<S>) {
        return c.store.back_up(directory, trigger, c.file_hook());
    } else {
        auto written = backup::write_file(c.store, trigger, directory, c.file_hook());
        if (!written) return written.error();
        return BackupMade{std::move(written->path), true, written->covers_upto};
    }
}

/// Writes a backup file and records it in the running attempt's record (not yet durable: the
/// caller checkpoints).
template <class S, class T, class P>
std::error_code write_backup_file(Core<S, T, P>& c) {
    auto& r = *c.run;
    auto made = backup_file(c, r.trigger);
    if (!made) return made.error();
    r.record.backup_path = made->location;
    r.record.backup_keeps_unsynced = made->keeps_unsynced;
    r.record.backed_up_upto = made->covers_upto;
    r.report.backup_location = made->location;
    return {};
}

/// Phase 3: makes the policy's backup (and, for a manual reset, a durable file), then records the
/// checkpoint: the backup is done, what it holds is named in the record.
template <class S, class T, class P>
std::error_code backup_step(Core<S, T, P>& c) {
    auto& r = *c.run;
    c.begin_phase();
    BackupMade made;
    if (auto ec = c.guarded(ResetPhase::backup, errc::policy_failure, [&]() -> std::error_code {
            auto m = c.policy.backup().backup(c.store, r.trigger, BackupContext{c.backup_directory(), c.file_hook()});
            if (!m) return m.error();
            made = std::move(*m);
            return {};
        }))
        return ec;
    r.record.backup_path = made.location;
    r.record.backup_keeps_unsynced = made.keeps_unsynced;
    r.record.backed_up_upto = made.keeps_unsynced ? made.covers_upto : 0;
    r.report.backup_location = made.location;
    if (r.record.mode == ResetMode::manual && !made.keeps_unsynced)
        if (auto ec = write_backup_file(c)) return ec;
    r.record.phase = ResetPhase::backup;
    if (auto ec = c.checkpoint()) return ec;
    c.end_phase(ResetPhase::backup);
    return {};
}

/// Stops a reset that is (or fell back to) manual: the record says so durably, the session waits,
/// and the application's handler gets the request with the backup's path.
template <class S, class T, class P>
std::error_code await_user(Core<S, T, P>& c) {
    auto& r = *c.run;
    r.record.awaiting_user = true;
    r.record.mode = r.report.mode_used = ResetMode::manual;
    if (auto ec = c.checkpoint()) return ec;
    r.report.outcome = ResetOutcome::awaiting_user;
    // Recovery counts the local changes as it starts, and a reset that waits never got there:
    // the report counts them here, since they are what the application is deciding about.
    r.report.unsynced_changesets = r.report.unsynced_operations = 0;
    count_unsynced(r.report, c.store.unsynced());
    c.last_report = r.report;
    const ResetRequest request{r.trigger, r.record.backup_path, r.record.attempt};
    r.staging.remove_file();
    // The copy is fetched again when the application resets.
    if constexpr (store_stages<S>) (void)c.store.stage_discard();
    c.run.reset();
    c.state = SessionState::awaiting_user;
    if (c.request) c.request(request);
    return {};
}

} // namespace resync::session
