#pragma once
/// \file
/// The sync loop: Hello and Welcome, uploads (idempotent: each changeset keyed by client ident and
/// client version), pulls and downloads, acknowledgements. It is also where a reset's last two
/// phases run: phase 8, replay - the recovered changesets are the store's unsynced history and are
/// uploaded like any other (the store's acknowledgements are their durable progress) - and phase
/// 9, acknowledge - the pending-reset record is cleared only once the server has acknowledged the
/// upload and the download is complete (Realm got this wrong twice: #6196, #7149).
///
/// The handlers return a `ResetTrigger` when the detection policy finds one; the session starts
/// (or resumes) the reset pipeline with it.

#include <resync/detail/cold.hpp>
#include <resync/error.hpp>
#include <resync/protocol.hpp>
#include <resync/session/core.hpp>
#include <resync/session_options.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace resync::session {

/// Says Hello on a new connection: who the client is and where it stands.
template <class S, class T, class P>
void say_hello(Core<S, T, P>& c) {
    const SyncState& s = c.store.sync_state();
    protocol::Hello h;
    h.ident = s.client_ident;
    h.download = s.download;
    h.upload_acked = s.upload_acked;
    h.epoch = s.epoch;
    h.schema_version = s.schema_version;
    c.bound = false;
    c.hello = {true, c.tick};
    c.pull = {};
    c.upload = {};
    c.fresh = {};
    c.transport.send(protocol::ClientMessage<operation_of<S>>(h));
    if (c.state != SessionState::resetting && c.state != SessionState::awaiting_user) c.state = SessionState::connecting;
}

/// Follows the transport's connection: false while it is down; a new connection gets a Hello.
template <class S, class T, class P>
bool follow_connection(Core<S, T, P>& c) {
    if (!c.transport.connected()) [[unlikely]] {
        if (c.state != SessionState::awaiting_user && c.state != SessionState::resetting &&
            c.state != SessionState::stopped)
            c.state = SessionState::disconnected;
        c.bound = false;
        return false;
    }
    if (c.transport.connection_id() != c.connection_id) [[unlikely]] {
        c.connection_id = c.transport.connection_id();
        say_hello(c);
    }
    return true;
}

/// Runs the detection policy; a policy that throws stops the session (it cannot be trusted to
/// say when a reset is due).
template <class S, class T, class P, class F>
std::optional<ResetTrigger> detect(Core<S, T, P>& c, F&& f) {
    std::optional<ResetTrigger> t;
    if (auto ec = c.guarded(ResetPhase::detect, errc::policy_failure, [&] {
            t = f();
            return std::error_code{};
        }))
        c.stop(ec, "the detection policy failed");
    return t;
}

/// The server's answer to Hello: binds the connection, and may show that a reset is due.
template <class S, class T, class P>
std::optional<ResetTrigger> on_welcome(Core<S, T, P>& c, const protocol::Welcome& w) {
    c.hello.outstanding = false;
    c.bound = true;
    if (c.state != SessionState::connecting) return std::nullopt; // a duplicate, or a reset is running
    const SyncState& s = c.store.sync_state();
    if (auto trigger = detect(c, [&] { return c.policy.detection().on_welcome(s, w); })) return trigger;
    if (c.state == SessionState::stopped) return std::nullopt;
    if (s.client_ident == 0 || s.epoch == 0) {
        SyncState next = s;
        next.client_ident = w.ident;
        next.epoch = w.epoch;
        next.schema_version = w.schema_version;
        if (auto ec = c.store.write_sync_state(next)) {
            c.report_error(ec, "saving the new client ident");
            return std::nullopt;
        }
    } else if (w.ident != s.client_ident) {
        c.report_error(errc::unknown_client, "the server answered Hello for another client ident");
        return std::nullopt;
    }
    c.state = SessionState::syncing;
    c.caught_up = false;
    return std::nullopt;
}

template <class S, class T, class P>
void send_pull(Core<S, T, P>& c) {
    const SyncState& s = c.store.sync_state();
    c.pull = {true, c.tick, s.download.version};
    c.transport.send(protocol::ClientMessage<operation_of<S>>(
        protocol::Pull{s.client_ident, s.download, c.options.max_download_entries}));
}

