// expect: the recovery policy must provide .static constexpr ResetMode mode.
//
// A recovery model without its `mode` is refused by SyncSession in one line (Strategy itself
// reads `mode` too; the message names it). The twin declares the mode.
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <vector>

struct KeepNothing {
    using resync_role = resync::role::recovery;
#ifdef RESYNC_TWIN
    static constexpr resync::ResetMode mode = resync::ResetMode::discard;
#endif

    template <class S>
    resync::Result<resync::Recovered<typename S::operation_type>>
    recover(const S&, const typename S::snapshot_type&, const resync::ResetTrigger&,
            const std::vector<resync::LocalChangeset<typename S::operation_type>>&) const {
        return resync::Recovered<typename S::operation_type>{};
    }
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<KeepNothing>> session(store, link);
    session.poll();
}
