// expect: two backup policies were given
//
// A role given twice is one readable error, naming the role. The twin gives it once.
#include <resync/backup/none.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/strategy.hpp>

int main() {
#ifdef RESYNC_TWIN
    [[maybe_unused]] resync::Strategy<resync::backup::Snapshot> s;
#else
    [[maybe_unused]] resync::Strategy<resync::backup::None, resync::backup::Snapshot> s;
#endif
}
