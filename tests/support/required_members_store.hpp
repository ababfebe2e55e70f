#pragma once
// Shared test helper: Stores with only the members the Store concept requires, forwarding to a
// `MemoryStore`, so a session over them takes every fallback path that MemoryStore's optional
// capabilities (unsynced_flag, live_view, quarantine, diff_commit_keeping_before, ...) would skip.

#include <resync/concepts/store.hpp>
#include <resync/doc/model.hpp>
#include <resync/memory_store.hpp>

#include <cstdint>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace resync_test {

/// What the Store concept requires, and nothing else.
struct RequiredMembersStore {
    using store_concept = resync::store_t;
    using model_type = resync::doc::Model;
    using operation_type = resync::doc::Operation;
    using snapshot_type = resync::doc::State;
    using Commit = resync::ResetCommit<snapshot_type, operation_type>;

    explicit RequiredMembersStore(std::uint64_t replica_id = 1) : inner(replica_id) {}

    /// The store it forwards to; tests write through it as an application writes to its store.
    resync::MemoryStore inner;

    const resync::SyncState& sync_state() const noexcept { return inner.sync_state(); }
    std::error_code write_sync_state(const resync::SyncState& s) { return inner.write_sync_state(s); }
    std::vector<resync::LocalChangeset<operation_type>> unsynced() const { return inner.unsynced(); }
    std::error_code integrate(std::span<const resync::RemoteChangeset<operation_type>> e) { return inner.integrate(e); }
    std::error_code acknowledge(resync::ClientVersion v,
                                std::span<const std::pair<resync::ClientVersion, std::uint64_t>> at) {
        return inner.acknowledge(v, at);
    }
    snapshot_type export_snapshot() const { return inner.export_snapshot(); }
    resync::Result<snapshot_type> commit_reset(Commit&& c) { return inner.commit_reset(std::move(c)); }
};

/// The same, plus the one capability `discard::Diff` needs: `commit_reset_diff`.
struct RequiredMembersDiffStore : RequiredMembersStore {
    using RequiredMembersStore::RequiredMembersStore;
    using store_capabilities = resync::capabilities<resync::cap::diff_commit>;

    resync::Result<resync::DiffStats> commit_reset_diff(Commit&& c) { return inner.commit_reset_diff(std::move(c)); }
};

/// The required members plus `cap::live_view`, its view the store's own snapshot, lent by reference
/// (as `MemoryStore`'s is), and no `cap::object_count`: reports count objects through the view.
struct LendingViewStore : RequiredMembersStore {
    using RequiredMembersStore::RequiredMembersStore;
    using store_capabilities = resync::capabilities<resync::cap::live_view>;

    const snapshot_type& live_view() const noexcept { return inner.state(); }
};

/// The same, its view a copy made on each call: reports make no copy just to count objects.
struct CopyingViewStore : RequiredMembersStore {
    using RequiredMembersStore::RequiredMembersStore;
    using store_capabilities = resync::capabilities<resync::cap::live_view>;

    snapshot_type live_view() const {
        ++copies;
        return inner.state();
    }
    mutable int copies = 0;
};

static_assert(resync::Store<RequiredMembersStore>);
static_assert(resync::store_requirements::lends_live_snapshot<resync::MemoryStore>);
static_assert(resync::store_requirements::lends_live_snapshot<LendingViewStore>);
static_assert(resync::store_requirements::offers_live_view<CopyingViewStore>);
static_assert(!resync::store_requirements::lends_live_snapshot<CopyingViewStore>);
static_assert(!resync::store_requirements::lends_live_snapshot<RequiredMembersStore>);
static_assert(!resync::store_requirements::reports_unsynced<RequiredMembersStore>);
static_assert(!resync::store_requirements::offers_live_view<RequiredMembersStore>);
static_assert(!resync::store_requirements::keeps_quarantine<RequiredMembersStore>);
static_assert(resync::store_requirements::commits_reset_by_diff<RequiredMembersDiffStore>);
static_assert(!resync::store_requirements::commits_reset_diff_keeping_before<RequiredMembersDiffStore>);

} // namespace resync_test
