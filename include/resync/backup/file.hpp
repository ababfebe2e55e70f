#pragma once
/// \file
/// `backup::File`: a durable backup file of the state, the unsynced changes and the sync state,
/// for any store (through its model's encoding), and `backup::write_file`, which the session also
/// uses for a manual reset's backup and to keep changes a reset would otherwise discard.

#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/chunked_output.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/history.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace resync::backup {

/// A backup file written: where, and the last local change it holds.
struct Written {
    std::string path;
    ClientVersion covers_upto = 0; ///< every unsynced change up to this client version is in the file
};

/// Runs `f` on the state of `store`: the store's own (no copy) when its live view is its
/// snapshot, else an exported copy.
template <Store S, class F>
decltype(auto) with_state(const S& store, F&& f) {
    if constexpr (store_requirements::offers_live_view<S>) {
        if constexpr (std::is_convertible_v<decltype(store.live_view()), const snapshot_of<S>&>)
            return std::forward<F>(f)(static_cast<const snapshot_of<S>&>(store.live_view()));
        else
            return std::forward<F>(f)(store.export_snapshot());
    } else {
        return std::forward<F>(f)(store.export_snapshot());
    }
}

/// How many bytes of a backup file are encoded before they are written out (and handed to the
/// disk): the encoding's buffer, allocated once, whatever the size of the state.
inline constexpr std::size_t backup_piece_size = std::size_t{1} << 20;

/// Writes a backup file of `store` (its state, unsynced changes and sync state) into `directory`,
/// durably (temporary file, fsync, a new unique name, directory fsync), owner-only, in a
/// directory checked to be private (`detail::prepare_private_directory`). The file is encoded
/// from the store's own state when it lends it, and written out in pieces of
/// `backup_piece_size` as they are encoded, each byte checksummed once, the frame's header
/// fields filled in last; one fsync of the file and one of the directory (more only if the
/// directory is created), and the file is named only once it is whole on disk.
template <Store S>
Result<Written> write_file(const S& store, const ResetTrigger& trigger, const std::string& directory,
                           const FileHook* hook = nullptr) {
    const std::int64_t created_at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    SyncState sync_state = store.sync_state();
    sync_state.pending_reset.reset();
    const std::vector<LocalChangeset<operation_of<S>>> unsynced = store.unsynced();
    Written out;
    for (const auto& cs : unsynced) out.covers_upto = std::max(out.covers_upto, cs.client_version);
    auto encode_to_file = [&](int fd) {
        ChunkedOutput file(fd, backup_piece_size);
        with_state(store, [&](const snapshot_of<S>& state) {
            backup_format::encode_into<model_of<S>>(file, created_at_ms, sync_state, trigger, state, unsynced);
        });
        return file.finish();
    };
    auto path = detail::write_new_file_durably_with(
        directory, "resync-backup-" + std::to_string(sync_state.client_ident), backup_format::extension,
        encode_to_file, hook);
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
