#pragma once
/// \file
/// Binary encoding of `SyncState` (with its pending-reset record) and `ResetTrigger`, shared by
/// backup files and stores saved to disk.

#include <resync/bytes.hpp>
#include <resync/sync_state.hpp>
#include <resync/trigger.hpp>

#include <cstdint>

namespace resync::detail {

inline void encode(ByteWriter& w, const ServerPosition& p) {
    w.u64(p.version);
    w.u64(p.salt);
}
inline ServerPosition decode_position(ByteReader& r) {
    ServerPosition p;
    p.version = r.u64();
    p.salt = r.u64();
    return p;
}

/// Reads an enum stored as one byte, failing the reader when it is outside [lo, hi].
template <class E>
E decode_enum(ByteReader& r, E lo, E hi) {
    const auto v = r.u8();
    if (v < static_cast<std::uint8_t>(lo) || v > static_cast<std::uint8_t>(hi)) r.fail();
    return static_cast<E>(v);
}

/// A boolean stored as one byte: anything but 0 or 1 fails the reader.
inline bool decode_flag(ByteReader& r) {
    const auto v = r.u8();
    if (v > 1) r.fail();
    return v == 1;
}

/// The format of the pending-reset record inside an encoded sync state.
inline constexpr std::uint8_t pending_reset_format = 2;

inline void encode(ByteWriter& w, const ResetTrigger& t) {
    w.u8(static_cast<std::uint8_t>(t.reason));
    w.u8(t.recovery_allowed ? 1 : 0);
    w.i64(t.server_error.code);
    w.u8(static_cast<std::uint8_t>(t.server_error.action));
    w.str(t.server_error.message);
    encode(w, t.client_position);
    encode(w, t.server_position);
    w.u64(t.client_epoch);
    w.u64(t.server_epoch);
    w.u32(t.client_schema);
    w.u32(t.server_schema);
}
inline ResetTrigger decode_trigger(ByteReader& r) {
    ResetTrigger t;
    t.reason = decode_enum(r, ResetReason::server_rollback, ResetReason::server_requested);
    t.recovery_allowed = decode_flag(r);
    t.server_error.code = static_cast<int>(r.i64());
    t.server_error.action = decode_enum(r, ServerAction::none, ServerAction::protocol_violation);
    t.server_error.message = r.str();
    t.client_position = decode_position(r);
    t.server_position = decode_position(r);
    t.client_epoch = r.u64();
    t.server_epoch = r.u64();
    t.client_schema = r.u32();
    t.server_schema = r.u32();
    return t;
}

inline void encode(ByteWriter& w, const FreshCopyHeader& c) {
    encode(w, c.position);
    w.u64(c.epoch);
    w.u32(c.schema_version);
    w.u64(c.new_ident);
    w.u64(c.total_bytes);
    w.u64(c.integrated_from_requester);
}
inline FreshCopyHeader decode_copy_header(ByteReader& r) {
    FreshCopyHeader c;
    c.position = decode_position(r);
    c.epoch = r.u64();
    c.schema_version = r.u32();
    c.new_ident = r.u64();
    c.total_bytes = r.u64();
    c.integrated_from_requester = r.u64();
    return c;
}

/// Encodes a sync state; the pending-reset record is versioned on its own (a record version byte
/// follows its presence flag), so a newer record is refused rather than misread.
inline void encode(ByteWriter& w, const SyncState& s) {
    w.u64(s.client_ident);
    encode(w, s.download);
    w.u64(s.upload_acked);
    w.u64(s.epoch);
    w.u32(s.schema_version);
    w.u8(s.pending_reset ? 1 : 0);
    if (const auto& p = s.pending_reset) {
        w.u8(pending_reset_format);
        w.u32(p->attempt);
        w.u32(p->repeats);
        w.u32(p->failures);
        w.u8(static_cast<std::uint8_t>(p->mode));
        w.u8(static_cast<std::uint8_t>(p->reason));
        w.u8(p->recovery_allowed ? 1 : 0);
        w.i64(p->server_error);
        w.str(p->message);
        w.i64(p->started_at_ms);
        w.i64(p->not_before_ms);
        w.u8(static_cast<std::uint8_t>(p->phase));
        w.u8(p->awaiting_user ? 1 : 0);
        w.str(p->backup_path);
        w.u8(p->backup_keeps_unsynced ? 1 : 0);
        w.u64(p->backed_up_upto);
        w.str(p->staging_path);
        w.u8(p->copy ? 1 : 0);
        if (p->copy) encode(w, *p->copy);
        w.u64(p->lost_acknowledged.size());
        for (const auto v : p->lost_acknowledged) w.u64(v);
    }
}

/// Decodes a sync state; damage fails the reader (flags other than 0 or 1 included).
inline SyncState decode_sync_state(ByteReader& r) {
    SyncState s;
    s.client_ident = r.u64();
    s.download = decode_position(r);
    s.upload_acked = r.u64();
    s.epoch = r.u64();
    s.schema_version = r.u32();
    const auto flag = decode_flag(r);
    if (flag && !r.failed()) {
        if (r.u8() != pending_reset_format) {
            r.fail();
            return s;
        }
        PendingReset p;
        p.attempt = r.u32();
        p.repeats = r.u32();
        p.failures = r.u32();
        p.mode = decode_enum(r, ResetMode::recover, ResetMode::manual);
        p.reason = decode_enum(r, ResetReason::server_rollback, ResetReason::server_requested);
        p.recovery_allowed = decode_flag(r);
        p.server_error = static_cast<int>(r.i64());
        p.message = r.str();
        p.started_at_ms = r.i64();
        p.not_before_ms = r.i64();
        p.phase = decode_enum(r, ResetPhase::detect, ResetPhase::acknowledge);
        p.awaiting_user = decode_flag(r);
        p.backup_path = r.str();
        p.backup_keeps_unsynced = decode_flag(r);
        p.backed_up_upto = r.u64();
        p.staging_path = r.str();
        if (decode_flag(r)) p.copy = decode_copy_header(r);
        const auto lost = r.count(8);
        for (std::uint64_t i = 0; i < lost && !r.failed(); ++i) p.lost_acknowledged.push_back(r.u64());
        s.pending_reset = std::move(p);
    }
    return s;
}

} // namespace resync::detail
