#pragma once
/// \file
/// `MemoryStore`: the embedded default Store - the document model in memory, with local
/// history, sync state, atomic transactions and optional snapshots to disk.

#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/store.hpp>
#include <resync/detail/linkage.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/quarantine.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

// What only the member functions' definitions use (see <resync/detail/linkage.hpp>).
#if RESYNC_HEADER_DEFINITIONS
#include <resync/bytes.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/doc/codec.hpp>

#include <iterator>
#include <random>
#endif

namespace resync {

/// The document model in memory. Local writes go through `write()`; the session drives the rest.
///
/// The visible state is the synced base (the server's history up to the download cursor) with
/// the local changes the server has not yet sent back applied on top. Each such change keeps an
/// undo log, so integrating server changes rewinds the local changes, applies the server's in
/// server order, and replays the local ones: every replica ends in the server's order.
class MemoryStore {
public:
    using store_concept = store_t;
    using model_type = doc::Model;
    using operation_type = doc::Operation;
    using snapshot_type = doc::State;
    using store_capabilities =
        capabilities<cap::unsynced_flag, cap::unsynced_pages, cap::acknowledged_history, cap::quarantine,
                     cap::live_view, cap::object_count, cap::diff_commit, cap::diff_commit_keeping_before,
                     cap::diff_commit_leftover, cap::recovered_in_place>;

    /// A store whose new list elements are named after a random replica id.
    MemoryStore();
    /// A store with a chosen replica id (unique among the replicas of one server), for
    /// reproducible tests.
    explicit MemoryStore(std::uint64_t replica_id);

    /// The id that names list elements inserted here.
    std::uint64_t replica_id() const noexcept { return replica_id_; }

    // ------------------------------------------------------------------ the application's side

    /// The current state (synced base plus local changes).
    const doc::State& state() const noexcept { return state_; }

    /// One field's value, or null.
    doc::Value get(std::string_view collection, std::string_view key, std::string_view field) const;

    /// Runs a local write transaction: `f(doc::Writer&)` applies and records operations. If `f`
    /// throws, or returns a non-empty `std::error_code`, everything it did is rolled back and
    /// nothing is recorded. Returns the new changeset's client version (0 if `f` wrote nothing).
    template <class F>
    Result<ClientVersion> write(F&& f) {
        // Room for the history entry first: once `f` has changed the state, recording the
        // changeset must not fail (the change would be in the state and in no changeset).
        if (history_.size() == history_.capacity()) history_.reserve(std::max<std::size_t>(16, 2 * history_.size()));
        std::vector<doc::Operation> ops;
        std::vector<doc::Operation> undo;
        doc::Writer w(state_, ops, undo, replica_id_, &next_element_seq_);
        std::error_code ec;
#if defined(__cpp_exceptions)
        try {
            ec = run(f, w);
        } catch (...) {
            doc::revert(state_, undo);
            throw;
        }
#else
        ec = run(f, w);
#endif
        if (ec) {
            doc::revert(state_, undo);
            return ec;
        }
        if (ops.empty()) return ClientVersion{0};
        const ClientVersion v = next_version_++;
        history_.push_back(Entry{{v, 0, std::move(ops)}, std::move(undo), false});
        ++unacknowledged_;
        return v;
    }

    /// How many acknowledged changesets are kept after the server sent them back (for
    /// rollback-aware recovery). Default 10,000.
    void set_retention(std::size_t changesets) noexcept;

    // ------------------------------------------------------------------ the library's side

    const SyncState& sync_state() const noexcept { return sync_; }

    std::error_code write_sync_state(const SyncState& s);

    /// Local changesets the server has not acknowledged, oldest first.
    std::vector<LocalChangeset<doc::Operation>> unsynced() const;

    /// The oldest `max_changesets` unsynced changesets (an upload's worth), without copying the rest.
    std::vector<LocalChangeset<doc::Operation>> unsynced(std::size_t max_changesets) const;

    /// The live state, as recovery rules and dry runs read it.
    const doc::State& live_view() const noexcept { return state_; }

    /// Objects in the live state.
    std::size_t object_count() const noexcept { return state_.object_count(); }

    /// Whether any local changeset is unacknowledged, without copying them (the session asks on
    /// every poll): a count kept as changesets are written and acknowledged, since scanning the
    /// acknowledged changesets the server has not sent back yet - thousands, after a burst of
    /// writes - on every poll made the sync loop's cost grow with the backlog.
    bool has_unsynced() const noexcept { return unacknowledged_ != 0; }

