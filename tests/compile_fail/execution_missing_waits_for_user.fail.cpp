// expect: the execution policy must provide .static constexpr bool waits_for_user.
//
// An execution model without `waits_for_user` is refused with the library's message. The twin
// declares it.
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

struct AskFirst {
    using resync_role = resync::role::execution;
#ifdef RESYNC_TWIN
    static constexpr bool waits_for_user = true;
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<AskFirst>> session(store, link);
    session.poll();
}
