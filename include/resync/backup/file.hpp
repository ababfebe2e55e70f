#pragma once
/// \file
/// `backup::File`: a durable backup file of the state, the unsynced changes and the sync state.

#include <resync/backup/file_format.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/detail/path.hpp>
#include <resync/error.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/policy/role.hpp>
#include <resync/result.hpp>
#include <resync/trigger.hpp>

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

namespace resync::backup {

/// Writes a backup file into `directory` before anything is touched: written to a temporary
/// file, fsynced, then given a unique name (never overwriting another backup), owner-only.
/// `resync::restore_backup(path)` reads it back. Works with document-model stores; for another
/// store, use `backup::Callback`.
struct File {
    using resync_role = role::backup;
    static constexpr bool keeps_before_state = false;

    /// Where backups go (created with its parents if missing); by default `<temp>/resync-backups`
    /// ($TMPDIR, else /tmp).
    std::string directory = detail::default_backup_directory();

    File() = default;
    explicit File(std::string dir) : directory(std::move(dir)) {}

    template <class S>
    Result<std::string> backup(const S& store, const ResetTrigger& trigger) const {
        constexpr bool document_model = std::is_same_v<typename S::snapshot_type, doc::State> &&
                                        std::is_same_v<typename S::operation_type, doc::Operation>;
        static_assert(document_model,
                      "resync::backup::File writes document-model stores (snapshot_type doc::State, "
                      "operation_type doc::Operation); for your own store, use backup::Callback");
        // The body is compiled for document-model stores only, so that the static_assert above
        // is the only error a user of another store reads.
        if constexpr (!document_model) {
            return errc::invalid_argument;
        } else {
            BackupContents b;
            b.created_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
            b.sync_state = store.sync_state();
            b.sync_state.pending_reset.reset();
            b.trigger = trigger;
            b.state = store.export_snapshot();
            b.unsynced = store.unsynced();
            const auto bytes = backup_format::encode(b);
            auto path = detail::write_new_file_durably(
                directory, "resync-backup-" + std::to_string(b.sync_state.client_ident), backup_format::extension,
                bytes);
            if (!path) return path.error();
            return std::move(*path);
        }
    }
};

} // namespace resync::backup
