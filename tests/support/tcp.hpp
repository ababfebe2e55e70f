#pragma once
// Helpers for tests over real TCP connections: the reference server (testing::Server) served by
// net::TcpServer on a thread of its own, a replica whose session talks to a server through a
// net::TcpTransport, and a loop that polls replicas until a condition holds or time runs out.

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/net/tcp_server.hpp>
#include <resync/net/tcp_transport.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace resync_test {

using namespace std::chrono_literals;
using Tcp = resync::net::TcpTransport<resync::doc::Model>;
using TcpServer = resync::net::TcpServer<resync::doc::Model>;

/// A free TCP port on 127.0.0.1 (free when asked: another program may take it after).
inline std::uint16_t free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

/// Runs a TcpServer (with `make_handler`) on a thread of its own until destroyed, and keeps its
/// log lines.
class ServerThread {
public:
    ServerThread(TcpServer::HandlerFactory make_handler, std::uint16_t port = 0, resync::net::TcpServerOptions options = {}) {
        options.log = [this](std::string_view line) {
            std::lock_guard lock(log_mutex_);
            log_.emplace_back(line);
        };
        server_.emplace(io_, boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port},
                        std::move(make_handler), std::move(options));
        if (!server_->listen_error()) port_ = server_->local_endpoint().port();
        thread_ = std::thread([this] { io_.run(); });
    }
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;
    ~ServerThread() { stop(); }

    /// Stops serving: every connection is closed, as when a server process dies.
    void stop() {
        if (!thread_.joinable()) return;
        boost::asio::post(io_, [this] {
            server_->stop();
            io_.stop();
        });
        thread_.join();
        server_.reset();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::vector<std::string> log() const {
        std::lock_guard lock(log_mutex_);
        return log_;
    }

private:
    boost::asio::io_context io_;
    std::optional<TcpServer> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    mutable std::mutex log_mutex_;
    std::vector<std::string> log_;
};

/// The in-process reference server over TCP. Its `testing::Server` is used under a lock, by
/// the server's one worker and by the test (`with`).
class TcpReferenceServer {
public:
    explicit TcpReferenceServer(resync::testing::ServerOptions options = {}, std::uint16_t port = 0)
        : server_(options), thread_(
                                [this]() -> TcpServer::Handler {
                                    return [this](resync::server::LinkSession& link, TcpServer::ClientMessage m) {
                                        std::lock_guard lock(mutex_);
                                        return server_.handle(link, std::move(m));
                                    };
                                },
                                port, one_worker()) {}

    /// Calls `f(testing::Server&)` under the server's lock.
    template <class F>
    decltype(auto) with(F&& f) {
        std::lock_guard lock(mutex_);
        return f(server_);
    }
    std::string address() const { return thread_.address(); }
    std::vector<std::string> log() const { return thread_.log(); }
    void stop() { thread_.stop(); }

private:
    static resync::net::TcpServerOptions one_worker() {
        resync::net::TcpServerOptions o;
        o.workers = 1;
        return o;
    }
    std::mutex mutex_;
    resync::testing::Server<resync::doc::Model> server_;
    ServerThread thread_;
};

/// Session options for sessions over TCP: requests are retried after more polls than over the
/// loopback, since an answer takes real time to come.
inline resync::SessionOptions tcp_session_options(resync::SessionOptions o = {}) {
    o.retry_after_polls = 400;
    o.pull_every_polls = 10;
    if (!o.seed) o.seed = 1;
    return o;
}

/// A replica over TCP: a MemoryStore, a TcpTransport and a session.
template <class Policy>
struct TcpReplica {
    using Session = resync::SyncSession<resync::MemoryStore, Tcp, Policy>;

    resync::MemoryStore store;
    Tcp link;
    Session session;

    explicit TcpReplica(const std::string& address, Policy policy = {}, resync::SessionOptions options = {},
                        resync::net::TcpOptions tcp = quick_reconnects())
        : link(address, tcp), session(store, link, std::move(policy), tcp_session_options(std::move(options))) {}

    static resync::net::TcpOptions quick_reconnects() {
        resync::net::TcpOptions o;
        o.backoff_initial = 20ms;
        o.backoff_max = 500ms;
        o.seed = 3;
        return o;
    }

    /// One poll, then waits up to `wait` for the network.
    void step(std::chrono::milliseconds wait = 2ms) {
        session.poll();
        link.wait(wait);
    }

    resync::ClientVersion put(const std::string& collection, const std::string& key, const std::string& field,
                              resync::doc::Value value) {
        auto v = store.write([&](resync::doc::Writer& w) { w.create(collection, key).set(collection, key, field, value); });
        return v ? *v : 0;
    }
    resync::ClientIdent ident() const { return store.sync_state().client_ident; }
};

/// Polls `step()` until `done()` holds or `timeout` passes; returns whether it held.
inline bool until(const std::function<bool()>& done, const std::function<void()>& step,
                  std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        step();
    }
    return true;
}

/// Polls every replica until all are idle (synced both ways, no reset running) at one server
/// position.
template <class R0, class... R>
bool settle(std::chrono::milliseconds timeout, R0& first, R&... replicas) {
    // A session pulls every few polls even when idle, so `idle()` flickers while a pull is out:
    // settled is "synced, at one cursor" for a run of rounds, in which each was seen idle.
    const auto synced = [](auto& r) {
        return r.session.state() == resync::SessionState::syncing && !r.store.has_unsynced() &&
               !r.store.sync_state().pending_reset;
    };
    int quiet_rounds = 0;
    std::vector<bool> seen_idle(1 + sizeof...(R), false);
    return until(
        [&] {
            [[maybe_unused]] const auto at = first.store.sync_state().download;
            const bool quiet = synced(first) && ((synced(replicas) && replicas.store.sync_state().download == at) && ...);
            if (!quiet) {
                quiet_rounds = 0;
                seen_idle.assign(seen_idle.size(), false);
                return false;
            }
            std::size_t i = 0;
            if (first.session.idle()) seen_idle[0] = true;
            ((++i, replicas.session.idle() ? (void)(seen_idle[i] = true) : (void)0), ...);
            ++quiet_rounds;
            return quiet_rounds >= 30 && std::all_of(seen_idle.begin(), seen_idle.end(), [](bool b) { return b; });
        },
        [&] {
            first.step(1ms);
            (replicas.step(1ms), ...);
        },
        timeout);
}

} // namespace resync_test
