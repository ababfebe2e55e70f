#pragma once
/// \file
/// `RESYNC_COLD`: marks a function as rarely run (a reset, an error path) and never inlined, so
/// that the compiler optimises it for size and keeps it out of its callers' hot code.

#if defined(__GNUC__) || defined(__clang__)
#define RESYNC_COLD [[gnu::cold, gnu::noinline]]
#else
#define RESYNC_COLD
#endif
