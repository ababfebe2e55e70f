// detail/atomic_file.hpp and detail/path.hpp: paths are plain strings; a backup directory is made
// owner-only with its parents (and its parent fsynced), refused when it is a symbolic link, another
// user's or open to others; crashed writers' temporary files are removed; a write that fails at
// any durable step leaves nothing behind.

#include <resync/detail/atomic_file.hpp>
#include <resync/detail/path.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace fs = std::filesystem;
using resync::errc;
using resync::FileStep;
using resync_test::TempDir;

unsigned mode_of(const std::string& path) {
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777U;
}

/// A hook that records every step it is asked about.
struct Recorder {
    std::vector<std::pair<FileStep, std::string>> steps;
    resync::FileHook hook() {
        return [this](FileStep s, std::string_view p) {
            steps.emplace_back(s, std::string(p));
            return std::error_code{};
        };
    }
};

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
}

TEST_CASE("a missing backup directory is created with its parents, owner-only, and its parent is fsynced",
          "[detail][atomic_file]") {
    TempDir dir;
    const std::string nested = (dir / "one" / "two" / "three").string();
    Recorder rec;
    const auto hook = rec.hook();
    REQUIRE_FALSE(resync::detail::prepare_private_directory(nested, &hook));
    CHECK(fs::is_directory(nested));
    CHECK(mode_of(nested) == 0700U);
    // The new directory's name is durable only once its parent is synced: the hook saw both.
    bool created = false, parent_synced = false;
    for (const auto& [step, path] : rec.steps) {
        if (step == FileStep::create_directory && path == nested) created = true;
        if (step == FileStep::sync_directory && path == (dir / "one" / "two").string()) parent_synced = created;
    }
    CHECK(created);
    CHECK(parent_synced);
    // Repeated and trailing slashes are the same directory; an existing one is checked, not remade.
    REQUIRE_FALSE(resync::detail::prepare_private_directory((dir / "one").string() + "//two/three/"));
}

TEST_CASE("a backup directory that is a symbolic link, open to others or another user's is refused, nothing written",
          "[detail][atomic_file][security]") {
    TempDir dir;
    const std::string real = (dir / "real").string();
    REQUIRE_FALSE(resync::detail::prepare_private_directory(real));

    // A symbolic link to a private directory: an attacker's redirection is not followed.
    const std::string link = (dir / "link").string();
    fs::create_directory_symlink(real, link);
    resync::detail::FileError why;
    CHECK(resync::detail::prepare_private_directory(link, nullptr, &why) == errc::backup_directory_unsafe);
    CHECK(why.what.find("symbolic link") != std::string::npos);
    CHECK_FALSE(resync::detail::write_new_file_durably(link, "b", ".rsbk", "x").has_value());
    CHECK(fs::is_empty(real));

    // Open to the group or others.
    const std::string open = (dir / "open").string();
    fs::create_directory(open);
    fs::permissions(open, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace);
    CHECK(resync::detail::prepare_private_directory(open, nullptr, &why) == errc::backup_directory_unsafe);
    CHECK(why.what.find("0700") != std::string::npos);
    CHECK(fs::is_empty(open));

    // Another user's (needs the right to give it away: root, as in CI).
    const std::string theirs = (dir / "theirs").string();
    fs::create_directory(theirs);
    fs::permissions(theirs, fs::perms::owner_all, fs::perm_options::replace);
    if (::chown(theirs.c_str(), 65534, 65534) == 0) {
        CHECK(resync::detail::prepare_private_directory(theirs, nullptr, &why) == errc::backup_directory_unsafe);
        CHECK(why.what.find("another user") != std::string::npos);
    } else {
        WARN("not run as root: the other-owner case is checked in CI only");
    }

    // The twin: the private directory itself is accepted.
    CHECK_FALSE(resync::detail::prepare_private_directory(real));
}

TEST_CASE("temporary files left by a crashed writer are removed; a running writer's are kept",
          "[detail][atomic_file]") {
    TempDir dir;
    const std::string d = dir.path().string();
    // A process id that is not running: the largest a Linux pid can be, plus one.
    const std::string stale = d + "/resync-backup-1.tmp-4194305.AbCdEf";
    const std::string live = d + "/resync-backup-1.tmp-" + std::to_string(::getpid()) + ".GhIjKl";
    const std::string other = d + "/resync-backup-1-ZZZZZZ.rsbk";
    for (const auto& p : {stale, live, other}) std::ofstream(p) << "x";
    REQUIRE_FALSE(resync::detail::prepare_private_directory(d));
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(live));
    CHECK(fs::exists(other));
}

TEST_CASE("a directory that cannot be created is named in the error, with the one asked for",
          "[detail][atomic_file]") {
    TempDir dir;
    std::ofstream(dir / "a-file") << "in the way";
    const std::string blocked = (dir / "a-file").string();
    const std::string wanted = (dir / "a-file" / "x" / "backups").string();

    resync::detail::FileError error;
    const auto r = resync::detail::write_new_file_durably(wanted, "stem", ".bin", "bytes", nullptr, &error);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::backup_io);
    CHECK(error.os == std::errc::not_a_directory);
    CHECK(error.what == "creating directory " + blocked + " (for " + wanted + ")");

    // The twin: the same write into a directory that can be created succeeds.
    const auto ok = resync::detail::write_new_file_durably((dir / "x" / "backups").string(), "stem", ".bin", "bytes");
    REQUIRE(ok.has_value());
    CHECK(resync::detail::parent_directory(*ok) == (dir / "x" / "backups").string());
    CHECK(resync::detail::read_file(*ok).value() == "bytes");
}

TEST_CASE("a durable write that fails at any step (full disk, I/O error) leaves no file and no temporary behind",
          "[detail][atomic_file][faults]") {
    for (const auto failing : {FileStep::create, FileStep::write, FileStep::sync, FileStep::publish,
                               FileStep::sync_directory}) {
        for (const auto error : {std::errc::no_space_on_device, std::errc::io_error}) {
            TempDir dir;
            const std::string d = dir.path().string();
            const resync::FileHook hook = [&](FileStep s, std::string_view) {
                return s == failing ? std::make_error_code(error) : std::error_code{};
            };
            resync::detail::FileError why;
            const auto r = resync::detail::write_new_file_durably(d, "resync-backup-7", ".rsbk", "the bytes", &hook, &why);
            CAPTURE(static_cast<int>(failing));
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == errc::backup_io);
            CHECK(why.os == std::make_error_code(error));
            CHECK(dir.names().empty());
        }
    }
    // The twin: no failure, one file.
    TempDir dir;
    Recorder rec;
    const auto hook = rec.hook();
    const auto r = resync::detail::write_new_file_durably(dir.path().string(), "resync-backup-7", ".rsbk", "x", &hook);
    REQUIRE(r.has_value());
    CHECK(dir.names().size() == 1);
    CHECK(rec.steps.size() == 5); // create, write, sync, publish, sync the directory
}

} // namespace RESYNC_TEST_FILE
