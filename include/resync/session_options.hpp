#pragma once
/// \file
/// Tunables of a `SyncSession`, and the work budget of one `poll()`.

#include <resync/file_hook.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace resync {

/// Tunables of a `SyncSession`. Request retries are counted in `poll()` calls, so they behave the
/// same on any clock; the backoff between reset attempts is wall-clock time (it must outlast a
/// restart), read from `clock`.
struct SessionOptions {
    /// Resend a request unanswered for this many polls (never over a transport that declares
    /// `cap::answers_every_request`, such as `net::TcpTransport`: it waits for its answer).
    std::uint32_t retry_after_polls = 8;
    std::uint32_t pull_every_polls = 4;         ///< ask for new server changes this often when idle
    std::uint32_t max_download_entries = 256;   ///< server changesets asked for per pull
    std::uint32_t fresh_chunk_bytes = 64 * 1024;///< bytes asked for per fresh-copy request
    std::uint32_t max_fresh_copy_attempts = 3;  ///< damaged or refused fresh copies tolerated within one try
    /// A fresh copy announcing more bytes than this is refused as damaged (64 GiB).
    std::uint64_t max_fresh_copy_bytes = std::uint64_t{1} << 36;

    // ---- the cycle guard (DESIGN §4.3; session/guard.hpp)
    /// Completed resets triggered again for the same reason run the same mode this many times
    /// before each further repeat escalates it (recover -> the fallback -> manual).
    std::uint32_t repeats_before_escalating = 1;
    /// Completed resets the server has not confirmed, beyond which every reset is manual.
    std::uint32_t max_reset_attempts = 4;
    /// An attempt abandoned on errors (before its commit) this many times waits for the user.
    std::uint32_t max_abandoned_tries = 5;
    /// Wait before a repeated or retried attempt: this, doubled per attempt, up to
    /// `backoff_max_ms`, jittered to between half and all of it.
    std::int64_t backoff_base_ms = 1000;
    std::int64_t backoff_max_ms = 5 * 60 * 1000;

    // ---- keeping the user's work (the keeping rule, DESIGN §4)
    /// Where backup files and the fresh copy's staging file go, when the backup policy names no
    /// directory of its own; created owner-only (0700) and checked before each use. No default:
    /// a temporary directory is wiped at reboot. When empty, the store's own directory is used if
    /// it names one (`cap::backup_directory`); a reset that must keep operations in a file and has
    /// nowhere to put them stops with `errc::no_backup_directory`.
    std::string backup_directory;
    /// An explicit opt-out of the keeping rule: a reset may discard unsynced operations that no
    /// backup file or quarantine holds (the report still lists each). Off by default.
    bool discard_unkept = false;
    /// The staging file of a fresh copy is fsynced after this many bytes, and when complete.
    std::uint64_t staging_sync_bytes = 4u << 20;

    // ---- memory
    /// What a reset's commit replaced (the old state, or what a `Diff` left over, and the
    /// before-state once the after-reset callback returned) is freed over the following polls,
    /// `Budget::work` objects per `poll()`, so the reset costs about an import and no poll stalls
    /// on freeing a large state; a new reset frees what is left first. Set this to free it
    /// inside the reset instead (`SyncSession::release_replaced_state()` frees it on demand).
    bool release_replaced_state_at_once = false;

    // ---- time, randomness and faults, for tests
    /// The wall clock, in milliseconds since the Unix epoch (default: the system clock).
    std::function<std::int64_t()> clock;
    /// Seeds the backoff's jitter (0: a random seed).
    std::uint64_t seed = 0;
    /// Called before each durable step of a backup or staging file (fault injection; see
    /// `testing::FaultPlan`). Leave empty.
    FileHook file_hook;
};

/// The most work one `poll()` may do. During a reset, decoding the fresh copy and recovering
/// local changes proceed in slices of `work` objects or operations; only the commit is one step.
struct Budget {
    std::size_t messages = 16; ///< incoming messages handled (each fresh-copy chunk is one)
    std::size_t work = 8192;   ///< objects decoded, local operations recovered, or replaced objects freed, per poll
};

} // namespace resync
