#pragma once
/// \file
/// `backup::File`: a durable backup file of the state, the unsynced changes and the sync state,
/// for any store (through its model's encoding), and `backup::write_file`, which the session also
/// uses for a manual reset's backup and to keep changes a reset would otherwise discard.

#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace resync::backup {

/// A backup file written: where, and the last local change it holds.
struct Written {
    std::string path;
    ClientVersion covers_upto = 0; ///< every unsynced change up to this client version is in the file
};

/// Writes a backup file of `store` (its state, unsynced changes and sync state) into `directory`,
/// durably (temporary file, fsync, a new unique name, directory fsync), owner-only, in a
/// directory checked to be private (`detail::prepare_private_directory`).
template <Store S>
Result<Written> write_file(const S& store, const ResetTrigger& trigger, const std::string& directory,
                           const FileHook* hook = nullptr) {
    BackupContents<model_of<S>> b;
    b.created_at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    b.sync_state = store.sync_state();
    b.sync_state.pending_reset.reset();
    b.trigger = trigger;
    b.state = store.export_snapshot();
    b.unsynced = store.unsynced();
    Written out;
    for (const auto& cs : b.unsynced) out.covers_upto = std::max(out.covers_upto, cs.client_version);
    const auto bytes = backup_format::encode<model_of<S>>(b);
    auto path = detail::write_new_file_durably(
        directory, "resync-backup-" + std::to_string(b.sync_state.client_ident), backup_format::extension, bytes,
        hook);
    if (!path) return path.error();
    out.path = std::move(*path);
    return out;
}

/// Writes a backup file before anything is touched: written to a temporary file, fsynced, then
/// given a unique name (never overwriting another backup), owner-only, in a private directory.
/// `resync::restore_backup<Model>(path)` reads it back. Works with any store.
struct File {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = false;

    /// Where backups go; empty: the session's backup directory (`SessionOptions::backup_directory`,
    /// else the store's). Never a temporary directory by default: those are wiped at reboot.
    std::string directory;

    File() = default;
    explicit File(std::string dir) : directory(std::move(dir)) {}

    template <Store S>
    Result<BackupMade> backup(const S& store, const ResetTrigger& trigger, const BackupContext& context) const {
        const std::string& dir = directory.empty() ? context.directory : directory;
        // A store that backs itself up (a database's own online backup) does.
        if constexpr (store_requirements::backs_itself_up<S>) {
            if (dir.empty()) return errc::no_backup_directory;
            return store.back_up(dir, trigger, context.hook);
        } else {
            auto written = write_file(store, trigger, dir, context.hook);
            if (!written) return written.error();
            return BackupMade{std::move(written->path), true, written->covers_upto};
        }
    }
};

} // namespace resync::backup
