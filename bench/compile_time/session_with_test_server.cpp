// Compile-time benchmark, informative: session.cpp's session, but over the testing kit's
// loopback transport and in-process reference server, as the library's own tests and examples
// use it. `bench/report` times it next to the session/deps-only pair, with no target: the
// testing kit is not what a user's application compiles.

#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store(1);
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::doc::RecoverOrDiscard> session(store,
                                                                                                                  link);
    auto v = store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{1}); });
    (void)v;
    return static_cast<int>(session.poll());
}