    /// Acknowledged local changesets integrated above `server_version`, oldest first (retained
    /// ones only; see `set_retention`).
    std::vector<LocalChangeset<doc::Operation>> acknowledged_after(std::uint64_t server_version) const;

    /// The last local client version written (0 if none).
    ClientVersion last_client_version() const noexcept { return next_version_ - 1; }

    /// Records that the server integrated this client's changesets up to `upto`, at the given
    /// server versions. An acknowledgement of a version never written is `impossible_position`
    /// and changes nothing.
    std::error_code acknowledge(ClientVersion upto,
                                std::span<const std::pair<ClientVersion, std::uint64_t>> integrated);

    /// Integrates server changesets (in server order, directly after the download cursor) under
    /// the local changes, and advances the cursor, atomically. Entries that came from this client
    /// are matched with its own history. Malformed input changes nothing.
    std::error_code integrate(std::span<const RemoteChangeset<doc::Operation>> entries);

    /// A copy of the current state.
    doc::State export_snapshot() const;

    /// The one atomic commit of a reset: the fresh state becomes the base, the given history is
    /// applied on top as unsynced local changes (or, with `history_undo`, was applied by recovery
    /// already), the sync state is replaced. Returns the old state, moved aside rather than copied
    /// (and not freed here: the caller frees it when it chooses - the session, a slice per poll).
    Result<doc::State> commit_reset(ResetCommit<doc::State, doc::Operation>&& c);

    /// The one atomic commit of a reset, writing only the objects that differ: objects equal in
    /// both states are not touched (their identity and address are kept).
    Result<DiffStats> commit_reset_diff(ResetCommit<doc::State, doc::Operation>&& c);

    /// `commit_reset_diff`, handing back what it replaced instead of freeing it here: the old
    /// values of the updated objects and the staged copies of the unchanged ones (erased objects,
    /// as many as the diff writes, are freed here). Only to free; the session does so over the
    /// following polls.
    Result<DiffCommitLeftover<doc::State>> commit_reset_diff_leaving_leftover(ResetCommit<doc::State, doc::Operation>&& c);

    /// `commit_reset_diff`, also handing back the old state. It is assembled by moves, never
    /// copied: the objects the commit replaced or erased, and the staged copies of the objects it
    /// left unchanged (equal to the live ones, which stay in place).
    Result<DiffCommit<doc::State>> commit_reset_diff_keeping_before(ResetCommit<doc::State, doc::Operation>&& c);

    // ------------------------------------------------------------------ quarantine

    /// Local operations that resets could not recover, oldest first (kept until cleared).
    const std::vector<QuarantinedOperation<doc::Operation>>& quarantined() const noexcept { return quarantine_; }

    /// Empties the quarantine and returns what it held (to export it elsewhere).
    std::vector<QuarantinedOperation<doc::Operation>> take_quarantined();

    /// Re-applies every quarantined operation as one new local write (it then syncs as usual,
    /// under normal sync rules) and empties the quarantine. Returns the new client version.
    /// The quarantine is emptied only once the write succeeded: if it fails (or throws), every
    /// operation is still in it.
    Result<ClientVersion> retry_quarantined();

    // ------------------------------------------------------------------ snapshots to disk

    /// Saves the whole store (data, history, sync state) durably to `path` (temporary file,
    /// fsync, rename).
    std::error_code save(const std::string& path) const;

    /// Loads a store saved with `save`. A damaged file is `backup_corrupt` / `backup_truncated`.
    static Result<MemoryStore> load(const std::string& path);

private:
    static constexpr std::string_view file_magic = "RSYNSTOR";
    static constexpr std::uint32_t file_format = 1;

    struct Entry {
        LocalChangeset<doc::Operation> changeset;
        std::vector<doc::Operation> undo; ///< reverts this changeset while it is not in the base
        bool in_base = false;             ///< the server sent it back: part of the synced base
    };

    struct Staged {
        doc::State state;
        std::vector<Entry> history;
        SyncState sync;
        ClientVersion next_version = 1;
        std::vector<QuarantinedOperation<doc::Operation>> quarantine;
    };

    template <class F>
    static std::error_code run(F& f, doc::Writer& w) {
        if constexpr (std::is_convertible_v<std::invoke_result_t<F&, doc::Writer&>, std::error_code>) {
            return f(w);
        } else {
            f(w);
            return {};
        }
    }

