#pragma once
/// \file
/// The `Transport` concept: the link between a session and its server.
/// Contract in prose: docs/concepts.md#transport.

#include <resync/protocol.hpp>

#include <concepts>
#include <cstdint>
#include <optional>

namespace resync {

/// Opt-in tag: a Transport declares `using transport_concept = resync::transport_t;`.
struct transport_t {};

namespace transport_requirements {

template <class T>
concept declares_transport = requires { typename T::transport_concept; } &&
                             std::same_as<typename T::transport_concept, transport_t>;

template <class T>
concept names_its_operation = requires { typename T::operation_type; };

template <class T>
concept sends = requires(T& t, protocol::ClientMessage<typename T::operation_type> m) {
    { t.send(std::move(m)) } -> std::same_as<bool>;
};

template <class T>
concept receives = requires(T& t) {
    { t.receive() } -> std::same_as<std::optional<protocol::ServerMessage<typename T::operation_type>>>;
};

template <class T>
concept reports_connection = requires(const T& t) {
    { t.connected() } -> std::same_as<bool>;
    { t.connection_id() } -> std::same_as<std::uint64_t>;
};

} // namespace transport_requirements

/// A link to the server. `send` never blocks (false: not connected, the message is dropped);
/// `receive` never blocks (nullopt: nothing has arrived). `connection_id()` changes whenever a
/// new connection is established, so the session knows to say Hello again.
template <class T>
concept Transport = transport_requirements::declares_transport<T> &&
                    transport_requirements::names_its_operation<T> && transport_requirements::sends<T> &&
                    transport_requirements::receives<T> && transport_requirements::reports_connection<T>;

} // namespace resync
