#pragma once
/// \file
/// `net::TcpServer<M>`: serves the sync protocol over TCP with the wire codec (resync/wire/).
/// One `io_context` (the caller's) does all the networking; each accepted connection is one
/// link session (`server::LinkSession`); the requests are handled by a pool of worker threads,
/// each with a handler of its own (for `resync-sync-server`: a `server::Engine` over its own
/// PostgreSQL connection), so a slow database transaction never stalls the network.
///
/// A connection's requests are handled one at a time, in the order they arrived, and answered
/// in that order. A malformed, oversized or unexpected frame closes that connection only, with
/// its typed error in the log; every other connection goes on.

#include <resync/concepts/model.hpp>
#include <resync/error.hpp>
#include <resync/protocol.hpp>
#include <resync/server/storage.hpp>
#include <resync/server_error.hpp>
#include <resync/wire/codec.hpp>
#include <resync/wire/frame_reader.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace resync::net {

/// Tunables of a `TcpServer`.
struct TcpServerOptions {
    /// Worker threads handling requests (each with its own handler).
    std::size_t workers = 2;
    /// The largest frame a client may send (an Upload carries the client's unsynced changes, at
    /// most what its replay policy batches); a larger one closes the connection.
    std::uint64_t max_frame_bytes = std::uint64_t{16} << 20;
    /// Requests a connection may have waiting before the server stops reading from it.
    std::size_t max_pending_requests = 64;
    /// Reply bytes a connection may have unsent (a client that does not read) before it is closed.
    std::uint64_t max_unsent_bytes = std::uint64_t{256} << 20;
    /// Where the server's log lines go (none when empty). Lines name connections by number and
    /// peer address, and errors by their code and words: never a credential.
    std::function<void(std::string_view)> log;
};

/// A sync server on a TCP port, for the model `M`.
///
/// The `io_context` given is run by the caller (`io.run()`); `stop()` and the destructor must be
/// called from the thread that runs it, or after it stopped.
template <Model M>
class TcpServer {
public:
    using operation_type = typename M::operation_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;
    /// Answers one request of one connection (called on a worker thread; never for two requests
    /// of one connection at once).
    using Handler = std::function<std::vector<ServerMessage>(server::LinkSession&, ClientMessage)>;
    /// Makes the handler of one worker thread (called on that thread, when it starts).
    using HandlerFactory = std::function<Handler()>;

    /// Listens on `at` (port 0: a free port, see `local_endpoint()`). When it cannot,
    /// `listen_error()` says why and nothing is served.
    TcpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, HandlerFactory make_handler,
              TcpServerOptions options = {})
        : io_(io), acceptor_(io), options_(std::move(options)), make_handler_(std::move(make_handler)) {
        boost::system::error_code ec;
        acceptor_.open(at.protocol(), ec);
        if (!ec) acceptor_.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(at, ec);
        if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
        if (ec) {
            listen_error_ = std::error_code(ec.value(), std::system_category());
            return;
        }
        const std::size_t n = options_.workers ? options_.workers : 1;
        for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
        accept_next();
    }

    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;
    ~TcpServer() { stop(); }

    /// Why the server could not listen (empty when it listens).
    std::error_code listen_error() const noexcept { return listen_error_; }
    /// The address it listens on.
    boost::asio::ip::tcp::endpoint local_endpoint() const {
        boost::system::error_code ec;
        return acceptor_.local_endpoint(ec);
    }
    /// Connections open now.
    std::size_t connections() const noexcept { return connections_.size(); }
    /// Connections closed for a bad frame (malformed, oversized, of the wrong direction).
    std::size_t refused_connections() const noexcept { return refused_; }

    /// Stops accepting, closes every connection, and joins the workers (each finishes the
    /// request it is handling: a database transaction commits or rolls back whole).
    void stop() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (const auto& c : std::set<std::shared_ptr<Connection>>(connections_)) c->close();
        connections_.clear();
        {
            std::lock_guard lock(jobs_mutex_);
            stopping_ = true;
            jobs_.clear();
        }
        jobs_ready_.notify_all();
        for (auto& w : workers_)
            if (w.joinable()) w.join();
        workers_.clear();
    }

