#pragma once
/// \file
/// Durable file writes (POSIX): a temporary file in the target directory, written and fsynced,
/// then linked to a name that did not exist before (never overwriting), then the directory
/// fsynced. Files and directories are created owner-only.

#include <resync/detail/path.hpp>
#include <resync/error.hpp>
#include <resync/result.hpp>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace resync::detail {

/// The OS error behind a failed file operation, kept for reports.
struct FileError {
    std::error_code os;   ///< errno as a generic-category code
    std::string what;     ///< which step failed, with the path
};

inline std::error_code last_os_error() { return {errno, std::generic_category()}; }

inline bool is_directory(const std::string& path) {
    struct ::stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// Creates `dir` if it is missing, with any missing parents (as `mkdir -p`); `dir` itself is
/// made owner-only, the parents get the default mode. On failure, `failed` is the directory
/// that could not be created (`dir` or one of its parents).
inline std::error_code ensure_private_directory(const std::string& dir, std::string& failed) {
    if (is_directory(dir)) return {};
    if (dir.empty()) {
        failed = dir;
        return std::make_error_code(std::errc::no_such_file_or_directory);
    }
    auto make = [&](const std::string& d, ::mode_t mode) -> std::error_code {
        if (::mkdir(d.c_str(), mode) == 0 || is_directory(d)) return {};
        failed = d;
        return errno == EEXIST ? std::make_error_code(std::errc::not_a_directory) : last_os_error();
    };
    // Every parent, shortest first: each prefix that ends before a '/' (repeated slashes and the
    // root are skipped; "." and ".." exist already).
    for (auto slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1)) {
        if (dir[slash - 1] == '/' || dir.find_first_not_of('/', slash) == std::string::npos) continue;
        if (auto ec = make(dir.substr(0, slash), 0777)) return ec;
    }
    if (auto ec = make(dir, 0700)) return ec;
    // mkdir's mode is filtered by the umask; owner-only is what the backups need.
    if (::chmod(dir.c_str(), 0700) != 0) {
        failed = dir;
        return last_os_error();
    }
    return {};
}

inline std::error_code write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ::ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_os_error();
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

inline std::error_code fsync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_os_error();
    const int rc = ::fsync(fd);
    const auto ec = rc == 0 ? std::error_code{} : last_os_error();
    ::close(fd);
    return ec;
}

/// Writes `bytes` durably to a new file in `dir` named `stem` + a unique suffix + `extension`.
/// Returns the final path; on failure nothing is left behind and `error` says what failed.
inline Result<std::string> write_new_file_durably(const std::string& dir, std::string_view stem,
                                                  std::string_view extension, std::string_view bytes,
                                                  FileError* error = nullptr) {
    auto fail = [&](std::error_code os, std::string what) -> Result<std::string> {
        if (error) *error = FileError{os, std::move(what)};
        return errc::backup_io;
    };
    std::string failed_dir;
    if (auto ec = ensure_private_directory(dir, failed_dir))
        return fail(ec, "creating directory " + failed_dir + (failed_dir == dir ? "" : " (for " + dir + ")"));

    std::string tmp = join_path(dir, std::string(stem) + ".tmp.XXXXXX");
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC); // mode 0600
    if (fd < 0) return fail(last_os_error(), "creating a temporary file in " + dir);
    auto discard_tmp = [&] { ::unlink(tmp.c_str()); };

    if (auto ec = write_all(fd, bytes)) {
        ::close(fd);
        discard_tmp();
        return fail(ec, "writing " + tmp);
    }
    if (::fsync(fd) != 0) {
        auto ec = last_os_error();
        ::close(fd);
        discard_tmp();
        return fail(ec, "syncing " + tmp);
    }
    if (::close(fd) != 0) {
        auto ec = last_os_error();
        discard_tmp();
        return fail(ec, "closing " + tmp);
    }
    // link() fails with EEXIST instead of replacing, so an existing backup is never overwritten
    // (Realm's backup naming race, PR #7341). The suffix comes from the unique temporary name.
    const std::string suffix(file_name(tmp).substr(stem.size() + 5));
    for (int attempt = 0; attempt < 100; ++attempt) {
        // Appended piece by piece: `"-" + std::to_string(n)` trips g++ 12's -Wrestrict false
        // positive (GCC bug 105329) at -O2.
        std::string target = join_path(dir, stem);
        target += '-';
        target += suffix;
        if (attempt) {
            target += '-';
            target += std::to_string(attempt);
        }
        target += extension;
        if (::link(tmp.c_str(), target.c_str()) == 0) {
            discard_tmp();
            if (auto ec = fsync_directory(dir)) return fail(ec, "syncing directory " + dir);
            return target;
        }
        if (errno != EEXIST) {
            auto ec = last_os_error();
            discard_tmp();
            return fail(ec, "naming " + target);
        }
    }
    discard_tmp();
    return fail(std::make_error_code(std::errc::file_exists), "finding a free name in " + dir);
}

/// Replaces `path` durably with `bytes` (temporary file + fsync + rename + directory fsync).
inline std::error_code replace_file_durably(const std::string& path, std::string_view bytes) {
    const std::string dir = parent_directory(path);
    std::string tmpl = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) return last_os_error();
    std::error_code ec = write_all(fd, bytes);
    if (!ec && ::fsync(fd) != 0) ec = last_os_error();
    if (::close(fd) != 0 && !ec) ec = last_os_error();
    if (!ec && ::rename(tmpl.c_str(), path.c_str()) != 0) ec = last_os_error();
    if (ec) {
        ::unlink(tmpl.c_str());
        return ec;
    }
    return fsync_directory(dir);
}

/// Reads a whole file.
inline Result<std::string> read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return last_os_error();
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const ::ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            auto ec = last_os_error();
            ::close(fd);
            return ec;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

} // namespace resync::detail