/// Server changesets: checked whole, then integrated by the store in one transaction.
template <class S, class T, class P>
void on_download(Core<S, T, P>& c, protocol::Download<operation_of<S>>& d) {
    if (d.base.version == c.pull.asked) c.pull.outstanding = false;
    if (c.state != SessionState::syncing) return;
    const SyncState& s = c.store.sync_state();
    if (d.ident != s.client_ident) return c.report_error(errc::unknown_client, "a download for another client");
    // Check the whole message before anything is applied.
    std::uint64_t prev = d.base.version;
    for (const auto& e : d.entries) {
        if (e.server_version <= prev || e.server_version > d.latest.version)
            return c.report_error(errc::impossible_position, "server versions out of order in a download");
        prev = e.server_version;
    }
    if (d.latest.version < d.base.version)
        return c.report_error(errc::impossible_position, "a download whose latest version is below its base");
    // Skip what was already integrated (a duplicated or delayed message); a gap means an earlier
    // download was lost: ask again.
    std::size_t first = 0;
    while (first < d.entries.size() && d.entries[first].server_version <= s.download.version) ++first;
    const std::uint64_t next = first < d.entries.size() ? d.entries[first].server_version : 0;
    if (next != 0 && next != s.download.version + 1) return;
    if (first == d.entries.size() && d.base != s.download) return; // stale
    std::span<const RemoteChangeset<operation_of<S>>> fresh(d.entries.data() + first, d.entries.size() - first);
    if (auto ec = c.store.integrate(fresh)) return c.report_error(ec, "integrating server changes");
    c.caught_up = c.store.sync_state().download.version >= d.latest.version;
    if (!c.caught_up) {
        if (!c.pull.outstanding) send_pull(c);
    } else {
        c.last_pull_answered = c.tick;
    }
}

/// The server integrated uploaded changesets.
template <class S, class T, class P>
void on_upload_ack(Core<S, T, P>& c, const protocol::UploadAck& a) {
    // The server acknowledges up to the last client version it integrated, which covers every
    // changeset of the upload it answers.
    if (a.client_version >= c.upload.asked) c.upload.outstanding = false;
    if (c.state != SessionState::syncing) return;
    if (a.ident != c.store.sync_state().client_ident) return c.report_error(errc::unknown_client, "an upload ack for another client");
    if (auto ec = c.store.acknowledge(a.client_version, a.integrated))
        return c.report_error(ec, "the server acknowledged changes this client never made");
    // The server moved on past our cursor with these changes: the download is incomplete again
    // until it brings them back (a reset's record must not clear before that).
    for (const auto& [cv, sv] : a.integrated)
        if (sv > c.store.sync_state().download.version) c.caught_up = false;
}

/// Uploads the oldest unsynced changesets (the replay policy bounds how many per message).
template <class S, class T, class P>
void send_upload(Core<S, T, P>& c) {
    // Nothing left to upload (an ack that was lost is made good by the download that brought our
    // changesets back): nothing is outstanding either, or the session never goes idle and a
    // reset's record never clears.
    if (!c.has_unsynced()) {
        c.upload = {};
        return;
    }
    const SyncState& s = c.store.sync_state();
    protocol::Upload<operation_of<S>> u;
    u.ident = s.client_ident;
    u.download = s.download;
    u.changesets = c.unsynced_upto(c.policy.replay().max_changesets_per_upload());
    ClientVersion last = 0;
    for (const auto& cs : u.changesets) last = std::max(last, cs.client_version);
    c.upload = {true, c.tick, last};
    c.transport.send(protocol::ClientMessage<operation_of<S>>(std::move(u)));
}

/// Phase 9: clears the pending-reset record of a committed reset once the server has
/// acknowledged every replayed change and the download is complete.
template <class S, class T, class P>
void acknowledge_reset_if_done(Core<S, T, P>& c) {
    const auto& record = c.store.sync_state().pending_reset;
    if (!record || record->phase < ResetPhase::commit) [[likely]]
        return;
    if (!c.caught_up || c.upload.outstanding || c.has_unsynced()) return;
    if (auto ec = c.write_record(std::nullopt)) c.report_error(ec, "clearing the pending-reset record");
}

/// Frees a slice of what committed resets replaced (`Core::replaced`), at most `budget.work`
/// objects, on every poll after the commit - connected or not. A reset in flight has it all freed
/// first, so a reset never holds more than the live state and its fresh copy.
template <class S, class T, class P>
RESYNC_COLD void release_replaced(Core<S, T, P>& c, const Budget& budget) {
    if (!c.replaced.pending()) return;
    if (c.run) c.replaced.release_all();
    else (void)c.guarded(ResetPhase::notify, errc::store_failure, [&] {
        c.replaced.release_some(budget.work);
        return std::error_code{};
    });
}

/// What normal sync sends on a poll: uploads, pulls, and the acknowledgement of a finished reset.
template <class S, class T, class P>
void drive_sync(Core<S, T, P>& c) {
    // With no upload outstanding, only unsynced changes need one (send_upload would only clear
    // the already clear request otherwise).
    if (c.upload.outstanding ? c.due(c.upload) : c.has_unsynced()) [[unlikely]]
        send_upload(c);
    if (!c.pull.outstanding ? (!c.caught_up || c.tick - c.last_pull_answered >= c.options.pull_every_polls) : c.due(c.pull))
        send_pull(c);
    acknowledge_reset_if_done(c);
}

} // namespace resync::session