    // Builds everything a reset commit installs before the live store is touched, so the commit
    // itself cannot half-happen.
    Staged stage(ResetCommit<doc::State, doc::Operation>&& c);

    // The minimal-diff commit; the old state goes to `before` when given, what the commit
    // replaced to `leftover` when given (else it is freed here).
    DiffStats commit_diff(ResetCommit<doc::State, doc::Operation>&& c, doc::State* before, doc::State* leftover);

    // Every allocation `diff_by_moves` needs, made before the live state changes: for each
    // collection of the fresh state, an empty table with room for all its objects (the live
    // collection's next table, in `next`), and the collections the live state lacks (in `added`).
    void make_room_for_moves(const doc::State& fresh, doc::State& next, doc::State& added);

    // A fresh object meets its live twin: the live one takes the fresh value when they differ
    // (the old value is left on the fresh side), counted as updated or unchanged.
    static void take_if_changed(doc::Object& live, doc::Object& fresh, DiffStats& stats) noexcept;

    // Makes the live state equal to `fresh` with one lookup per fresh object, by moving map nodes
    // into each collection's next table (prepared by `make_room_for_moves`): an object in both
    // states moves its live node there (its identity and address kept), after swapping in the
    // fresh value when they differ; an object only in the fresh state moves its fresh node there.
    // What stays in the live table is exactly the erased objects; it changes places with the next
    // table, so they end in `next`. `fresh` is left holding the old values of the updated objects
    // and the fresh copies of the unchanged ones. Allocates nothing, so it cannot fail half-way.
    DiffStats diff_by_moves(doc::State& fresh, doc::State& next, doc::State& added) noexcept;

    // Every allocation the diff needs, made before the live state changes, so that `diff_into`
    // only moves map nodes and cannot fail half-way: room in each live collection for the objects
    // the fresh state adds, the collections the live state lacks (made aside, in `added`, and
    // spliced in by `diff_into` without allocating) and, when the before-state is kept, its
    // collections (to receive the old objects). A failure here leaves the live state as it was.
    void make_room_for_diff(const doc::State& fresh, doc::State* before, doc::State& added);

    // Whether `c` holds `n` objects without growing its table (an insert that grows it allocates).
    static bool has_room(const doc::Collection& c, std::size_t n) noexcept;

    // Grows `c`'s table to hold `n` objects (`reserve` alone may also shrink it, rehashing all).
    static void make_room(doc::Collection& c, std::size_t n);

    // The diff that also hands back the old state (`diff_by_moves` is the one without).
    // Makes the live state equal to `fresh` by moving map nodes, and `before` (if given, prepared
    // by `make_room_for_diff`, as `added` is) equal to the old live state: erased objects move from the live
    // state to `before`; changed ones swap values with their fresh twins, which then go to
    // `before`; unchanged ones stay live, their fresh copies going to `before`; created ones move
    // in. Without `before`, what would go there is left in `fresh` (erased objects are dropped).
    // Allocates nothing, so it cannot fail half-way.
    DiffStats diff_into(doc::State& fresh, doc::State* before, doc::State& added) noexcept;

    void adopt(Staged&& s);

    // The changesets in the base are a prefix of the history (integrate marks them in order), so
    // a binary search finds its end: integrating stays cheap with many retained changesets.
    std::size_t first_pending() const noexcept;

    void count_unacknowledged() noexcept;

    Entry* find(ClientVersion v);

    // Drops the oldest changesets that are in the base beyond the retention window.
    void trim();

    static std::uint64_t random_replica_id();

