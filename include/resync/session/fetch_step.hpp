#pragma once
/// \file
/// Phase 4 of a reset, the fetch: the server's fresh copy is downloaded in pieces into staging
/// (a file beside the backups when a directory is named), never into the live store. The copy's
/// position, new ident and size go into the pending-reset record with its first piece, so a
/// restart resumes the download from the staged bytes; the record says the fetch is done once
/// every byte is staged and synced.

#include <resync/error.hpp>
#include <resync/protocol.hpp>
#include <resync/session/core.hpp>
#include <resync/session/store_staging.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace resync::session {

/// A step that failed: the attempt is abandoned and retried after a backoff - or, when retrying
/// cannot help (`fatal`: the application must change something first), the session stops with
/// the record kept, and a restart resumes the attempt.
struct StepFailure {
    ResetPhase phase = ResetPhase::fetch;
    std::error_code error;
    std::string detail;
    bool fatal = false;
};

/// Whether retrying cannot get past `ec`: the application must name or fix the backup directory.
inline bool needs_the_application(std::error_code ec) {
    return ec == errc::no_backup_directory || ec == errc::backup_directory_unsafe;
}

/// A failure of `phase`, fatal when only the application can get past it.
inline StepFailure failure(ResetPhase phase, std::error_code ec, std::string detail) {
    return StepFailure{phase, ec, std::move(detail), needs_the_application(ec)};
}

/// Whether this reset asks the server about acknowledged changes: the store keeps them, and the
/// server may have gone back within the same epoch (a rollback, a divergence, or a server that no
/// longer knows the client). Their fate goes in the report - re-applied by `RebaseAll`, reported
/// as lost on the server otherwise.
template <class S>
bool asks_about_acknowledged(const ResetTrigger& t) {
    if constexpr (store_requirements::keeps_acknowledged_history<S>) {
        return t.reason == ResetReason::server_rollback || t.reason == ResetReason::diverging_history ||
               t.reason == ResetReason::client_unknown;
    } else {
        (void)t;
        return false;
    }
}

/// Bytes of the copy staged so far: where the next piece starts.
template <class S, class T, class P>
std::uint64_t staged_size(const Core<S, T, P>& c) {
    if constexpr (store_stages<S>) return c.store.staged_bytes();
    else return c.run->staging.size();
}

/// Starts (or resumes) the fetch: staging is opened - the file the record names, when it still
/// holds a prefix of the copy, else a new one; or the store's own staging, when it holds a prefix
/// of the copy the record names - and the first request goes out when bound.
template <class S, class T, class P>
void begin_fetch(Core<S, T, P>& c) {
    auto& r = *c.run;
    c.begin_phase();
    if constexpr (store_requirements::keeps_acknowledged_history<S>)
        if (asks_about_acknowledged<S>(r.trigger)) r.acknowledged = c.store.acknowledged_after(0);
    r.stage = Stage::fetch;
    c.fresh = {};
    if constexpr (store_stages<S>) {
        if (!store_holds_copy(c.store, r.record.copy)) {
            // Another copy, or one the record never named (a crash between the two writes): gone.
            if (c.store.staged_copy()) (void)c.store.stage_discard();
            r.record.copy.reset();
        } else if (c.store.staged_bytes() == r.record.copy->total_bytes) {
            r.report.fresh_copy_bytes = c.store.staged_bytes();
            r.stage = Stage::decode;
            return;
        }
        if (c.bound) request_fresh_copy(c);
        return;
    }
    const bool resumed = r.record.copy && !r.record.staging_path.empty() &&
                         r.staging.resume_file(r.record.staging_path, r.record.copy->total_bytes, c.file_hook());
    if (!resumed) {
        // Nothing staged survives (memory staging, or the file is gone): the copy starts over.
        if (!r.record.staging_path.empty()) ::unlink(r.record.staging_path.c_str());
        r.record.staging_path.clear();
        r.record.copy.reset();
        r.staging.use_memory();
    } else if (r.staging.size() == r.record.copy->total_bytes) {
        // The whole copy was staged before the interruption: on to decoding it.
        r.report.fresh_copy_bytes = r.staging.size();
        r.stage = Stage::decode;
        return;
    }
    if (c.bound) request_fresh_copy(c);
}

/// Sends the request for the next piece of the copy.
template <class S, class T, class P>
void request_fresh_copy(Core<S, T, P>& c) {
    auto& r = *c.run;
    protocol::FreshRequest q;
    q.ident = c.store.sync_state().client_ident;
    q.offset = staged_size(c);
    if (r.record.copy) {
        q.expected = r.record.copy->position;
        q.reserved_ident = r.record.copy->new_ident;
    }
    q.max_bytes = c.options.fresh_chunk_bytes;
    // Asked with every request, not only the first: the server may start the copy over at a
    // newer position (it moved on meanwhile), and the answers must come from that one.
    for (const auto& cs : r.acknowledged) q.probe_versions.push_back(cs.server_version);
    c.fresh = {true, c.tick};
    c.transport.send(protocol::ClientMessage<operation_of<S>>(q));
}

/// Forgets the staged bytes after a damaged copy; fails the attempt after too many.
template <class S, class T, class P>
std::optional<StepFailure> restart_fetch(Core<S, T, P>& c, errc why, std::string detail) {
    auto& r = *c.run;
    if (++r.damaged_copies >= c.options.max_fresh_copy_attempts)
        return StepFailure{ResetPhase::fetch, why, std::move(detail)};
    c.report_error(why, detail);
    r.record.copy.reset();
    if constexpr (store_stages<S>) {
        (void)c.store.stage_discard();
        c.fresh = {};
        return std::nullopt;
    }
    if (r.staging.restart()) {
        r.staging.remove_file();
        r.staging.use_memory();
        r.record.staging_path.clear();
    }
    c.fresh = {};
    return std::nullopt;
}

