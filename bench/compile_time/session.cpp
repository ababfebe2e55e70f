// Compile-time benchmark, the resync side: the umbrella header and a full RecoverOrDiscard
// session over the loopback transport, instantiated and polled once. `bench/report` times
// `g++ -std=c++20 -O2 -c` of this file against deps_only.cpp (target: at most 1 s more).

#include <resync/resync.hpp>
#include <resync/strategy/recover.hpp>

int main() {
    resync::testing::Server server;
    resync::testing::LoopbackTransport link(server);
    resync::MemoryStore store(1);
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport, resync::RecoverOrDiscard> session(store,
                                                                                                                  link);
    auto v = store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{1}); });
    (void)v;
    return static_cast<int>(session.poll());
}
