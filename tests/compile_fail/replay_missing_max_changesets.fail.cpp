// expect: the replay policy must provide .prepare\(std::vector<LocalChangeset<operation_type>>\). and .max_changesets_per_upload\(\).
//
// A replay model without max_changesets_per_upload() is refused in one line; the twin adds it.
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <cstddef>
#include <vector>

struct OneByOne {
    using resync_role = resync::role::replay;

    template <class Op>
    std::vector<resync::LocalChangeset<Op>> prepare(std::vector<resync::LocalChangeset<Op>> changesets) const {
        return changesets;
    }
#ifdef RESYNC_TWIN
    static constexpr std::size_t max_changesets_per_upload() noexcept { return 1; }
#endif
};

int main() {
    resync::testing::Server<resync::doc::Model> server;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync::MemoryStore store;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, resync::Strategy<OneByOne>> session(store, link);
    session.poll();
}
