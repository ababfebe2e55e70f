// The application's session type, declared once for every file that uses it: with
// RESYNC_DECLARE_SESSION, a file that includes this header uses the session without compiling
// it; session.cpp, and only it, compiles it (RESYNC_INSTANTIATE_SESSION).
#pragma once

#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>

namespace tasks {

using Link = resync::testing::LoopbackTransport<resync::doc::Model>;
using Session = resync::SyncSession<resync::MemoryStore, Link, resync::doc::RecoverOrDiscard>;

} // namespace tasks

RESYNC_DECLARE_SESSION(resync::MemoryStore, tasks::Link, resync::doc::RecoverOrDiscard)
