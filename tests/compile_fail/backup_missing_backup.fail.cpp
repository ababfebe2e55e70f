// expect: the backup policy must provide .static constexpr bool keeps_before_state. and .Result<BackupMade> backup\(const Store&, const ResetTrigger&, const BackupContext&\) const.
//
// A backup model that declares its role but has no backup() member is refused in one line.
// The twin adds backup().
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <string>

struct ToNowhere {
    using resync_role = resync::role::backup;
    static constexpr bool keeps_before_state = false;
#ifdef RESYNC_TWIN
    template <class S>
    resync::Result<resync::BackupMade> backup(const S&, const resync::ResetTrigger&, const resync::BackupContext&) const {
        return resync::BackupMade{std::string("nowhere"), false};
    }
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<ToNowhere>> session(store, link);
    session.poll();
}
