// Built against an installed resync by the test `consumer.find_package`.
#include <resync/error.hpp>
#include <resync/memory_store.hpp>

int main() {
    if (resync::make_error_code(resync::errc::backup_corrupt).message().empty()) return 2;
    return resync::MemoryStore{}.state().object_count() == 0 ? 0 : 1;
}
