// expect: the discard policy must provide .Result<DiscardOutcome<snapshot_type>> commit\(Store&, ResetCommit<snapshot_type, operation_type>&&\) const.
//
// A discard model without commit() is refused in one line; the twin adds commit().
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <utility>

struct ReplaceAll {
    using resync_role = resync::role::discard;
#ifdef RESYNC_TWIN
    template <class S>
    resync::Result<resync::DiscardOutcome<typename S::snapshot_type>>
    commit(S& store, resync::ResetCommit<typename S::snapshot_type, typename S::operation_type>&& c) const {
        auto before = store.commit_reset(std::move(c));
        if (!before) return before.error();
        return resync::DiscardOutcome<typename S::snapshot_type>{std::move(*before), std::nullopt};
    }
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<ReplaceAll>> session(store, link);
    session.poll();
}
