// Compile-time benchmark, a file that uses the session: the same work as session.cpp (a store
// written once, the session made and polled once), the session declared in app_session.hpp and
// compiled elsewhere (session_instance.cpp). `bench/report` times it against deps_only.cpp
// (target: at most 1 s more) and links the two into a program.

#include "app_session.hpp"

#include <cstdint>

int main() {
    app::AppLink link;
    resync::MemoryStore store(1);
    app::Session session(store, link);
    auto v = store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{1}); });
    (void)v;
    return static_cast<int>(session.poll());
}
