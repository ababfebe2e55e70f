#pragma once
/// \file
/// The backup file format and `resync::restore_backup`: a document-model replica's state, its
/// unsynced changes and its sync state, in a checksummed frame.
///
/// Layout: frame header (magic "RSYNBKUP", format version, payload size, CRC-32 of the payload),
/// then the payload: creation time, sync state, trigger, state, unsynced changesets.

#include <resync/detail/atomic_file.hpp>
#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/doc/codec.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resync {

/// Everything a backup file holds.
struct BackupContents {
    std::int64_t created_at_ms = 0;  ///< wall-clock time of the backup, ms since the Unix epoch
    SyncState sync_state;            ///< the replica's sync state when backed up (no pending record)
    ResetTrigger trigger;            ///< why the reset that made this backup happened
    doc::State state;                ///< the replica's data
    std::vector<LocalChangeset<doc::Operation>> unsynced; ///< its changes the server never acknowledged
};

namespace backup_format {

inline constexpr std::string_view magic = "RSYNBKUP";
inline constexpr std::uint32_t version = 1;
inline constexpr std::string_view extension = ".rsbk";

inline std::string encode(const BackupContents& b) {
    std::string payload;
    ByteWriter w(payload);
    w.i64(b.created_at_ms);
    detail::encode(w, b.sync_state);
    detail::encode(w, b.trigger);
    doc::encode(w, b.state);
    w.u64(b.unsynced.size());
    for (const auto& cs : b.unsynced) {
        w.u64(cs.client_version);
        w.u64(cs.server_version);
        doc::encode(w, cs.ops);
    }
    return detail::frame(magic, version, payload);
}

inline Result<BackupContents> decode(std::string_view bytes) {
    using detail::FrameStatus;
    const auto f = detail::unframe(bytes, magic, version);
    switch (f.status) {
    case FrameStatus::ok: break;
    case FrameStatus::truncated: return errc::backup_truncated;
    case FrameStatus::newer_version: return errc::backup_version_unsupported;
    default: return errc::backup_corrupt;
    }
    ByteReader r(f.payload);
    BackupContents b;
    b.created_at_ms = r.i64();
    b.sync_state = detail::decode_sync_state(r);
    b.trigger = detail::decode_trigger(r);
    auto state = doc::decode_state(r);
    if (!state) return errc::backup_corrupt;
    b.state = std::move(*state);
    const auto n = r.count(8 + 8 + 8);
    b.unsynced.reserve(n);
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        LocalChangeset<doc::Operation> cs;
        cs.client_version = r.u64();
        cs.server_version = r.u64();
        auto ops = doc::decode_changeset(r);
        if (!ops) return errc::backup_corrupt;
        cs.ops = std::move(*ops);
        b.unsynced.push_back(std::move(cs));
    }
    if (r.failed() || !r.at_end()) return errc::backup_corrupt;
    return b;
}

} // namespace backup_format

/// Reads a backup file written by `backup::File` (or `Manual`) back: the replica's data, its
/// unsynced changes and its sync state. A file that is cut short yields `errc::backup_truncated`,
/// a damaged or tampered one `errc::backup_corrupt`, one from a newer format
/// `errc::backup_version_unsupported`, an unreadable one the OS error. Never crashes.
inline Result<BackupContents> restore_backup(const std::string& path) {
    auto bytes = detail::read_file(path);
    if (!bytes) return bytes.error();
    return backup_format::decode(*bytes);
}

} // namespace resync
