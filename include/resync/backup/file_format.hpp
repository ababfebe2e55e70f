#pragma once
/// \file
/// The backup file format and `resync::restore_backup`: a replica's state, its unsynced changes
/// and its sync state, for any `Model`, in a checksummed frame.
///
/// Layout: frame header (magic "RSYNBKUP", format version, payload size, CRC-32 of the payload),
/// then the payload: creation time, sync state, trigger, the state as the model encodes a
/// snapshot (length-prefixed), the unsynced changesets (client version, server version, then each
/// operation as the model encodes it).

#include <resync/bytes.hpp>
#include <resync/concepts/model.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/detail/chunked_frame.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resync {

namespace doc {
struct Model;
}

/// Everything a backup file holds, for the model `M`.
template <class M>
struct BackupContents {
    std::int64_t created_at_ms = 0;  ///< wall-clock time of the backup, ms since the Unix epoch
    SyncState sync_state;            ///< the replica's sync state when backed up (no pending record)
    ResetTrigger trigger;            ///< why the reset that made this backup happened
    typename M::snapshot_type state; ///< the replica's data
    std::vector<LocalChangeset<typename M::operation_type>> unsynced; ///< its changes the server never acknowledged
};

namespace backup_format {

inline constexpr std::string_view magic = "RSYNBKUP";
/// Version 2: the state and operations are encoded by the model (version 1 was document-only).
inline constexpr std::uint32_t version = 2;
inline constexpr std::string_view extension = ".rsbk";

/// Encodes a changeset's operations with the model's encoding: a count, then each.
template <class M>
void encode_ops(ByteWriter& w, const std::vector<typename M::operation_type>& ops) {
    w.u64(ops.size());
    for (const auto& op : ops) M::encode(w, op);
}

/// Decodes what `encode_ops` wrote; false on damage.
template <class M>
bool decode_ops(ByteReader& r, std::vector<typename M::operation_type>& ops) {
    const auto n = r.count(1); // an operation takes at least one byte
    ops.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        auto op = M::decode_operation(r);
        if (!op) return false;
        ops.push_back(std::move(*op));
    }
    return !r.failed();
}

/// Appends the state as a length-prefixed snapshot of the model's encoding: in pieces when the
/// model can (`encodes_snapshots_in_pieces`), else encoded in place (`encodes_snapshots_into`),
/// else its encoding copied in.
template <Model M>
void encode_state(ChunkedOutput& out, const typename M::snapshot_type& state) {
    const std::uint64_t length_at = out.size();
    ByteWriter(out.buffer()).u64(0); // the snapshot's length, filled in once it is encoded
    if constexpr (model_requirements::encodes_snapshots_in_pieces<M>)
        M::encode_snapshot_into(out, state);
    else if constexpr (model_requirements::encodes_snapshots_into<M>)
        M::encode_snapshot_into(out.buffer(), state);
    else
        ByteWriter(out.buffer()).raw(M::encode_snapshot(state));
    std::string length;
    ByteWriter(length).u64(out.size() - length_at - 8);
    out.fill_in(length_at, length);
}

/// Outputs a whole backup file to `out` (which may write it to the file in pieces as they are
/// ready), everything encoded straight into it, the state as the caller lends it, each byte
/// checksummed once.
template <Model M>
void encode_into(ChunkedOutput& out, std::int64_t created_at_ms, const SyncState& sync_state,
                 const ResetTrigger& trigger, const typename M::snapshot_type& state,
                 const std::vector<LocalChangeset<typename M::operation_type>>& unsynced) {
    const auto frame = detail::open_frame(out, magic, version);
    ByteWriter w(out.buffer());
    w.i64(created_at_ms);
    detail::encode(w, sync_state);
    detail::encode(w, trigger);
    encode_state<M>(out, state);
    w.u64(unsynced.size());
    for (const auto& cs : unsynced) {
        w.u64(cs.client_version);
        w.u64(cs.server_version);
        encode_ops<M>(w, cs.ops);
        out.piece_done();
    }
    detail::close_frame(out, frame);
}

template <Model M>
std::string encode(const BackupContents<M>& b) {
    ChunkedOutput out;
    encode_into<M>(out, b.created_at_ms, b.sync_state, b.trigger, b.state, b.unsynced);
    return std::move(out.buffer());
}

template <Model M>
Result<BackupContents<M>> decode(std::string_view bytes) {
    using detail::FrameStatus;
    const auto f = detail::unframe(bytes, magic, version);
    switch (f.status) {
    case FrameStatus::ok: break;
    case FrameStatus::truncated: return errc::backup_truncated;
    case FrameStatus::newer_version: return errc::backup_version_unsupported;
    default: return errc::backup_corrupt;
    }
    if (f.version != version) return errc::backup_version_unsupported;
    ByteReader r(f.payload);
    BackupContents<M> b;
    b.created_at_ms = r.i64();
    b.sync_state = detail::decode_sync_state(r);
    b.trigger = detail::decode_trigger(r);
    const std::string state = r.str();
    if (r.failed()) return errc::backup_corrupt;
    auto decoded = M::decode_snapshot(state);
    if (!decoded) return errc::backup_corrupt;
    b.state = std::move(*decoded);
    const auto n = r.count(8 + 8 + 8);
    b.unsynced.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        LocalChangeset<typename M::operation_type> cs;
        cs.client_version = r.u64();
        cs.server_version = r.u64();
        if (!decode_ops<M>(r, cs.ops)) return errc::backup_corrupt;
        b.unsynced.push_back(std::move(cs));
    }
    if (r.failed() || !r.at_end()) return errc::backup_corrupt;
    return b;
}

} // namespace backup_format

/// Reads a backup file written by `backup::File` (or a `Manual` reset, or a reset that kept
/// discarded changes) back: the replica's data, its unsynced changes and its sync state, for the
/// model `M` (the document model unless named). A file that is cut short yields
/// `errc::backup_truncated`, a damaged or tampered one `errc::backup_corrupt`, one from another
/// format `errc::backup_version_unsupported`, a missing one `errc::backup_missing`, an unreadable
/// one the OS error. Never crashes.
template <class M = doc::Model>
Result<BackupContents<M>> restore_backup(const std::string& path) {
    auto bytes = detail::read_file(path);
    if (!bytes) {
        if (bytes.error() == std::errc::no_such_file_or_directory) return errc::backup_missing;
        return bytes.error();
    }
    return backup_format::decode<M>(*bytes);
}

} // namespace resync
