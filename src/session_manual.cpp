// resync::compiled: SyncSession<MemoryStore, net::TcpTransport<doc::Model>, Manual>,
// instantiated once here (declared extern in <resync/compiled.hpp>). One session per file, so
// that a parallel build compiles them side by side.
#include <resync/compiled.hpp>

RESYNC_INSTANTIATE_SESSION(resync::MemoryStore, resync::compiled::Tcp, resync::Manual)
