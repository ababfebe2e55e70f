#pragma once
/// \file
/// Durable files (POSIX): a private directory checked before each use, new files written through a
/// temporary file that is fsynced and then linked to a name that did not exist before (never
/// overwriting), the directory fsynced after; and append-only staging files. Every durable step
/// first asks the `FileHook`, so tests can fail or "crash" any of them.

#include <resync/detail/linkage.hpp>
#include <resync/detail/path.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/result.hpp>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include <dirent.h>
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

/// Asks the hook (if any) before a durable step.
inline std::error_code ask(const FileHook* hook, FileStep step, std::string_view path) {
    return hook && *hook ? (*hook)(step, path) : std::error_code{};
}

inline bool is_directory(const std::string& path) {
    struct ::stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

inline std::error_code fsync_directory(const std::string& dir, const FileHook* hook = nullptr) {
    if (auto ec = ask(hook, FileStep::sync_directory, dir)) return ec;
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_os_error();
    const int rc = ::fsync(fd);
    const auto ec = rc == 0 ? std::error_code{} : last_os_error();
    ::close(fd);
    return ec;
}

/// The marker in the name of a temporary file, followed by the writer's process id: a temporary
/// file whose writer is gone is a leftover of a crash, removed when the directory is next used.
inline constexpr std::string_view temp_marker = ".tmp-";

/// Removes temporary files in `dir` left by writers that are no longer running.
inline void remove_stale_temporaries(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    const long self = static_cast<long>(::getpid());
    while (const ::dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        const auto at = name.find(temp_marker);
        if (at == std::string_view::npos) continue;
        const std::string digits(name.substr(at + temp_marker.size()));
        char* end = nullptr;
        const long pid = std::strtol(digits.c_str(), &end, 10);
        if (end == digits.c_str() || *end != '.' || pid <= 0 || pid == self) continue;
        // Signal 0 asks whether the process exists; ESRCH: the writer is gone.
        if (::kill(static_cast<::pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
}

/// Makes sure `dir` is a private directory of this user, ready for backups: created (with its
/// missing parents) owner-only if missing and its parent fsynced; if it exists, it must be a
/// real directory (not a symbolic link), owned by this user, with no access for anyone else
/// (`errc::backup_directory_unsafe` otherwise). Temporary files left by crashed writers are
/// removed. On failure `error` says which step and path.
inline std::error_code prepare_private_directory(const std::string& dir, const FileHook* hook = nullptr,
                                                 FileError* error = nullptr) {
    auto fail = [&](std::error_code os, std::string what, errc as = errc::backup_io) {
        if (error) *error = FileError{os, std::move(what)};
        return make_error_code(as);
    };
    if (dir.empty()) return fail(std::make_error_code(std::errc::invalid_argument), "no directory named",
                                 errc::no_backup_directory);
    struct ::stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        // Missing (or under a file, which creating the parents reports): made below.
        if (errno != ENOENT && errno != ENOTDIR) return fail(last_os_error(), "inspecting " + dir);
        // Every missing parent, shortest first (as `mkdir -p`), then the directory itself, 0700.
        for (auto slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1)) {
            if (dir[slash - 1] == '/' || dir.find_first_not_of('/', slash) == std::string::npos) continue;
            const std::string parent = dir.substr(0, slash);
            if (is_directory(parent)) continue;
            if (auto ec = ask(hook, FileStep::create_directory, parent)) return fail(ec, "creating " + parent);
            if (::mkdir(parent.c_str(), 0777) != 0 && !is_directory(parent))
                return fail(errno == EEXIST ? std::make_error_code(std::errc::not_a_directory) : last_os_error(),
                            "creating directory " + parent + " (for " + dir + ")");
        }
        if (auto ec = ask(hook, FileStep::create_directory, dir)) return fail(ec, "creating " + dir);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail(last_os_error(), "creating directory " + dir);
        // mkdir's mode is filtered by the umask; owner-only is what the backups need.
        if (::chmod(dir.c_str(), 0700) != 0) return fail(last_os_error(), "making " + dir + " owner-only");
        // The new directory's name is an entry of its parent: durable only once the parent is.
        if (auto ec = fsync_directory(parent_directory(dir), hook)) return fail(ec, "syncing the parent of " + dir);
        if (::lstat(dir.c_str(), &st) != 0) return fail(last_os_error(), "inspecting " + dir);
    }
    if (S_ISLNK(st.st_mode))
        return fail(std::make_error_code(std::errc::too_many_symbolic_link_levels),
                    dir + " is a symbolic link", errc::backup_directory_unsafe);
    if (!S_ISDIR(st.st_mode))
        return fail(std::make_error_code(std::errc::not_a_directory), dir + " is not a directory");
    if (st.st_uid != ::geteuid())
        return fail(std::make_error_code(std::errc::permission_denied), dir + " belongs to another user",
                    errc::backup_directory_unsafe);
    if ((st.st_mode & 077) != 0)
        return fail(std::make_error_code(std::errc::permission_denied),
                    dir + " is open to other users (its mode must be 0700)", errc::backup_directory_unsafe);
    remove_stale_temporaries(dir);
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

/// Creates a new empty file in `dir` named `stem` + a unique suffix + `extension`, owner-only
/// (0600), opened for appending. Returns the descriptor; `path` receives the name.
inline Result<int> create_unique_file(const std::string& dir, std::string_view stem, std::string_view extension,
                                      std::string& path, const FileHook* hook = nullptr) {
    std::string tmpl = join_path(dir, std::string(stem) + "-XXXXXX" + std::string(extension));
    if (auto ec = ask(hook, FileStep::create, tmpl)) return ec;
    const int fd = ::mkostemps(tmpl.data(), static_cast<int>(extension.size()), O_CLOEXEC | O_APPEND);
    if (fd < 0) return last_os_error();
    path = std::move(tmpl);
    return fd;
}

/// Writes a new file durably in `dir`, named `stem` + a unique suffix + `extension`, its bytes
/// written by `write(fd)` (-> `std::error_code`) into a temporary file opened for it (not
/// O_APPEND; `write` may write at any offset with `pwrite`). The directory is prepared (and
/// checked) first; the file is fsynced once and only then given its name, so no partial file
/// ever carries it. Returns the final path; on failure nothing is left behind and `error` says
/// what failed: `errc::backup_io`, `backup_directory_unsafe` or `no_backup_directory`.
RESYNC_FUNC Result<std::string> write_new_file_durably_with(const std::string& dir, std::string_view stem,
                                                           std::string_view extension,
                                                           const std::function<std::error_code(int fd)>& write,
                                                           const FileHook* hook = nullptr, FileError* error = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    auto fail = [&](std::error_code os, std::string what) -> Result<std::string> {
        if (error) *error = FileError{os, std::move(what)};
        return errc::backup_io;
    };
    if (auto ec = prepare_private_directory(dir, hook, error)) return ec;

    // The temporary name carries this process's id, so that a crash's leftover can be told from
    // a file another writer is still writing.
    std::string tmp = join_path(dir, std::string(stem) + std::string(temp_marker) +
                                         std::to_string(static_cast<long>(::getpid())) + ".XXXXXX");
    if (auto ec = ask(hook, FileStep::create, tmp)) return fail(ec, "creating a temporary file in " + dir);
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC); // mode 0600
    if (fd < 0) return fail(last_os_error(), "creating a temporary file in " + dir);
    auto give_up = [&](std::error_code ec, std::string what) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return fail(ec, std::move(what));
    };
    if (auto ec = ask(hook, FileStep::write, tmp)) return give_up(ec, "writing " + tmp);
    if (auto ec = write(fd)) return give_up(ec, "writing " + tmp);
    if (auto ec = ask(hook, FileStep::sync, tmp)) return give_up(ec, "syncing " + tmp);
    if (::fsync(fd) != 0) return give_up(last_os_error(), "syncing " + tmp);
    if (::close(fd) != 0) {
        auto ec = last_os_error();
        ::unlink(tmp.c_str());
        return fail(ec, "closing " + tmp);
    }
    // link() fails with EEXIST instead of replacing, so an existing backup is never overwritten
    // (Realm's backup naming race, PR #7341). The suffix comes from the unique temporary name.
    const std::string suffix(tmp.substr(tmp.size() - 6));
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
        if (auto ec = ask(hook, FileStep::publish, target)) {
            ::unlink(tmp.c_str());
            return fail(ec, "naming " + target);
        }
        if (::link(tmp.c_str(), target.c_str()) == 0) {
            ::unlink(tmp.c_str());
            if (auto ec = fsync_directory(dir, hook)) {
                // Not durable: take the name back, so no backup is reported that may vanish.
                ::unlink(target.c_str());
                return fail(ec, "syncing directory " + dir);
            }
            return target;
        }
        if (errno != EEXIST) {
            auto ec = last_os_error();
            ::unlink(tmp.c_str());
            return fail(ec, "naming " + target);
        }
    }
    ::unlink(tmp.c_str());
    return fail(std::make_error_code(std::errc::file_exists), "finding a free name in " + dir);
}
#else
;
#endif

/// Writes `bytes` durably to a new file in `dir` named `stem` + a unique suffix + `extension`,
/// as `write_new_file_durably_with` does.
RESYNC_FUNC Result<std::string> write_new_file_durably(const std::string& dir, std::string_view stem,
                                                       std::string_view extension, std::string_view bytes,
                                                       const FileHook* hook = nullptr, FileError* error = nullptr)
#if RESYNC_HEADER_DEFINITIONS
{
    return write_new_file_durably_with(
        dir, stem, extension, [&](int fd) { return write_all(fd, bytes); }, hook, error);
}
#else
;
#endif

/// Replaces `path` durably with `bytes` (temporary file + fsync + rename + directory fsync).
inline std::error_code replace_file_durably(const std::string& path, std::string_view bytes) {
    const std::string dir = parent_directory(path);
    std::string tmpl = path + std::string(temp_marker) + std::to_string(static_cast<long>(::getpid())) + ".XXXXXX";
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
