#pragma once
/// \file
/// Durable file writes (POSIX): a temporary file in the target directory, written and fsynced,
/// then linked to a name that did not exist before (never overwriting), then the directory
/// fsynced. Files and directories are created owner-only.

#include <resync/error.hpp>
#include <resync/result.hpp>

#include <cerrno>
#include <cstdint>
#include <filesystem>
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

/// Creates `dir` (and parents) owner-only if missing.
inline std::error_code ensure_private_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return {};
    std::filesystem::create_directories(dir, ec);
    if (ec) return ec;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    return ec;
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

inline std::error_code fsync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_os_error();
    const int rc = ::fsync(fd);
    const auto ec = rc == 0 ? std::error_code{} : last_os_error();
    ::close(fd);
    return ec;
}

/// Writes `bytes` durably to a new file in `dir` named `stem` + a unique suffix + `extension`.
/// Returns the final path; on failure nothing is left behind and `error` says what failed.
inline Result<std::filesystem::path> write_new_file_durably(const std::filesystem::path& dir, std::string_view stem,
                                                            std::string_view extension, std::string_view bytes,
                                                            FileError* error = nullptr) {
    auto fail = [&](std::error_code os, std::string what) -> Result<std::filesystem::path> {
        if (error) *error = FileError{os, std::move(what)};
        return errc::backup_io;
    };
    if (auto ec = ensure_private_directory(dir)) return fail(ec, "creating directory " + dir.string());

    std::string tmpl = (dir / (std::string(stem) + ".tmp.XXXXXX")).string();
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC); // mode 0600
    if (fd < 0) return fail(last_os_error(), "creating a temporary file in " + dir.string());
    const std::filesystem::path tmp = tmpl;
    auto discard_tmp = [&] { ::unlink(tmp.c_str()); };

    if (auto ec = write_all(fd, bytes)) {
        ::close(fd);
        discard_tmp();
        return fail(ec, "writing " + tmp.string());
    }
    if (::fsync(fd) != 0) {
        auto ec = last_os_error();
        ::close(fd);
        discard_tmp();
        return fail(ec, "syncing " + tmp.string());
    }
    if (::close(fd) != 0) {
        auto ec = last_os_error();
        discard_tmp();
        return fail(ec, "closing " + tmp.string());
    }
    // link() fails with EEXIST instead of replacing, so an existing backup is never overwritten
    // (Realm's backup naming race, PR #7341). The suffix comes from the unique temporary name.
    const std::string suffix = tmp.filename().string().substr(stem.size() + 5);
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::filesystem::path target =
            dir / (std::string(stem) + "-" + suffix + (attempt ? "-" + std::to_string(attempt) : "") +
                   std::string(extension));
        if (::link(tmp.c_str(), target.c_str()) == 0) {
            discard_tmp();
            if (auto ec = fsync_directory(dir)) return fail(ec, "syncing directory " + dir.string());
            return target;
        }
        if (errno != EEXIST) {
            auto ec = last_os_error();
            discard_tmp();
            return fail(ec, "naming " + target.string());
        }
    }
    discard_tmp();
    return fail(std::make_error_code(std::errc::file_exists), "finding a free name in " + dir.string());
}

/// Replaces `path` durably with `bytes` (temporary file + fsync + rename + directory fsync).
inline std::error_code replace_file_durably(const std::filesystem::path& path, std::string_view bytes) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::string tmpl = (dir / (path.filename().string() + ".tmp.XXXXXX")).string();
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
inline Result<std::string> read_file(const std::filesystem::path& path) {
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
