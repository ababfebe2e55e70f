#pragma once
/// \file
/// Tunables of a `SyncSession`, and the work budget of one `poll()`.

#include <resync/detail/path.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace resync {

/// Tunables of a `SyncSession`. Times are counted in `poll()` calls, so behaviour is the same on
/// any clock and in any test.
struct SessionOptions {
    std::uint32_t retry_after_polls = 8;        ///< resend a request unanswered for this many polls
    std::uint32_t pull_every_polls = 4;         ///< ask for new server changes this often when idle
    std::uint32_t max_download_entries = 256;   ///< server changesets asked for per pull
    std::uint32_t fresh_chunk_bytes = 64 * 1024;///< bytes asked for per fresh-copy request
    std::uint32_t max_fresh_copy_attempts = 3;  ///< damaged fresh copies tolerated within one reset
    std::uint32_t max_reset_attempts = 3;       ///< consecutive unconfirmed resets before a manual one
    std::uint32_t backoff_polls = 8;            ///< wait before retrying an abandoned reset, doubled per attempt
    /// Where a reset escalated to manual writes its backup file, when the policy's own backup is
    /// not a durable file.
    /// By default `<temp>/resync-backups` ($TMPDIR, else /tmp).
    std::string manual_backup_directory = detail::default_backup_directory();
};

/// The most work one `poll()` may do.
struct Budget {
    std::size_t messages = 16; ///< incoming messages handled (each fresh-copy chunk is one)
};

} // namespace resync
