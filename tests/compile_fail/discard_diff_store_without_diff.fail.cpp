// expect: resync::discard::Diff needs a store that declares resync::cap::diff_commit and provides Result<DiffStats> commit_reset_diff
//
// discard::Diff writes a minimal diff, which only a store with the diff_commit capability can
// do; with any other store the message says so and points at discard::Replace. The twin's store
// declares the capability and has commit_reset_diff().
#include <resync/discard/diff.hpp>
#include <resync/strategy.hpp>
#include <resync/doc/model.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

struct MyStore {
    using store_concept = resync::store_t;
    using model_type = resync::doc::Model;
    using operation_type = resync::doc::Operation;
    using snapshot_type = resync::doc::State;
    const resync::SyncState& sync_state() const { return sync; }
    std::error_code write_sync_state(const resync::SyncState& s) {
        sync = s;
        return {};
    }
    std::vector<resync::LocalChangeset<operation_type>> unsynced() const { return {}; }
    std::error_code integrate(std::span<const resync::RemoteChangeset<operation_type>>) { return {}; }
    std::error_code acknowledge(resync::ClientVersion,
                                std::span<const std::pair<resync::ClientVersion, std::uint64_t>>) {
        return {};
    }
    snapshot_type export_snapshot() const { return data; }
    resync::Result<snapshot_type> commit_reset(resync::ResetCommit<snapshot_type, operation_type>&& c) {
        snapshot_type old = std::move(data);
        data = std::move(c.state);
        sync = c.sync_state;
        return old;
    }
#ifdef RESYNC_TWIN
    using store_capabilities = resync::capabilities<resync::cap::diff_commit>;
    resync::Result<resync::DiffStats> commit_reset_diff(resync::ResetCommit<snapshot_type, operation_type>&& c) {
        data = std::move(c.state);
        sync = c.sync_state;
        return resync::DiffStats{};
    }
#endif

    resync::SyncState sync;
    resync::doc::State data;
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    MyStore store;
    resync::SyncSession<MyStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<resync::discard::Diff>> session(
        store, link);
    session.poll();
}
