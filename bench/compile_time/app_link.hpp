// Compile-time benchmark: the application's own transport, as an application writes one - the
// session's messages queue in `outbox` for the network code to send, and the network code queues
// what arrives in `inbox`. Shared by the session TUs of this folder.
#pragma once

#include <resync/concepts/transport.hpp>
#include <resync/doc/operation.hpp>
#include <resync/protocol.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace app {

/// The application's own link: the session's messages queue in `outbox` for the network code to
/// send, and the network code queues what arrives in `inbox`.
class AppLink {
public:
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;
    using ClientMessage = resync::protocol::ClientMessage<operation_type>;
    using ServerMessage = resync::protocol::ServerMessage<operation_type>;

    bool connected() const noexcept { return true; }
    std::uint64_t connection_id() const noexcept { return 1; }

    bool send(ClientMessage m) {
        outbox.push_back(std::move(m));
        return true;
    }
    std::optional<ServerMessage> receive() {
        if (inbox.empty()) return std::nullopt;
        ServerMessage m = std::move(inbox.front());
        inbox.pop_front();
        return m;
    }

    std::deque<ClientMessage> outbox;
    std::deque<ServerMessage> inbox;
};

} // namespace app
