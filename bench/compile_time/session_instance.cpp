// Compile-time benchmark, the one file that compiles the session declared in app_session.hpp,
// header-only. `bench/report` times it against deps_only.cpp (target: at most 4 s more).

#include "app_session.hpp"

RESYNC_INSTANTIATE_SESSION(resync::MemoryStore, app::AppLink, resync::doc::RecoverOrDiscard)
