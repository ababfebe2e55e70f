// Compile-time benchmark: the application's session declared once, as a header of its own does
// it (the README's two-line pattern): every file that includes this uses the session without
// compiling it; session_instance.cpp compiles it.
#pragma once

#include "app_link.hpp"

#include <resync/doc.hpp>
#include <resync/resync.hpp>

namespace app {

using Session = resync::SyncSession<resync::MemoryStore, AppLink, resync::doc::RecoverOrDiscard>;

} // namespace app

RESYNC_DECLARE_SESSION(resync::MemoryStore, app::AppLink, resync::doc::RecoverOrDiscard)
