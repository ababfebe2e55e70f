// expect: Transport and Store must have the same .operation_type.
//
// A Transport that carries another operation type than the Store's is refused in one line,
// before any of its members are looked at. The twin carries the store's operation type.
#include <resync/memory_store.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/sync_session.hpp>

#include <cstdint>
#include <optional>

struct OtherOperation {
    int code = 0;
};
#ifdef RESYNC_TWIN
using CarriedOperation = resync::doc::Operation;
#else
using CarriedOperation = OtherOperation;
#endif

struct MyTransport {
    using transport_concept = resync::transport_t;
    using operation_type = CarriedOperation;

    bool send(resync::protocol::ClientMessage<operation_type>) { return false; }
    std::optional<resync::protocol::ServerMessage<operation_type>> receive() { return std::nullopt; }
    bool connected() const { return false; }
    std::uint64_t connection_id() const { return 1; }
};

int main() {
    resync::MemoryStore store;
    MyTransport link;
    resync::SyncSession<resync::MemoryStore, MyTransport, resync::DiscardUnsynced> session(store, link);
    session.poll();
}
