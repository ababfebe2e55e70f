#pragma once
/// \file
/// Paths as strings (POSIX): joining and splitting, so that the public
/// headers need not include the heavy `<filesystem>`.

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

} // namespace resync::detail
