#pragma once
/// \file
/// `detail::settle_freed_memory()`: has the allocator merge, now, the small blocks this thread has
/// just freed, so that the cost of freeing stays in the call that freed them.

#include <cstddef>
#include <cstdlib>

namespace resync::detail {

/// The size of the request that makes glibc's malloc merge the small blocks it holds unmerged:
/// beyond its per-thread cache (1,032 bytes) and its small bins (1,024 bytes), below its mmap
/// threshold (128 KiB at least).
inline constexpr std::size_t settling_request_bytes = 4096;

/// Asks the allocator for one block of `settling_request_bytes` and gives it back at once.
///
/// Why: glibc's malloc keeps freed blocks of up to 128 bytes in "fast bins", unmerged, and merges
/// all of them in one go at the next large request or large free (`malloc_consolidate`). Freeing
/// a state of 10^6 objects in slices of `Budget::work` objects therefore left the merging of every
/// slice to one later call: one poll took 1.4 s of the 2.3 s freeing took in all (N = 10^6,
/// `discard::Diff`). A large request merges what the fast bins hold now - the blocks of the slice
/// just freed - so each poll pays for its own slice. Other allocators see one malloc and free.
inline void settle_freed_memory() noexcept {
    // Through a volatile object, so that the compiler cannot drop the pair as having no effect.
    void* volatile block = std::malloc(settling_request_bytes);
    std::free(block);
}

} // namespace resync::detail
