#pragma once
/// \file
/// The shipped sessions that `resync::compiled` holds compiled: every shipped strategy over
/// `MemoryStore` and the TCP transport (`net::TcpTransport<doc::Model>`). With RESYNC_COMPILED
/// (the target sets it on its users) they are declared `extern template` here, so a translation
/// unit that uses one compiles none of it; header-only (the default), this header declares
/// nothing and each translation unit instantiates what it uses, as before.
///
/// For a session over your own store or transport, declare and instantiate it yourself with
/// RESYNC_DECLARE_SESSION and RESYNC_INSTANTIATE_SESSION (<resync/sync_session.hpp>).

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/net/tcp_transport.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>

namespace resync::compiled {

/// The transport of the compiled sessions.
using Tcp = net::TcpTransport<doc::Model>;

} // namespace resync::compiled

/// Applies `X(Store, Transport, ResetPolicy)` to each session `resync::compiled` holds.
#define RESYNC_COMPILED_SESSIONS(X)                                                                   \
    X(resync::MemoryStore, resync::compiled::Tcp, resync::DiscardUnsynced)                            \
    X(resync::MemoryStore, resync::compiled::Tcp, resync::Manual)                                     \
    X(resync::MemoryStore, resync::compiled::Tcp, resync::doc::Recover)                               \
    X(resync::MemoryStore, resync::compiled::Tcp, resync::doc::RecoverOrDiscard)                      \
    X(resync::MemoryStore, resync::compiled::Tcp, resync::doc::RecoverAll)

#if defined(RESYNC_COMPILED) && !defined(RESYNC_COMPILED_SOURCE)
RESYNC_COMPILED_SESSIONS(RESYNC_DECLARE_SESSION)
#endif
