#pragma once
/// \file
/// `FileHook`: a function the library calls before each durable step of a backup or staging
/// file, so that a test can make any of them fail (a full disk, an I/O error) or "crash" the
/// process there. `resync::testing::FaultPlan` provides one; applications leave it empty.

#include <cstdint>
#include <functional>
#include <string_view>
#include <system_error>

namespace resync {

/// The durable steps of writing a file, in the order they happen.
enum class FileStep : std::uint8_t {
    create_directory = 1, ///< making the backup directory (then its parent is fsynced)
    create,               ///< creating a temporary or staging file
    write,                ///< writing bytes to it
    sync,                 ///< fsyncing it
    publish,              ///< giving it its final name (link or rename)
    sync_directory,       ///< fsyncing the directory that holds it
};

/// Called before each step with the path it concerns; a non-empty error makes the step fail
/// with that error, as if the operating system had returned it.
using FileHook = std::function<std::error_code(FileStep step, std::string_view path)>;

} // namespace resync