/// Takes the server's answers about acknowledged versions (with a copy's first piece): the
/// acknowledged changesets it no longer has - no entry at their server version, or another
/// client's there; a compacted version counts as still there - go into the record, so they are
/// known however the attempt resumes. Only within the same epoch: another lineage has none of them.
template <class S, class T, class P>
void note_probes(Core<S, T, P>& c, const std::vector<protocol::Probe>& probes) {
    auto& r = *c.run;
    r.record.lost_acknowledged.clear();
    if (!r.record.copy || r.record.copy->epoch != c.store.sync_state().epoch) return;
    const ClientIdent ident = c.store.sync_state().client_ident;
    for (const auto& cs : r.acknowledged)
        for (const auto& p : probes) {
            if (p.version != cs.server_version) continue;
            const bool mine = p.present && (p.compacted || (p.origin == ident && p.client_version == cs.client_version));
            if (!mine) r.record.lost_acknowledged.push_back(cs.client_version);
            break;
        }
}

/// Opens the staging of the new copy the record names: a file in the backup directory when one
/// is named (so the download survives a restart), else memory; the record names the file too.
template <class S, class T, class P>
std::optional<StepFailure> stage_new_copy(Core<S, T, P>& c) {
    auto& r = *c.run;
    if constexpr (store_stages<S>) {
        // The store's staging first, then the record: a crash between them leaves a copy the
        // record does not name, which the next fetch forgets.
        if (auto ec = c.store.stage_begin(*r.record.copy))
            return StepFailure{ResetPhase::fetch, ec, "starting to stage the fresh copy in the store"};
        if (auto ec = c.checkpoint()) return StepFailure{ResetPhase::fetch, ec, "writing the pending-reset record"};
        return std::nullopt;
    }
    r.staging.remove_file();
    r.record.staging_path.clear();
    if (const std::string dir = c.backup_directory(); !dir.empty()) {
        const std::string stem = "resync-staging-" + std::to_string(r.record.copy->new_ident);
        if (auto ec = r.staging.open_file(dir, stem, c.file_hook()))
            return failure(ResetPhase::fetch, ec, "opening the staging file for the fresh copy in " + dir);
        r.record.staging_path = r.staging.path();
    } else {
        r.staging.use_memory();
    }
    if (auto ec = c.checkpoint()) return StepFailure{ResetPhase::fetch, ec, "writing the pending-reset record"};
    return std::nullopt;
}

/// Stages a piece of the copy. When the last one is staged, the staging is synced, the record
/// says the fetch is done, and the attempt moves on to decoding.
template <class S, class T, class P>
std::optional<StepFailure> stage_chunk(Core<S, T, P>& c, protocol::FreshChunk& chunk) {
    auto& r = *c.run;
    const auto& header = r.record.copy;
    const bool new_copy = !header || header->position != chunk.position || header->new_ident != chunk.new_ident;
    if (new_copy) {
        if (chunk.offset != 0) return std::nullopt; // a stale piece of a copy no longer fetched
        // The copy's size is taken once, from its first piece, and bounded.
        if (chunk.total_bytes > c.options.max_fresh_copy_bytes)
            return restart_fetch(c, errc::fresh_copy_corrupt,
                                 "the fresh copy announces " + std::to_string(chunk.total_bytes) +
                                     " bytes, more than SessionOptions::max_fresh_copy_bytes");
        r.record.copy = FreshCopyHeader{chunk.position, chunk.epoch, chunk.schema_version, chunk.new_ident,
                                        chunk.total_bytes, chunk.integrated_from_requester};
        note_probes(c, chunk.probes);
        if (auto failed = stage_new_copy(c)) return failed;
    } else if (chunk.offset == 0 && staged_size(c) == 0) {
        // A copy started over brings the probes again.
        note_probes(c, chunk.probes);
    }
    if (chunk.offset != staged_size(c)) return std::nullopt; // duplicate or out of order
    const std::uint64_t total = r.record.copy->total_bytes;
    if (chunk.bytes.empty() && staged_size(c) < total) {
        // The server stopped short: resume from here, up to a bound.
        if (++r.damaged_copies >= c.options.max_fresh_copy_attempts)
            return StepFailure{ResetPhase::fetch, errc::fresh_copy_truncated, "the fresh copy kept ending early"};
        return std::nullopt;
    }
    if (staged_size(c) + chunk.bytes.size() > total)
        return restart_fetch(c, errc::fresh_copy_corrupt, "the fresh copy is longer than announced");
    if constexpr (store_stages<S>) {
        // Each piece is one durable store transaction.
        if (auto ec = c.store.stage_append(chunk.bytes))
            return StepFailure{ResetPhase::fetch, ec, "staging a piece of the fresh copy in the store"};
    } else {
        if (auto ec = r.staging.append(std::move(chunk.bytes), c.options.staging_sync_bytes))
            return StepFailure{ResetPhase::fetch, ec, "writing the staging file " + r.staging.path()};
    }
    c.tell_progress(ResetPhase::fetch, ProgressStep::download, staged_size(c), total);
    if (staged_size(c) < total) return std::nullopt;
    // Every byte staged: durable before the record says so.
    if (auto ec = r.staging.sync()) return StepFailure{ResetPhase::fetch, ec, "syncing the staging file"};
    r.record.phase = ResetPhase::fetch;
    if (auto ec = c.checkpoint()) return StepFailure{ResetPhase::fetch, ec, "writing the pending-reset record"};
    r.report.fresh_copy_bytes = total;
    c.end_phase(ResetPhase::fetch);
    r.stage = Stage::decode;
    c.fresh = {};
    return std::nullopt;
}

} // namespace resync::session
