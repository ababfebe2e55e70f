// expect: Transport must provide .std::optional<resync::protocol::ServerMessage<operation_type>> receive\(\).
//
// A Transport without receive() gets one static_assert naming it. The twin adds receive().
#include <resync/memory_store.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/sync_session.hpp>

#include <cstdint>
#include <optional>

struct MyTransport {
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;

    bool send(resync::protocol::ClientMessage<operation_type>) { return false; }
#ifdef RESYNC_TWIN
    std::optional<resync::protocol::ServerMessage<operation_type>> receive() { return std::nullopt; }
#endif
    bool connected() const { return false; }
    std::uint64_t connection_id() const { return 1; }
};

int main() {
    resync::MemoryStore store;
    MyTransport link;
    resync::SyncSession<resync::MemoryStore, MyTransport, resync::DiscardUnsynced> session(store, link);
    session.poll();
}
