#pragma once
// Shared test helper: a fresh, uniquely named, owner-only folder under the system's temporary folder,
// removed with everything in it when the object goes away. Tests that write files use one each,
// so they never see each other's files and leave nothing behind.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace resync_test {

class TempDir {
public:
    TempDir() {
        std::random_device entropy;
        std::mt19937_64 rng((std::uint64_t{entropy()} << 32) ^ entropy());
        for (;;) {
            path_ = std::filesystem::temp_directory_path() / ("resync-test-" + hex(rng()));
            // create_directory reports false when the name is taken: draw another.
            if (std::filesystem::create_directory(path_)) break;
        }
        // Owner-only, as the library demands of a backup directory (it refuses others').
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }

    /// The names of the entries directly in `dir` (by default this folder), sorted.
    std::vector<std::string> names(const std::filesystem::path& dir = {}) const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? path_ : dir))
            out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    static std::string hex(std::uint64_t v) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s(16, '0');
        for (std::size_t i = 0; i < 16; ++i) s[15 - i] = digits[(v >> (4 * i)) & 0xFU];
        return s;
    }

    std::filesystem::path path_;
};

} // namespace resync_test
