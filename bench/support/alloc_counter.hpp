#pragma once
// Counts heap memory: replaces the global operator new and delete of the binary that includes
// this header (include it in exactly one translation unit: each benchmark is one). Bytes are
// what malloc really handed out (malloc_usable_size), so the figures include each allocation's
// rounding, the same way for the code under test and for its baseline. Single-threaded.

#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace resync_bench::heap {

inline std::size_t live = 0;        ///< bytes allocated and not yet freed
inline std::size_t peak = 0;        ///< the most `live` reached since the last `reset_peak()`
inline std::size_t allocations = 0; ///< calls to operator new so far

/// Starts a new peak measurement from what is live now.
inline void reset_peak() noexcept { peak = live; }

namespace detail {
inline void* noted(void* p) noexcept {
    if (p) {
        live += malloc_usable_size(p);
        peak = std::max(peak, live);
        ++allocations;
    }
    return p;
}
inline void* take(std::size_t n) {
    if (void* p = noted(std::malloc(n ? n : 1))) return p;
    throw std::bad_alloc();
}
inline void* take_aligned(std::size_t n, std::align_val_t a) {
    void* p = nullptr;
    const auto align = std::max(static_cast<std::size_t>(a), sizeof(void*));
    if (posix_memalign(&p, align, n ? n : 1) != 0) throw std::bad_alloc();
    return noted(p);
}
inline void give(void* p) noexcept {
    if (!p) return;
    live -= malloc_usable_size(p);
    std::free(p);
}
} // namespace detail

} // namespace resync_bench::heap

// Replacement functions may not be inline; this header is included by one file per binary.
void* operator new(std::size_t n) { return resync_bench::heap::detail::take(n); }
void* operator new[](std::size_t n) { return resync_bench::heap::detail::take(n); }
void* operator new(std::size_t n, std::align_val_t a) { return resync_bench::heap::detail::take_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return resync_bench::heap::detail::take_aligned(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return resync_bench::heap::detail::noted(std::malloc(n ? n : 1));
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return resync_bench::heap::detail::noted(std::malloc(n ? n : 1));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return resync_bench::heap::detail::take_aligned(n, a);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return resync_bench::heap::detail::take_aligned(n, a);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p) noexcept { resync_bench::heap::detail::give(p); }
void operator delete(void* p, std::size_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p, std::size_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete(void* p, std::align_val_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p, std::align_val_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { resync_bench::heap::detail::give(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { resync_bench::heap::detail::give(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { resync_bench::heap::detail::give(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { resync_bench::heap::detail::give(p); }
