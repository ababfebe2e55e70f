// Compile-time benchmark, the resync side: the umbrella header and a full RecoverOrDiscard
// session over the application's own transport (app_link.hpp), instantiated and polled once in
// this one file, header-only. `bench/report` times `g++ -std=c++20 -O2 -c` of this file against
// deps_only.cpp (informative since the session can be declared once and compiled once:
// session_user.cpp and session_instance.cpp). session_with_test_server.cpp is the same session
// over the testing kit's loopback transport and server (informative).

#include "app_link.hpp"

#include <resync/doc.hpp>
#include <resync/resync.hpp>

#include <cstdint>

int main() {
    app::AppLink link;
    resync::MemoryStore store(1);
    resync::SyncSession<resync::MemoryStore, app::AppLink, resync::doc::RecoverOrDiscard> session(store, link);
    auto v = store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{1}); });
    (void)v;
    return static_cast<int>(session.poll());
}
