#pragma once
/// \file
/// `session::Staging`: where the bytes of a fresh copy wait until all of them have arrived - in
/// a staging file beside the backups, so that a restart resumes the download from what reached
/// the disk, or in memory (as the pieces arrived) when no directory is named. Never in the live
/// store: the live data is untouched until the commit.

#include <resync/detail/atomic_file.hpp>
#include <resync/error.hpp>
#include <resync/file_hook.hpp>
#include <resync/result.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace resync::session {

/// The bytes of one fresh copy, appended in order and read back once, front to back.
class Staging {
public:
    Staging() = default;
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    ~Staging() { close(); }

    /// Stages into a new file in `directory` (prepared and checked as backups are); `path()`
    /// names it. Without a directory, stages in memory.
    std::error_code open_file(const std::string& directory, const std::string& stem, const FileHook* hook) {
        remove_file();
        clear();
        hook_ = hook;
        if (auto ec = detail::prepare_private_directory(directory, hook)) return ec;
        auto fd = detail::create_unique_file(directory, stem, ".part", path_, hook);
        if (!fd) return errc::backup_io;
        fd_ = *fd;
        // The file's name must survive a crash for the download to resume from it.
        if (auto ec = detail::fsync_directory(directory, hook)) return errc::backup_io;
        return {};
    }

    /// Stages in memory (no directory named, or a model decoded straight from memory).
    void use_memory() {
        clear();
        remove_file();
    }

    /// Resumes staging into an existing file left by an interrupted attempt: its bytes (up to
    /// `limit`) count as received. False when the file is gone or unreadable: staging then starts
    /// over, in memory until `open_file`.
    bool resume_file(const std::string& path, std::uint64_t limit, const FileHook* hook) {
        clear();
        hook_ = hook;
        const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
        if (fd < 0) return false;
        struct ::stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > limit) {
            ::close(fd);
            return false;
        }
        fd_ = fd;
        path_ = path;
        size_ = synced_ = static_cast<std::uint64_t>(st.st_size);
        return true;
    }

    /// Appends the next bytes; a file is fsynced every `sync_every` bytes.
    std::error_code append(std::string&& bytes, std::uint64_t sync_every) {
        if (bytes.empty()) return {};
        if (fd_ < 0) {
            size_ += bytes.size();
            pieces_.push_back(std::move(bytes));
            return {};
        }
        if (auto ec = detail::ask(hook_, FileStep::write, path_)) return fail(ec);
        if (auto ec = detail::write_all(fd_, bytes)) return fail(ec);
        size_ += bytes.size();
        if (size_ - synced_ >= sync_every) return sync();
        return {};
    }

    /// Makes every byte appended so far durable (a file; memory has nothing to sync).
    std::error_code sync() {
        if (fd_ < 0 || synced_ == size_) return {};
        if (auto ec = detail::ask(hook_, FileStep::sync, path_)) return fail(ec);
        if (::fsync(fd_) != 0) return fail(detail::last_os_error());
        synced_ = size_;
        return {};
    }

    /// Bytes staged so far (where the next piece starts).
    std::uint64_t size() const noexcept { return size_; }
    /// The staging file, or empty when staging in memory.
    const std::string& path() const noexcept { return path_; }
    bool in_file() const noexcept { return fd_ >= 0; }

    /// Reads the next at most `max_bytes` staged bytes, front to back (memory: hands the pieces
    /// over, releasing them). Empty once everything was read.
    Result<std::string> read_next(std::size_t max_bytes) {
        if (fd_ < 0) {
            if (pieces_.empty()) return std::string();
            std::string piece = std::move(pieces_.front());
            pieces_.pop_front();
            return piece;
        }
        if (read_at_ >= size_) return std::string();
        std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, size_ - read_at_)), '\0');
        std::size_t got = 0;
        while (got < out.size()) {
            const ::ssize_t n = ::pread(fd_, out.data() + got, out.size() - got, static_cast<::off_t>(read_at_ + got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return n == 0 ? make_error_code(errc::backup_io) : detail::last_os_error();
            got += static_cast<std::size_t>(n);
        }
        read_at_ += got;
        return out;
    }
    /// Whether every staged byte was read back.
    bool read_all() const noexcept { return fd_ < 0 ? pieces_.empty() : read_at_ >= size_; }

    /// Forgets the bytes (a damaged copy, or a copy of another position): an empty file, or
    /// empty memory.
    std::error_code restart() {
        pieces_.clear();
        size_ = synced_ = read_at_ = 0;
        if (fd_ >= 0 && ::ftruncate(fd_, 0) != 0) return fail(detail::last_os_error());
        return {};
    }

    /// Forgets everything and removes the staging file (the copy was committed or given up).
    void remove_file() {
        close();
        if (!path_.empty()) ::unlink(path_.c_str());
        path_.clear();
    }

private:
    std::error_code fail(std::error_code) { return make_error_code(errc::backup_io); }

    void clear() {
        close();
        pieces_.clear();
        size_ = synced_ = read_at_ = 0;
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    int fd_ = -1;
    std::string path_;
    const FileHook* hook_ = nullptr;
    std::deque<std::string> pieces_;
    std::uint64_t size_ = 0;
    std::uint64_t synced_ = 0;
    std::uint64_t read_at_ = 0;
};

} // namespace resync::session
