#pragma once
/// \file
/// `net::TcpTransport<M>`: a `resync::Transport` over TCP, speaking the wire codec
/// (resync/wire/) to a server such as `resync-sync-server`. Built on Boost.Asio (header-only)
/// with an `io_context` of its own that runs only inside the transport's calls: no thread of its
/// own, nothing blocks. It connects, and after any failure reconnects, with exponential backoff.
///
/// How the session learns that the server is unreachable: `connected()` stays false (the session
/// is *disconnected*, which never resets anything: local writes go on and sync resumes on the
/// next connection), and `last_error()` says why, as a typed error - `errc::server_unreachable`
/// (could not connect), `errc::connection_lost` (the connection broke), or a `wire_*` error (the
/// server sent bytes that are not a valid frame; the connection was closed). Every new
/// connection gets a new `connection_id()`, so the session says Hello again.

#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/model.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/error.hpp>
#include <resync/net/address.hpp>
#include <resync/protocol.hpp>
#include <resync/result.hpp>
#include <resync/wire/codec.hpp>
#include <resync/wire/format.hpp>
#include <resync/wire/frame_reader.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace resync::net {

/// Tunables of a `TcpTransport`.
struct TcpOptions {
    /// A connection attempt that has not succeeded by then counts as failed.
    std::chrono::milliseconds connect_timeout{5000};
    /// The wait before the first reconnection; doubled after each failure up to `backoff_max`,
    /// and jittered to between half and all of it, so clients that lost one server do not all
    /// come back at the same instant.
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{10000};
    /// The largest frame accepted from the server (a fresh-copy chunk is at most what the
    /// session asks for, 64 KiB by default, plus its header).
    std::uint64_t max_frame_bytes = wire::default_max_frame_bytes;
    /// Seeds the backoff's jitter (0: a random seed).
    std::uint64_t seed = 0;
};

/// A Transport to a sync server at "host:port", for the model `M`.
///
/// `send` never blocks: it encodes the message and queues it (false when not connected: the
/// message is dropped, as the Transport contract says; the session sends it again). `receive`
/// never blocks: it runs whatever network work is ready (`io_context::poll`) and returns the
/// next whole message, if one has arrived. Use from one thread at a time.
template <Model M>
class TcpTransport {
public:
    using transport_concept = transport_t;
    /// The server answers every request of a connection on it, in order (net::TcpServer runs one
    /// request of a connection at a time), or the connection breaks: no request is sent twice.
    using transport_capabilities = capabilities<cap::answers_every_request>;
    using model_type = M;
    using operation_type = typename M::operation_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;

    /// A transport to `address` ("127.0.0.1:7000", "[::1]:7000", or a host name, which is
    /// resolved once, here, and is the only thing that may block). It starts connecting at once;
    /// the connection makes progress in `receive()` and `wait()`.
    explicit TcpTransport(std::string_view address, TcpOptions options = {})
        : options_(options), socket_(io_), timer_(io_),
          rng_(options.seed ? options.seed : std::random_device{}()), reader_(options.max_frame_bytes) {
        auto parsed = parse_address(address);
        if (!parsed) {
            last_error_ = parsed.error();
            return;
        }
        boost::system::error_code ec;
        const auto ip = boost::asio::ip::make_address(parsed->host, ec);
        if (!ec) {
            endpoint_ = {ip, parsed->port};
        } else {
            boost::asio::ip::tcp::resolver resolver(io_);
            auto found = resolver.resolve(parsed->host, std::to_string(parsed->port), ec);
            if (ec || found.empty()) {
                last_error_ = errc::server_unreachable;
                return;
            }
            endpoint_ = found.begin()->endpoint();
        }
        valid_ = true;
        connect();
    }

    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;
    ~TcpTransport() { close(); }

    /// Whether a connection to the server is up.
    bool connected() const noexcept { return state_ == State::connected; }
    /// Changes with every new connection (the first is 1), so the session says Hello again.
    std::uint64_t connection_id() const noexcept { return connection_id_; }
    /// Why the transport is, or was last, without a connection: `errc::server_unreachable`,
    /// `errc::connection_lost`, `errc::invalid_argument` (an address that does not parse), or
    /// the `wire_*` error of a bad frame from the server. Empty while none happened.
    std::error_code last_error() const noexcept { return last_error_; }
    /// Connection attempts that failed since the last success (the backoff grows with them).
    std::uint32_t failed_attempts() const noexcept { return failures_; }
    /// The server's address, as resolved.
    const boost::asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }

    /// Queues `m` for the server; false (and `m` is dropped) when not connected.
    bool send(ClientMessage m) {
        if (!connected()) return false;
        outbox_.push_back(wire::encode<M>(m));
        if (!writing_) write_next();
        return true;
    }

    /// The next message from the server, if one has arrived; never blocks.
    std::optional<ServerMessage> receive() {
        run([&] { return io_.poll(); });
        if (inbox_.empty()) return std::nullopt;
        ServerMessage m = std::move(inbox_.front());
        inbox_.pop_front();
        return m;
    }

    /// Blocks up to `timeout` until a message has arrived or the connection came up or went
    /// down; returns at once when a message is waiting. For command-line tools and tests that
    /// poll a session in a loop of their own; a game loop polls `receive()` instead.
    void wait(std::chrono::milliseconds timeout) {
        if (!inbox_.empty()) return;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const State was = state_;
        const std::uint64_t id = connection_id_;
        while (inbox_.empty() && state_ == was && connection_id_ == id) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return;
            if (run([&] { return io_.run_one_for(deadline - now); }) == 0 && io_.stopped()) return;
        }
    }

    /// Breaks the connection now, as a network failure would; the transport reconnects after
    /// its backoff. For tests.
    void drop_connection() {
        if (state_ == State::connected || state_ == State::connecting) fail(errc::connection_lost);
    }

