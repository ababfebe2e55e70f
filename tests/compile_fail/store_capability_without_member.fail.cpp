// expect: the store declares cap::quarantine and must provide .quarantined\(\) const.
//
// A store that declares an optional capability must have its members: the one error names the
// member of the capability it declared. The twin has quarantined().
#include <resync/doc/model.hpp>
#include <resync/quarantine.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <cstdint>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

struct MyStore {
    using store_concept = resync::store_t;
    using model_type = resync::doc::Model;
    using store_capabilities = resync::capabilities<resync::cap::quarantine>;
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
        kept.insert(kept.end(), c.quarantine.begin(), c.quarantine.end());
        return old;
    }
#ifdef RESYNC_TWIN
    const std::vector<resync::QuarantinedOperation<operation_type>>& quarantined() const { return kept; }
#endif

    resync::SyncState sync;
    resync::doc::State data;
    std::vector<resync::QuarantinedOperation<operation_type>> kept;
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    MyStore store;
    resync::SyncSession<MyStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::DiscardUnsynced> session(
        store, link);
    session.poll();
}