    doc::State state_;
    SyncState sync_;
    std::uint64_t replica_id_ = 0;
    std::uint64_t next_element_seq_ = 1;
    std::vector<QuarantinedOperation<doc::Operation>> quarantine_;
    std::vector<Entry> history_;
    std::size_t unacknowledged_ = 0; ///< changesets in `history_` without a server version
    ClientVersion next_version_ = 1;
    std::size_t retention_ = 10000;
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC MemoryStore::MemoryStore() : replica_id_(random_replica_id()) {}

RESYNC_FUNC MemoryStore::MemoryStore(std::uint64_t replica_id) : replica_id_(replica_id) {}

RESYNC_FUNC doc::Value MemoryStore::get(std::string_view collection, std::string_view key, std::string_view field) const {
    return state_.get(collection, key, field);
}

RESYNC_FUNC void MemoryStore::set_retention(std::size_t changesets) noexcept {
    retention_ = changesets; trim();
}

RESYNC_FUNC std::error_code MemoryStore::write_sync_state(const SyncState& s) {
    sync_ = s;
    return {};
}

RESYNC_FUNC std::vector<LocalChangeset<doc::Operation>> MemoryStore::unsynced() const {
    std::vector<LocalChangeset<doc::Operation>> out;
    // Changesets in the base are acknowledged: only those after them can be unsynced (the
    // retained ones, up to `set_retention`, are not scanned on every poll).
    for (std::size_t i = first_pending(); i < history_.size(); ++i)
        if (!history_[i].changeset.acknowledged()) out.push_back(history_[i].changeset);
    return out;
}

RESYNC_FUNC std::vector<LocalChangeset<doc::Operation>> MemoryStore::unsynced(std::size_t max_changesets) const {
    std::vector<LocalChangeset<doc::Operation>> out;
    for (std::size_t i = first_pending(); i < history_.size() && out.size() < max_changesets; ++i)
        if (!history_[i].changeset.acknowledged()) out.push_back(history_[i].changeset);
    return out;
}

RESYNC_FUNC std::vector<LocalChangeset<doc::Operation>> MemoryStore::acknowledged_after(std::uint64_t server_version) const {
    std::vector<LocalChangeset<doc::Operation>> out;
    for (const auto& e : history_)
        if (e.changeset.acknowledged() && e.changeset.server_version > server_version)
            out.push_back(e.changeset);
    return out;
}

RESYNC_FUNC std::error_code MemoryStore::acknowledge(ClientVersion upto,
                                                     std::span<const std::pair<ClientVersion, std::uint64_t>> integrated) {
    if (upto > last_client_version()) return errc::impossible_position;
    for (const auto& [cv, sv] : integrated)
        if (cv > upto || sv == 0) return errc::impossible_position;
    for (const auto& [cv, sv] : integrated)
        if (Entry* e = find(cv); e && !e->changeset.acknowledged()) {
            e->changeset.server_version = sv;
            --unacknowledged_;
        }
    sync_.upload_acked = std::max(sync_.upload_acked, upto);
    return {};
}

RESYNC_FUNC std::error_code MemoryStore::integrate(std::span<const RemoteChangeset<doc::Operation>> entries) {
    if (entries.empty()) return {};
    // Validate everything before touching anything.
    std::uint64_t last = sync_.download.version;
    std::size_t own = first_pending();
    for (const auto& e : entries) {
        if (e.server_version <= last) return errc::impossible_position;
        last = e.server_version;
        if (e.origin == sync_.client_ident && sync_.client_ident != 0) {
            if (own >= history_.size() || history_[own].changeset.client_version != e.client_version)
                return errc::impossible_position;
            ++own;
        }
    }
    const std::size_t pending = first_pending();
    for (std::size_t i = history_.size(); i-- > pending;) doc::revert(state_, history_[i].undo);
    std::size_t next_own = pending;
    for (const auto& e : entries) {
        if (e.origin == sync_.client_ident && sync_.client_ident != 0) {
            Entry& mine = history_[next_own++];
            if (!mine.changeset.acknowledged()) --unacknowledged_;
            mine.in_base = true;
            mine.changeset.server_version = e.server_version;
            sync_.upload_acked = std::max(sync_.upload_acked, mine.changeset.client_version);
        }
        doc::apply(state_, e.ops);
    }
    for (std::size_t i = next_own; i < history_.size(); ++i)
        doc::apply(state_, history_[i].changeset.ops, &history_[i].undo);
    sync_.download = entries.back().position();
    trim();
    return {};
}

RESYNC_FUNC doc::State MemoryStore::export_snapshot() const {
    return state_;
}

RESYNC_FUNC Result<doc::State> MemoryStore::commit_reset(ResetCommit<doc::State, doc::Operation>&& c) {
    auto staged = stage(std::move(c));
    std::swap(state_, staged.state);
    adopt(std::move(staged));
    return std::move(staged.state);
}

RESYNC_FUNC Result<DiffStats> MemoryStore::commit_reset_diff(ResetCommit<doc::State, doc::Operation>&& c) {
    return commit_diff(std::move(c), nullptr, nullptr);
}

RESYNC_FUNC Result<DiffCommitLeftover<doc::State>> MemoryStore::commit_reset_diff_leaving_leftover(ResetCommit<doc::State, doc::Operation>&& c) {
    DiffCommitLeftover<doc::State> out;
    out.stats = commit_diff(std::move(c), nullptr, &out.leftover);
    return out;
}

RESYNC_FUNC Result<DiffCommit<doc::State>> MemoryStore::commit_reset_diff_keeping_before(ResetCommit<doc::State, doc::Operation>&& c) {
    doc::State before;
    const DiffStats stats = commit_diff(std::move(c), &before, nullptr);
    return DiffCommit<doc::State>{stats, std::move(before)};
}

RESYNC_FUNC std::vector<QuarantinedOperation<doc::Operation>> MemoryStore::take_quarantined() {
    return std::exchange(quarantine_, {});
}

RESYNC_FUNC Result<ClientVersion> MemoryStore::retry_quarantined() {
    auto v = write([&](doc::Writer& w) {
        for (const auto& q : quarantine_) w.apply(q.operation);
    });
    if (v) quarantine_.clear();
    return v;
}

RESYNC_FUNC std::error_code MemoryStore::save(const std::string& path) const {
    std::string payload;
    ByteWriter w(payload);
    detail::encode(w, sync_);
    doc::encode(w, state_);
    w.u64(history_.size());
    for (const auto& e : history_) {
        w.u64(e.changeset.client_version);
        w.u64(e.changeset.server_version);
        w.u8(e.in_base ? 1 : 0);
        doc::encode(w, e.changeset.ops);
        doc::encode(w, e.undo);
    }
    w.u64(next_version_);
    w.u64(replica_id_);
    w.u64(next_element_seq_);
    w.u64(quarantine_.size());
    for (const auto& q : quarantine_) {
        w.u64(q.client_version);
        w.u64(q.index);
        doc::encode(w, q.operation);
        w.str(q.reason);
        w.u8(static_cast<std::uint8_t>(q.cause));
        w.i64(q.at_ms);
    }
    return detail::replace_file_durably(path, detail::frame(file_magic, file_format, payload));
}

RESYNC_FUNC Result<MemoryStore> MemoryStore::load(const std::string& path) {
    auto bytes = detail::read_file(path);
    if (!bytes) return bytes.error();
    const auto f = detail::unframe(*bytes, file_magic, file_format);
    if (f.status == detail::FrameStatus::truncated) return errc::backup_truncated;
    if (f.status == detail::FrameStatus::newer_version) return errc::backup_version_unsupported;
    if (f.status != detail::FrameStatus::ok) return errc::backup_corrupt;
    ByteReader r(f.payload);
    MemoryStore s;
    s.sync_ = detail::decode_sync_state(r);
    auto state = doc::decode_state(r);
    if (!state) return errc::backup_corrupt;
    s.state_ = std::move(*state);
    const auto n = r.count(8 + 8 + 1 + 8 + 8);
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        Entry e;
        e.changeset.client_version = r.u64();
        e.changeset.server_version = r.u64();
        e.in_base = r.u8() != 0;
        auto ops = doc::decode_changeset(r);
        auto undo = doc::decode_changeset(r);
        if (!ops || !undo) return errc::backup_corrupt;
        e.changeset.ops = std::move(*ops);
        e.undo = std::move(*undo);
        s.history_.push_back(std::move(e));
    }
    s.count_unacknowledged();
    s.next_version_ = r.u64();
    s.replica_id_ = r.u64();
    s.next_element_seq_ = r.u64();
    const auto quarantined = r.count(8 + 8 + 1 + 8 + 8 + 1 + 8);
    for (std::uint64_t i = 0; i < quarantined && !r.failed(); ++i) {
        QuarantinedOperation<doc::Operation> q;
        q.client_version = r.u64();
        q.index = r.u64();
        auto op = doc::decode_operation(r);
        if (!op) return errc::backup_corrupt;
        q.operation = std::move(*op);
        q.reason = r.str();
        q.cause = detail::decode_enum(r, ResetReason::server_rollback, ResetReason::server_requested);
        q.at_ms = r.i64();
        s.quarantine_.push_back(std::move(q));
    }
    if (r.failed() || !r.at_end()) return errc::backup_corrupt;
    return s;
}

RESYNC_FUNC MemoryStore::Staged MemoryStore::stage(ResetCommit<doc::State, doc::Operation>&& c) {
    Staged s{std::move(c.state), {}, std::move(c.sync_state), 1, std::move(c.quarantine)};
    // Room for the new quarantined operations now, so that adopting them cannot fail.
    quarantine_.reserve(quarantine_.size() + s.quarantine.size());
    s.history.reserve(c.history.size());
    // Recovery may have applied the history onto the state already (cap::recovered_in_place):
    // then its undo logs are kept, and nothing is applied twice.
    const bool applied = !c.history_undo.empty() && c.history_undo.size() == c.history.size();
    for (std::size_t i = 0; i < c.history.size(); ++i) {
        Entry e{std::move(c.history[i]), {}, false};
        e.changeset.server_version = 0;
        if (applied) e.undo = std::move(c.history_undo[i]);
        else doc::apply(s.state, e.changeset.ops, &e.undo);
        s.next_version = std::max(s.next_version, e.changeset.client_version + 1);
        s.history.push_back(std::move(e));
    }
    return s;
}

RESYNC_FUNC DiffStats MemoryStore::commit_diff(ResetCommit<doc::State, doc::Operation>&& c, doc::State* before, doc::State* leftover) {
    auto staged = stage(std::move(c));
    doc::State added;
    DiffStats stats;
    if (before) {
        make_room_for_diff(staged.state, before, added);
        stats = diff_into(staged.state, before, added);
    } else {
        doc::State next; // after the diff: the erased objects, freed with it
        make_room_for_moves(staged.state, next, added);
        stats = diff_by_moves(staged.state, next, added);
    }
    adopt(std::move(staged));
    if (leftover) *leftover = std::move(staged.state);
    return stats;
}

RESYNC_FUNC void MemoryStore::make_room_for_moves(const doc::State& fresh, doc::State& next, doc::State& added) {
    for (const auto& [name, target] : fresh.collections) {
        make_room(next.collections.try_emplace(name).first->second, target.size());
        if (!state_.collections.contains(name)) added.collections.try_emplace(name);
    }
}

RESYNC_FUNC void MemoryStore::take_if_changed(doc::Object& live, doc::Object& fresh, DiffStats& stats) noexcept {
    if (live != fresh) {
        std::swap(live, fresh);
        ++stats.updated;
    } else {
        ++stats.unchanged;
    }
}

RESYNC_FUNC DiffStats MemoryStore::diff_by_moves(doc::State& fresh, doc::State& next, doc::State& added) noexcept {
    DiffStats stats;
    while (!added.collections.empty()) state_.collections.insert(added.collections.extract(added.collections.begin()));
    for (auto& [name, target] : fresh.collections) {
        auto& live = state_.collections.find(name)->second;
        auto& table = next.collections.find(name)->second;
        for (auto it = target.begin(); it != target.end();) {
            const auto following = std::next(it);
            const auto old = live.find(it->first);
            if (old == live.end()) {
                table.insert(target.extract(it));
                ++stats.created;
            } else {
                take_if_changed(old->second, it->second, stats);
                table.insert(live.extract(old));
            }
            it = following;
        }
        stats.erased += live.size();
        live.swap(table);
    }
    // Collections the fresh state does not have: all their objects are erased (the live
    // state keeps the collection, empty).
    for (auto& [name, live] : state_.collections) {
        if (fresh.collections.contains(name)) continue;
        stats.erased += live.size();
        live.clear();
    }
    return stats;
}

RESYNC_FUNC void MemoryStore::make_room_for_diff(const doc::State& fresh, doc::State* before, doc::State& added) {
    if (before) {
        for (const auto& [name, live] : state_.collections) {
            auto& aside = before->collections.try_emplace(name).first->second;
            // A collection the fresh state drops is handed over whole, needing no room.
            if (fresh.collections.contains(name)) make_room(aside, live.size());
        }
    }
    for (const auto& [name, target] : fresh.collections) {
        auto found = state_.collections.find(name);
        if (found == state_.collections.end()) {
            make_room(added.collections.try_emplace(name).first->second, target.size());
            continue;
        }
        auto& live = found->second;
        // Counting the added objects costs a lookup each: only when the table may be short.
        if (has_room(live, live.size() + target.size())) continue;
        std::size_t added_objects = 0;
        for (const auto& [key, obj] : target) added_objects += !live.contains(key);
        make_room(live, live.size() + added_objects);
    }
}

RESYNC_FUNC bool MemoryStore::has_room(const doc::Collection& c, std::size_t n) noexcept {
    return static_cast<double>(n) < static_cast<double>(c.bucket_count()) * static_cast<double>(c.max_load_factor());
}

RESYNC_FUNC void MemoryStore::make_room(doc::Collection& c, std::size_t n) {
    if (!has_room(c, n)) c.reserve(n);
}

RESYNC_FUNC DiffStats MemoryStore::diff_into(doc::State& fresh, doc::State* before, doc::State& added) noexcept {
    DiffStats stats;
    // The collections the live state lacked join it as prepared, empty, nodes and all.
    while (!added.collections.empty()) state_.collections.insert(added.collections.extract(added.collections.begin()));
    for (auto& [name, target] : fresh.collections) {
        auto& live = state_.collections.find(name)->second;
        // Where the old objects go: null without a before-state, or for a new collection.
        doc::Collection* aside = nullptr;
        if (before)
            if (auto a = before->collections.find(name); a != before->collections.end()) aside = &a->second;
        if (!aside) {
            // Erased first, while every live object is an old one.
            for (auto it = live.begin(); it != live.end();) {
                const auto next = std::next(it);
                if (!target.contains(it->first)) {
                    live.erase(it);
                    ++stats.erased;
                }
                it = next;
            }
            for (auto it = target.begin(); it != target.end();) {
                const auto next = std::next(it);
                const auto old = live.find(it->first);
                if (old == live.end()) {
                    live.insert(target.extract(it));
                    ++stats.created;
                } else {
                    take_if_changed(old->second, it->second, stats);
                }
                it = next;
            }
            continue;
        }
        // One lookup per fresh object: its live twin takes the fresh value when they differ,
        // and the fresh node (then holding the old value) goes aside. The fresh objects
        // without a twin stay in `target`: they are the created ones.
        std::size_t twins = 0;
        for (auto it = target.begin(); it != target.end();) {
            const auto next = std::next(it);
            if (const auto old = live.find(it->first); old != live.end()) {
                take_if_changed(old->second, it->second, stats);
                aside->insert(target.extract(it));
                ++twins;
            }
            it = next;
        }
        // The erased objects are the live ones without a fresh twin: none when every live
        // object had one, else those whose key is not aside (only the twins are, so far).
        if (twins < live.size()) {
            for (auto it = live.begin(); it != live.end();) {
                const auto next = std::next(it);
                if (!aside->contains(it->first)) {
                    aside->insert(live.extract(it));
                    ++stats.erased;
                }
                it = next;
            }
        }
        stats.created += target.size();
        while (!target.empty()) live.insert(target.extract(target.begin()));
    }
    // Collections the fresh state does not have: all their objects are erased (the live
    // state keeps the collection, empty).
    for (auto& [name, live] : state_.collections) {
        if (fresh.collections.contains(name)) continue;
        stats.erased += live.size();
        if (before) before->collections.find(name)->second.swap(live);
        else live.clear();
    }
    return stats;
}

RESYNC_FUNC void MemoryStore::adopt(Staged&& s) {
    quarantine_.insert(quarantine_.end(), std::make_move_iterator(s.quarantine.begin()),
                       std::make_move_iterator(s.quarantine.end()));
    history_ = std::move(s.history);
    count_unacknowledged();
    sync_ = std::move(s.sync);
    next_version_ = s.next_version;
}

RESYNC_FUNC std::size_t MemoryStore::first_pending() const noexcept {
    const auto end = std::partition_point(history_.begin(), history_.end(), [](const Entry& e) { return e.in_base; });
    return static_cast<std::size_t>(end - history_.begin());
}

RESYNC_FUNC void MemoryStore::count_unacknowledged() noexcept {
    unacknowledged_ = static_cast<std::size_t>(
        std::count_if(history_.begin(), history_.end(), [](const Entry& e) { return !e.changeset.acknowledged(); }));
}

RESYNC_FUNC MemoryStore::Entry* MemoryStore::find(ClientVersion v) {
    for (auto& e : history_)
        if (e.changeset.client_version == v) return &e;
    return nullptr;
}

RESYNC_FUNC void MemoryStore::trim() {
    const std::size_t in_base = first_pending();
    if (in_base <= retention_) return;
    const auto drop = static_cast<std::ptrdiff_t>(in_base - retention_);
    history_.erase(history_.begin(), history_.begin() + drop);
}

RESYNC_FUNC std::uint64_t MemoryStore::random_replica_id() {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
}

#endif // RESYNC_HEADER_DEFINITIONS

static_assert(Store<MemoryStore>);

} // namespace resync