private:
    enum class State : std::uint8_t { waiting, connecting, connected };

    /// Runs `f` on the io_context, which stops whenever it runs out of work.
    template <class F>
    std::size_t run(F&& f) {
        if (io_.stopped()) io_.restart();
        return f();
    }

    void connect() {
        if (!valid_) return;
        state_ = State::connecting;
        boost::system::error_code ec;
        socket_.close(ec);
        reader_ = wire::FrameReader(options_.max_frame_bytes);
        const std::uint64_t attempt = ++attempt_;
        timer_.expires_after(options_.connect_timeout);
        timer_.async_wait([this, attempt](const boost::system::error_code& e) {
            if (!e && attempt == attempt_ && state_ == State::connecting) fail(errc::server_unreachable);
        });
        socket_.async_connect(endpoint_, [this, attempt](const boost::system::error_code& e) {
            if (attempt != attempt_ || state_ != State::connecting) return;
            if (e) return fail(errc::server_unreachable);
            boost::system::error_code ignored;
            timer_.cancel(ignored);
            // Requests are small and answered one by one: do not hold them back for Nagle.
            socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
            state_ = State::connected;
            failures_ = 0;
            ++connection_id_;
            read_next();
        });
    }

    void read_next() {
        const std::uint64_t attempt = attempt_;
        socket_.async_read_some(boost::asio::buffer(buffer_),
                                [this, attempt](const boost::system::error_code& e, std::size_t n) {
                                    if (attempt != attempt_ || state_ != State::connected) return;
                                    if (e) return fail(errc::connection_lost);
                                    if (auto bad = reader_.feed(std::string_view(buffer_.data(), n))) return fail(bad);
                                    while (auto frame = reader_.next()) {
                                        auto m = wire::decode_server<M>(*frame);
                                        if (!m) return fail(m.error());
                                        inbox_.push_back(std::move(*m));
                                    }
                                    read_next();
                                });
    }

    void write_next() {
        if (outbox_.empty() || state_ != State::connected) {
            writing_ = false;
            return;
        }
        writing_ = true;
        const std::uint64_t attempt = attempt_;
        boost::asio::async_write(socket_, boost::asio::buffer(outbox_.front()),
                                 [this, attempt](const boost::system::error_code& e, std::size_t) {
                                     if (attempt != attempt_) return;
                                     if (e) {
                                         writing_ = false;
                                         return fail(errc::connection_lost);
                                     }
                                     outbox_.pop_front();
                                     write_next();
                                 });
    }

    /// Closes the connection, forgets what was in flight (a new connection starts with a new
    /// Hello, and answers meant for the old one must not reach it), and waits to reconnect.
    void fail(std::error_code why) {
        last_error_ = why;
        close();
        ++failures_;
        state_ = State::waiting;
        const auto attempt = ++attempt_;
        timer_.expires_after(backoff());
        timer_.async_wait([this, attempt](const boost::system::error_code& e) {
            if (!e && attempt == attempt_) connect();
        });
    }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
        timer_.cancel(ignored);
        inbox_.clear();
        outbox_.clear();
        writing_ = false;
    }

    std::chrono::milliseconds backoff() {
        const auto doublings = std::min<std::uint32_t>(failures_ > 0 ? failures_ - 1 : 0, 20);
        const auto full = std::min<std::int64_t>(options_.backoff_initial.count() << doublings, options_.backoff_max.count());
        const double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
        return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(full) * jitter));
    }

    TcpOptions options_;
    // The io_context is declared first so that it outlives the socket and the timer.
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::mt19937_64 rng_;
    wire::FrameReader reader_;
    std::array<char, 64 * 1024> buffer_{};
    std::deque<ServerMessage> inbox_;
    std::deque<std::string> outbox_;
    State state_ = State::waiting;
    bool valid_ = false;
    bool writing_ = false;
    std::uint64_t connection_id_ = 0;
    std::uint64_t attempt_ = 0; ///< tags callbacks, so those of an abandoned connection do nothing
    std::uint32_t failures_ = 0;
    std::error_code last_error_;
};

} // namespace resync::net