private:
    struct Connection;

    struct Job {
        std::shared_ptr<Connection> connection;
        ClientMessage message;
    };

    /// One accepted connection. Everything but `link` is used on the io_context's thread only;
    /// `link` belongs to the worker handling the connection's request (one at a time).
    struct Connection : std::enable_shared_from_this<Connection> {
        Connection(TcpServer& s, boost::asio::ip::tcp::socket sock, std::uint64_t n)
            : server(s), socket(std::move(sock)), reader(s.options_.max_frame_bytes), number(n) {
            boost::system::error_code ec;
            const auto peer = socket.remote_endpoint(ec);
            name = "connection " + std::to_string(number) +
                   (ec ? std::string() : " (" + peer.address().to_string() + ":" + std::to_string(peer.port()) + ")");
        }

        void start() { read_next(); }

        void read_next() {
            if (closed || reading) return;
            reading = true;
            socket.async_read_some(boost::asio::buffer(buffer),
                                   [self = this->shared_from_this()](const boost::system::error_code& e, std::size_t n) {
                                       self->reading = false;
                                       self->on_read(e, n);
                                   });
        }

        void on_read(const boost::system::error_code& e, std::size_t n) {
            if (closed) return;
            if (e) {
                if (e != boost::asio::error::eof) server.say(name + ": connection lost: " + e.message());
                return close();
            }
            if (auto bad = reader.feed(std::string_view(buffer.data(), n))) return refuse(bad);
            while (auto frame = reader.next()) {
                auto m = wire::decode_client<M>(*frame);
                if (!m) return refuse(m.error());
                pending.push_back(std::move(*m));
            }
            dispatch();
            // A client that sends faster than it is answered is read no further until its
            // requests drain: its backlog is bounded, and other connections keep their share.
            if (pending.size() < server.options_.max_pending_requests) read_next();
        }

        void dispatch() {
            if (closed || busy || pending.empty()) return;
            busy = true;
            ClientMessage m = std::move(pending.front());
            pending.pop_front();
            server.enqueue(Job{this->shared_from_this(), std::move(m)});
        }

        /// A worker answered this connection's request (run on the io_context's thread).
        void answered(std::vector<std::string> frames) {
            busy = false;
            if (closed) return;
            for (auto& f : frames) {
                unsent_bytes += f.size();
                outbox.push_back(std::move(f));
            }
            if (unsent_bytes > server.options_.max_unsent_bytes) {
                server.say(name + ": closed: the client does not read its answers (" + std::to_string(unsent_bytes) +
                           " bytes unsent)");
                return close();
            }
            write_next();
            dispatch();
            if (pending.size() < server.options_.max_pending_requests) read_next();
        }

        void write_next() {
            if (closed || writing || outbox.empty()) return;
            writing = true;
            boost::asio::async_write(socket, boost::asio::buffer(outbox.front()),
                                     [self = this->shared_from_this()](const boost::system::error_code& e, std::size_t) {
                                         self->writing = false;
                                         if (self->closed) return;
                                         if (e) {
                                             self->server.say(self->name + ": connection lost: " + e.message());
                                             return self->close();
                                         }
                                         self->unsent_bytes -= self->outbox.front().size();
                                         self->outbox.pop_front();
                                         self->write_next();
                                     });
        }

        /// A frame that is not a valid client message: the stream cannot be trusted past it.
        void refuse(std::error_code why) {
            ++server.refused_;
            server.say(name + ": closed: " + describe(why));
            close();
        }

        void close() {
            if (closed) return;
            closed = true;
            boost::system::error_code ignored;
            socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
            socket.close(ignored);
            pending.clear();
            outbox.clear();
            server.connections_.erase(this->shared_from_this());
        }

        TcpServer& server;
        boost::asio::ip::tcp::socket socket;
        wire::FrameReader reader;
        std::uint64_t number;
        std::string name;
        std::array<char, 64 * 1024> buffer{};
        std::deque<ClientMessage> pending;
        std::deque<std::string> outbox;
        std::uint64_t unsent_bytes = 0;
        bool reading = false;
        bool writing = false;
        bool busy = false;
        bool closed = false;
        server::LinkSession link;
    };

    /// "resync error 26 (a wire frame announced more bytes ...)": the code and the words.
    static std::string describe(std::error_code ec) {
        return std::string(ec.category().name()) + " error " + std::to_string(ec.value()) + " (" + ec.message() + ")";
    }

    /// Writes a log line; workers log too, so lines are written one at a time.
    void say(const std::string& line) const {
        if (!options_.log) return;
        std::lock_guard lock(log_mutex_);
        options_.log(line);
    }

    void accept_next() {
        acceptor_.async_accept([this](const boost::system::error_code& e, boost::asio::ip::tcp::socket socket) {
            if (e == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
            if (!e) {
                boost::system::error_code ignored;
                socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
                auto c = std::make_shared<Connection>(*this, std::move(socket), ++accepted_);
                connections_.insert(c);
                c->start();
            } else {
                say("accepting a connection failed: " + e.message());
            }
            accept_next();
        });
    }

    void enqueue(Job job) {
        {
            std::lock_guard lock(jobs_mutex_);
            if (stopping_) return;
            jobs_.push_back(std::move(job));
        }
        jobs_ready_.notify_one();
    }

    /// A worker thread: takes requests, answers them with its own handler, hands the encoded
    /// answers back to the io_context.
    void work() {
        Handler handle;
#if defined(__cpp_exceptions)
        try {
            handle = make_handler_();
        } catch (const std::exception& e) {
            say(std::string("a worker could not start: ") + e.what());
        }
#else
        handle = make_handler_();
#endif
        for (;;) {
            Job job;
            {
                std::unique_lock lock(jobs_mutex_);
                jobs_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                if (stopping_) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            std::vector<std::string> frames;
            for (const auto& reply : answer(handle, job)) frames.push_back(wire::encode<M>(reply));
            boost::asio::post(io_, [c = std::move(job.connection), f = std::move(frames)]() mutable {
                c->answered(std::move(f));
            });
        }
    }

    std::vector<ServerMessage> answer(Handler& handle, Job& job) {
        const auto failed = [] {
            return std::vector<ServerMessage>{ServerError{server_code::other_session_error, ServerAction::transient,
                                                          "the server failed to handle the request: send it again"}};
        };
        if (!handle) return failed();
#if defined(__cpp_exceptions)
        try {
            return handle(job.connection->link, std::move(job.message));
        } catch (const std::exception& e) {
            say(job.connection->name + ": the request failed: " + e.what());
            return failed();
        }
#else
        return handle(job.connection->link, std::move(job.message));
#endif
    }

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    TcpServerOptions options_;
    HandlerFactory make_handler_;
    std::error_code listen_error_;
    std::set<std::shared_ptr<Connection>> connections_;
    std::uint64_t accepted_ = 0;
    std::size_t refused_ = 0;

    mutable std::mutex log_mutex_;
    std::mutex jobs_mutex_;
    std::condition_variable jobs_ready_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

} // namespace resync::net
