#pragma once
/// \file
/// `testing::LoopbackTransport`: an in-process link from one session to a `testing::Server`,
/// with per-link faults: offline/online, dropped, duplicated and delayed messages, and lost
/// acknowledgements - scripted ("drop the next 2") or random with a fixed seed.

#include <resync/concepts/model.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/testing/server.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <utility>
#include <variant>

namespace resync::testing {

/// Faults a link applies to the messages it carries. Counters apply to the next N messages;
/// rates apply to every message, drawn from the link's seeded generator.
struct LinkFaults {
    int drop_to_server = 0;        ///< drop the next N client messages
    int drop_to_client = 0;        ///< drop the next N server messages
    int duplicate_to_client = 0;   ///< deliver the next N server messages twice
    int delay_to_client = 0;       ///< hold the next N server messages back: each arrives after the next one, or on the next receive when none follows
    int lose_acks = 0;             ///< the server integrates the next N uploads, but the ack is lost
    double drop_rate = 0;          ///< probability of dropping any message, either way
    double duplicate_rate = 0;     ///< probability of duplicating a server message
    double delay_rate = 0;         ///< probability of holding a server message back
    double disconnect_rate = 0;    ///< probability, per receive, that the connection drops and comes back
};

/// An in-process Transport to a `testing::Server<M>`. Messages reach the server when the session
/// next calls `receive()`, so everything runs on the caller's thread, deterministically.
template <Model M>
class LoopbackTransport {
public:
    using transport_concept = transport_t;
    using model_type = M;
    using operation_type = typename M::operation_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;

    explicit LoopbackTransport(Server<M>& server, std::uint64_t seed = 7) : server_(&server), rng_(seed) {}

    bool connected() const noexcept { return online_; }
    std::uint64_t connection_id() const noexcept { return connection_id_; }

    /// Takes the link down: messages in flight are lost.
    void go_offline() {
        online_ = false;
        to_server_.clear();
        to_client_.clear();
        held_.clear();
    }
    /// Brings the link back as a new connection (the session says Hello again).
    void go_online() {
        if (online_) return;
        online_ = true;
        ++connection_id_;
        link_ = {};
    }

    LinkFaults& faults() noexcept { return faults_; }
    Server<M>& server() noexcept { return *server_; }

    bool send(ClientMessage m) {
        if (!online_) return false;
        if (take(faults_.drop_to_server) || chance(faults_.drop_rate)) return true; // lost on the way
        to_server_.push_back(std::move(m));
        return true;
    }

    std::optional<ServerMessage> receive() {
        if (!online_) return std::nullopt;
        if (chance(faults_.disconnect_rate)) {
            go_offline();
            go_online();
            return std::nullopt;
        }
        while (!to_server_.empty()) {
            ClientMessage m = std::move(to_server_.front());
            to_server_.pop_front();
            const bool upload = std::holds_alternative<protocol::Upload<operation_type>>(m);
            auto replies = server_->handle(link_, std::move(m));
            if (upload && take(faults_.lose_acks)) continue;
            for (auto& r : replies) carry(std::move(r));
        }
        if (to_client_.empty()) {
            if (held_.empty()) return std::nullopt;
            to_client_.push_back(std::move(held_.front()));
            held_.pop_front();
        }
        ServerMessage m = std::move(to_client_.front());
        to_client_.pop_front();
        // A held message is released after a later one has overtaken it.
        if (!held_.empty()) {
            to_client_.push_back(std::move(held_.front()));
            held_.pop_front();
        }
        return m;
    }

private:
    void carry(ServerMessage r) {
        if (take(faults_.drop_to_client) || chance(faults_.drop_rate)) return;
        if (take(faults_.delay_to_client) || chance(faults_.delay_rate)) {
            held_.push_back(std::move(r));
            return;
        }
        if (take(faults_.duplicate_to_client) || chance(faults_.duplicate_rate)) to_client_.push_back(r);
        to_client_.push_back(std::move(r));
    }

    static bool take(int& counter) {
        if (counter <= 0) return false;
        --counter;
        return true;
    }
    bool chance(double p) {
        if (p <= 0) return false;
        return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
    }

    Server<M>* server_;
    std::mt19937_64 rng_;
    LinkSession link_;
    LinkFaults faults_;
    bool online_ = true;
    std::uint64_t connection_id_ = 1;
    std::deque<ClientMessage> to_server_;
    std::deque<ServerMessage> to_client_;
    std::deque<ServerMessage> held_;
};

template <Model M>
LoopbackTransport(Server<M>&, std::uint64_t = 7) -> LoopbackTransport<M>;

} // namespace resync::testing
