// expect: ResetPolicy must provide .static constexpr ResetMode requested_mode. and the accessors detection\(\), backup\(\), discard\(\), recovery\(\), replay\(\), execution\(\) and fallback\(\)
//
// A hand-written reset policy that names a model for every role but gives the session no way to
// reach them (nor says which mode it asks for) is refused in one line, not with an error from
// each place the session's body uses them. The twin adds the accessors and requested_mode.
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

struct HandWritten {
    using detection_type = resync::detect::Standard;
    using backup_type = resync::backup::None;
    using discard_type = resync::discard::Replace;
    using recovery_type = resync::recover::None;
    using replay_type = resync::replay::Upload;
    using execution_type = resync::execute::Automatic;
    using fallback_type = resync::fallback::Manual;
#ifdef RESYNC_TWIN
    static constexpr resync::ResetMode requested_mode = resync::ResetMode::discard;

    detection_type detection() const { return {}; }
    backup_type backup() const { return {}; }
    discard_type discard() const { return {}; }
    recovery_type recovery() const { return {}; }
    replay_type replay() const { return {}; }
    execution_type execution() const { return {}; }
    fallback_type fallback() const { return {}; }
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, HandWritten> session(store, link);
    session.poll();
}
