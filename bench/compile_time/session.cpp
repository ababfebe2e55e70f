// Compile-time benchmark, the resync side: the umbrella header and a full RecoverOrDiscard
// session over a transport written in this file, as an application writes its own, instantiated
// and polled once. `bench/report` times `g++ -std=c++20 -O2 -c` of this file against
// deps_only.cpp (target: at most 1 s more). session_with_test_server.cpp is the same session
// over the testing kit's loopback transport and server (informative).

#include <resync/doc.hpp>
#include <resync/resync.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace {

/// The application's own link: the session's messages queue in `outbox` for the network code to
/// send, and the network code queues what arrives in `inbox`.
class AppLink {
public:
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;
    using ClientMessage = resync::protocol::ClientMessage<operation_type>;
    using ServerMessage = resync::protocol::ServerMessage<operation_type>;

    bool connected() const noexcept { return true; }
    std::uint64_t connection_id() const noexcept { return 1; }

    bool send(ClientMessage m) {
        outbox.push_back(std::move(m));
        return true;
    }
    std::optional<ServerMessage> receive() {
        if (inbox.empty()) return std::nullopt;
        ServerMessage m = std::move(inbox.front());
        inbox.pop_front();
        return m;
    }

    std::deque<ClientMessage> outbox;
    std::deque<ServerMessage> inbox;
};

} // namespace

int main() {
    AppLink link;
    resync::MemoryStore store(1);
    resync::SyncSession<resync::MemoryStore, AppLink, resync::doc::RecoverOrDiscard> session(store, link);
    auto v = store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{1}); });
    (void)v;
    return static_cast<int>(session.poll());
}
