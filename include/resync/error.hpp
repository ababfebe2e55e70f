#pragma once
/// \file
/// The `resync` error category: every run-time failure the library reports is a
/// `std::error_code` in this category, with a message that says what happened and what to do.

#include <string>
#include <system_error>

namespace resync {

/// Every run-time failure the library can report.
enum class errc {
    ok = 0,
    // --- protocol: the server said something impossible ---
    protocol_violation = 1,   ///< a server message broke the protocol (positions out of order, ...)
    unknown_client,           ///< a server message was addressed to another client ident
    impossible_position,      ///< a server message claimed a position the client cannot be at
    // --- fresh copy ---
    fresh_copy_truncated,     ///< the fresh copy ended before its announced size
    fresh_copy_corrupt,       ///< the fresh copy failed its checksum or could not be decoded
    // --- backup files ---
    backup_truncated,         ///< a backup file is shorter than its header says
    backup_corrupt,           ///< a backup file failed its checksum, magic or structure checks
    backup_version_unsupported, ///< a backup file was written by a newer format version
    backup_io,                ///< reading or writing a backup file failed at the OS level
    backup_missing,           ///< the backup file a waiting manual reset relies on is gone
    backup_directory_unsafe,  ///< the backup directory is a symlink, not ours, or open to others
    no_backup_directory,      ///< a reset must keep operations in a file and no directory is named
    // --- store and policies ---
    store_failure,            ///< the store refused or failed a transaction
    policy_failure,           ///< a reset policy failed or threw; the reset was abandoned
    callback_failed,          ///< a user callback failed or threw; the reset was abandoned
    // --- reset life cycle ---
    reset_refused,            ///< the cycle guard refused another automatic attempt
    recovery_failed,          ///< local changes could not be recovered onto the fresh copy
    schema_mismatch,          ///< the store cannot hold the server's schema
    no_reset_pending,         ///< execute() was called but no manual reset is waiting
    reset_in_progress,        ///< the operation is not allowed while a reset runs
    invalid_argument,         ///< an argument was out of its documented range
    server_error,             ///< the server reported an error the policy does not handle
    // --- wire ---
    wire_truncated,           ///< a wire frame ended before its header or its announced payload did
    wire_corrupt,             ///< a wire frame failed its magic, checksum or structure checks
    wire_version_unsupported, ///< a wire frame was written in a newer wire format version
    wire_frame_too_large,     ///< a wire frame announced more bytes than the reader accepts
    wire_unexpected_message,  ///< a wire frame holds a message of the other direction
    // --- network and server storage ---
    server_unreachable,       ///< a transport could not connect to the server; it retries with backoff
    connection_lost,          ///< a transport's connection to the server broke; it reconnects with backoff
    server_storage_failure,   ///< the server's database failed a transaction; it was rolled back whole
    // --- database stores ---
    store_not_resync,         ///< the database file is not a resync store (another application's)
    store_version_unsupported,///< the store file was written by a newer format version
    store_corrupt,            ///< the store file is damaged, or not a database at all
};

namespace detail {

class ErrorCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "resync"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::ok: return "success";
        case errc::protocol_violation:
            return "the server sent a message that breaks the sync protocol; nothing was applied. "
                   "The session reconnects; if it persists, check the server version";
        case errc::unknown_client:
            return "a server message was addressed to another client ident; it was ignored and "
                   "nothing was applied";
        case errc::impossible_position:
            return "a server message claimed a position this client cannot be at (versions going "
                   "backwards, or acknowledging changes never made); nothing was applied";
        case errc::fresh_copy_truncated:
            return "the fresh copy from the server ended early; the local data is untouched and "
                   "the download resumes on the next attempt";
        case errc::fresh_copy_corrupt:
            return "the fresh copy from the server is corrupt (checksum or structure); the local "
                   "data is untouched and the copy is downloaded again";
        case errc::backup_truncated:
            return "the backup file is shorter than its header says (cut short while copying?); "
                   "nothing was restored. Use another copy of the backup";
        case errc::backup_corrupt:
            return "the backup file failed its integrity check (damaged or tampered with); "
                   "nothing was restored. Use another copy of the backup";
        case errc::backup_version_unsupported:
            return "the backup file was written by a newer version of resync; upgrade to read it";
        case errc::backup_io:
            return "reading or writing the backup file failed (permissions, full disk?); the "
                   "local data is untouched. Free space or fix the backup directory and retry";
        case errc::backup_missing:
            return "the backup file this manual reset relies on is missing; nothing was discarded. "
                   "Restore the file, or write a new one with renew_backup() and execute again";
        case errc::backup_directory_unsafe:
            return "the backup directory is unsafe (a symbolic link, owned by another user, or "
                   "readable or writable by others); nothing was written. Use a directory of your "
                   "own with mode 0700";
        case errc::no_backup_directory:
            return "this reset must keep local changes in a backup file, and no directory is named "
                   "for it; nothing was discarded. Set SessionOptions::backup_directory (or "
                   "backup::File{dir}) to a durable directory of the application's";
        case errc::store_failure:
            return "the store failed a transaction; it was rolled back and the local data is "
                   "unchanged. See the store's own error for the cause";
        case errc::policy_failure:
            return "a reset policy failed; the reset was abandoned and the local data is "
                   "unchanged. The report names the phase that failed";
        case errc::callback_failed:
            return "a reset callback failed or threw; the reset was abandoned and the local data "
                   "is unchanged";
        case errc::reset_refused:
            return "the cycle guard refused another automatic reset for the same cause; the "
                   "session stopped and waits for a manual reset (see ResetRequest)";
        case errc::recovery_failed:
            return "local changes could not be recovered onto the server's fresh copy; the "
                   "fallback strategy runs instead";
        case errc::schema_mismatch:
            return "the server's schema is incompatible with the local data; local changes cannot "
                   "be recovered";
        case errc::no_reset_pending:
            return "execute() was called but no manual reset is waiting";
        case errc::reset_in_progress:
            return "not allowed while a client reset is in progress; wait for it to finish";
        case errc::invalid_argument: return "an argument was outside its documented range";
        case errc::server_error:
            return "the server reported an error this session's policy does not handle; the "
                   "session stopped syncing. The local data is untouched; see the server error";
        case errc::wire_truncated:
            return "a wire frame ended before its header or its announced payload did; nothing was "
                   "decoded. Wait for more bytes, or, at the end of a stream, reconnect";
        case errc::wire_corrupt:
            return "a wire frame failed its integrity checks (magic, checksum or structure); nothing "
                   "was decoded. Close the connection and reconnect: the stream cannot be trusted";
        case errc::wire_version_unsupported:
            return "a wire frame was written in a newer wire format version than this build reads; "
                   "nothing was decoded. Upgrade this side, or have the peer speak an older version";
        case errc::wire_frame_too_large:
            return "a wire frame announced more bytes than this reader accepts; it was refused before "
                   "its body was read. Close the connection, or raise the reader's maximum frame size";
        case errc::wire_unexpected_message:
            return "a wire frame holds a message of the other direction (a server message where a "
                   "client message was expected, or the reverse); nothing was decoded. Check which "
                   "side of the connection is which";
        case errc::server_unreachable:
            return "could not connect to the sync server (refused, unreachable or timed out); the "
                   "transport tries again with backoff. Local writes go on and nothing is reset; "
                   "check the server's address and that it runs";
        case errc::connection_lost:
            return "the connection to the sync server broke; the transport reconnects with backoff "
                   "and the session says Hello again. Nothing is reset and nothing unsynced is lost";
        case errc::server_storage_failure:
            return "the server's database failed a transaction; it was rolled back whole, so nothing "
                   "of the request was applied. The client is told to retry; check the database";
        case errc::store_not_resync:
            return "the database file is not a resync store (it belongs to another application); it "
                   "was left untouched. Open the store's own file, or a new path";
        case errc::store_version_unsupported:
            return "the store file was written by a newer format version than this build reads; it was "
                   "left untouched. Upgrade the application";
        case errc::store_corrupt:
            return "the store file is damaged, or is not a database at all; it was left untouched. "
                   "Restore it from a backup, or move it aside and sync a fresh copy";
        }
        return "unknown resync error";
    }
};

} // namespace detail

/// The category of every `resync::errc`.
inline const std::error_category& error_category() noexcept {
    static const detail::ErrorCategory category;
    return category;
}

/// Makes a `std::error_code` in the `resync` category.
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace resync

template <>
struct std::is_error_code_enum<resync::errc> : std::true_type {};
