#pragma once
/// \file
/// Paths as strings (POSIX): joining, splitting and the temporary directory, so that the public
/// headers need not include the heavy `<filesystem>`.

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

namespace resync::detail {

/// `dir` + "/" + `name` (no separator added when `dir` is empty or already ends with one).
inline std::string join_path(std::string_view dir, std::string_view name) {
    std::string out(dir);
    if (!out.empty() && out.back() != '/') out += '/';
    out += name;
    return out;
}

/// The directory part of `path`: "." when it has none, "/" for a file in the root.
inline std::string parent_directory(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    if (slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

/// The last component of `path` (after the last '/').
inline std::string_view file_name(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

/// The temporary directory, looked up as `std::filesystem::temp_directory_path()` does on POSIX:
/// $TMPDIR, $TMP, $TEMP, $TEMPDIR, else "/tmp".
inline std::string temp_directory() {
    for (const char* var : {"TMPDIR", "TMP", "TEMP", "TEMPDIR"}) {
        if (const char* dir = std::getenv(var); dir && *dir) return dir;
    }
    return "/tmp";
}

/// Where backups go unless told otherwise: `<temp>/resync-backups`.
inline std::string default_backup_directory() { return join_path(temp_directory(), "resync-backups"); }

} // namespace resync::detail
