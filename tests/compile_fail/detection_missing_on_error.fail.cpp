// expect: the detection policy must provide on_welcome\(const SyncState&, const protocol::Welcome&\) and on_error\(const SyncState&, const ServerError&\)
//
// A custom detection model composed with Strategy<...> but lacking on_error() is caught where it
// is used, by SyncSession, in one line. The twin adds on_error().
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <optional>

struct EveryWelcome {
    using resync_role = resync::role::detection;

    std::optional<resync::ResetTrigger> on_welcome(const resync::SyncState&, const resync::protocol::Welcome&) const {
        return std::nullopt;
    }
#ifdef RESYNC_TWIN
    std::optional<resync::ResetTrigger> on_error(const resync::SyncState&, const resync::ServerError&) const {
        return std::nullopt;
    }
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<EveryWelcome>> session(store, link);
    session.poll();
}
