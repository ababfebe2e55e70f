// detail/atomic_file.hpp and detail/path.hpp: paths are plain strings, directories are created
// with their parents (as `mkdir -p`), and a failure names the directory that could not be made.

#include <resync/detail/atomic_file.hpp>
#include <resync/detail/path.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace fs = std::filesystem;
using resync_test::TempDir;

unsigned mode_of(const std::string& path) {
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777U;
}

} // namespace

TEST_CASE("string paths are joined and split as POSIX paths", "[detail][path]") {
    using namespace resync::detail;
    CHECK(join_path("a/b", "c") == "a/b/c");
    CHECK(join_path("a/b/", "c") == "a/b/c");
    CHECK(join_path("", "c") == "c");
    CHECK(join_path("/", "c") == "/c");
    CHECK(parent_directory("a/b/c") == "a/b");
    CHECK(parent_directory("/c") == "/");
    CHECK(parent_directory("c") == ".");
    CHECK(file_name("a/b/c.tmp") == "c.tmp");
    CHECK(file_name("c") == "c");
    CHECK(default_backup_directory() == join_path(temp_directory(), "resync-backups"));
    CHECK(temp_directory() == fs::temp_directory_path().string());
}

TEST_CASE("a nested missing directory is created with its parents, the last one owner-only",
          "[detail][atomic_file]") {
    TempDir dir;
    const std::string nested = (dir / "one" / "two" / "three").string();
    std::string failed;
    REQUIRE_FALSE(resync::detail::ensure_private_directory(nested, failed));
    CHECK(failed.empty());
    CHECK(fs::is_directory(nested));
    CHECK(mode_of(nested) == 0700U);
    // Repeated and trailing slashes are the same directory; an existing one is left as it is.
    REQUIRE_FALSE(resync::detail::ensure_private_directory((dir / "one").string() + "//two/three/", failed));
    REQUIRE_FALSE(resync::detail::ensure_private_directory((dir / "one" / "four/").string(), failed));
    CHECK(fs::is_directory(dir / "one" / "four"));
}

TEST_CASE("a directory that cannot be created is named in the error, with the one asked for",
          "[detail][atomic_file]") {
    TempDir dir;
    std::ofstream(dir / "a-file") << "in the way";
    const std::string blocked = (dir / "a-file").string();
    const std::string wanted = (dir / "a-file" / "x" / "backups").string();

    std::string failed;
    const auto ec = resync::detail::ensure_private_directory(wanted, failed);
    CHECK(ec == std::errc::not_a_directory);
    CHECK(failed == blocked);

    resync::detail::FileError error;
    const auto r = resync::detail::write_new_file_durably(wanted, "stem", ".bin", "bytes", &error);
    REQUIRE_FALSE(r.has_value());
    CHECK(error.os == std::errc::not_a_directory);
    CHECK(error.what == "creating directory " + blocked + " (for " + wanted + ")");

    // The twin: the same write into a directory that can be created succeeds.
    const auto ok = resync::detail::write_new_file_durably((dir / "x" / "backups").string(), "stem", ".bin", "bytes");
    REQUIRE(ok.has_value());
    CHECK(resync::detail::parent_directory(*ok) == (dir / "x" / "backups").string());
    CHECK(resync::detail::read_file(*ok).value() == "bytes");
}

} // namespace RESYNC_TEST_FILE
