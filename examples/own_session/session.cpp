// The one file that compiles the application's session (declared in session.hpp).
#include "session.hpp"

RESYNC_INSTANTIATE_SESSION(resync::MemoryStore, tasks::Link, resync::doc::RecoverOrDiscard)
