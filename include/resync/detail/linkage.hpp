#pragma once
/// \file
/// Where resync's non-template functions are compiled. Header-only (the default), each is
/// `inline` and defined in its header. With RESYNC_COMPILED (set by the `resync::compiled`
/// target on its users) the headers only declare them, and the library defines each once, in
/// the one source file that defines RESYNC_COMPILED_SOURCE as well:
///
///     RESYNC_FUNC Result f(Args args)
///     #if RESYNC_HEADER_DEFINITIONS
///     { ... }
///     #else
///     ;
///     #endif

#if defined(RESYNC_COMPILED) && !defined(RESYNC_COMPILED_SOURCE)
#define RESYNC_HEADER_DEFINITIONS 0
#else
#define RESYNC_HEADER_DEFINITIONS 1
#endif

#if defined(RESYNC_COMPILED)
#define RESYNC_FUNC
#else
#define RESYNC_FUNC inline
#endif
