// expect: every argument must be a reset policy model
//
// Strategy<...> takes reset policy models only; here the backup directory's type was given as if
// it were a model. The twin gives only the model (constructed with its directory).
#include <resync/backup/file.hpp>
#include <resync/strategy.hpp>

#include <filesystem>

int main() {
#ifdef RESYNC_TWIN
    [[maybe_unused]] resync::Strategy<resync::backup::File> s{resync::backup::File{"/var/backups"}};
#else
    [[maybe_unused]] resync::Strategy<resync::backup::File, std::filesystem::path> s{resync::backup::File{"/var/backups"}};
#endif
}
