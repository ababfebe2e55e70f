// expect: ResetPolicy must name a model for every role; compose one with resync::Strategy<...>
//
// A single model given where a whole reset policy belongs is refused in one line that says how to
// compose one. The twin wraps it in Strategy<...>.
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/backup/file.hpp>

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, 
#ifdef RESYNC_TWIN
                        resync::Strategy<resync::backup::File>
#else
                        resync::backup::File
#endif
                        > session(store, link);
    session.poll();
}
