// expect: Store must opt in with .using store_concept = resync::store_t;.
//
// A type with every member of a Store still is not one until it opts in: a reset discards a
// store's data, so nothing models Store by accident. The twin declares the tag.
#include <resync/strategy/discard_unsynced.hpp>
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
#ifdef RESYNC_TWIN
    using store_concept = resync::store_t;
#endif
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

    resync::SyncState sync;
    resync::doc::State data;
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    MyStore store;
    resync::SyncSession<MyStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::DiscardUnsynced> session(store, link);
    session.poll();
}
