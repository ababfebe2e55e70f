// net::TcpTransport and net::TcpServer (include/resync/net/), over real sockets on 127.0.0.1,
// with the in-process reference server behind the TCP server: sessions sync through it; a
// malformed, oversized or wrong-way frame closes that connection only, with its typed error in
// the server's log; a server that is not there is a typed error and a retry, never a reset; a
// dropped connection comes back as a new one, and nothing is lost.
#include <support/client.hpp>
#include <support/tcp.hpp>

#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/wire/codec.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace std::chrono_literals;
using resync::SessionState;
using resync_test::num;
using resync_test::TcpReferenceServer;
using resync_test::TcpReplica;

namespace {

/// Sends raw bytes on a connection of its own and reads until the server closes it (or 5 s).
/// Returns whether the server closed it.
bool closed_after(const std::string& address, const std::string& bytes) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    const auto colon = address.rfind(':');
    s.connect({boost::asio::ip::make_address(address.substr(0, colon)),
               static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))});
    boost::asio::write(s, boost::asio::buffer(bytes));
    // A blocking read in a thread-free test: the socket gets a receive timeout.
    struct timeval tv{5, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    boost::system::error_code ec;
    for (;;) {
        s.read_some(boost::asio::buffer(buf), ec);
        if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) return true;
        if (ec) return false; // timed out: still open
    }
}

bool logged(const std::vector<std::string>& log, const std::string& words) {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(words) != std::string::npos; });
}

} // namespace

TEST_CASE("sessions on separate TCP connections sync through the reference server and converge",
          "[net][tcp]") {
    TcpReferenceServer server;
    TcpReplica<resync::DiscardUnsynced> a(server.address()), b(server.address());
    a.put("items", "a1", "n", num(1));
    b.put("items", "b1", "n", num(2));
    REQUIRE(resync_test::settle(20s, a, b));
    a.put("items", "a1", "n", num(3));
    REQUIRE(resync_test::settle(20s, a, b));

    const auto state = server.with([](auto& s) { return s.state(); });
    CHECK(a.store.state() == state);
    CHECK(b.store.state() == state);
    CHECK(state.object_count() == 2);
    CHECK(a.session.resets_completed() == 0);
    CHECK(b.session.resets_completed() == 0);
    CHECK(a.link.connection_id() == 1);
    CHECK_FALSE(a.link.last_error());
}

TEST_CASE("a malformed, oversized or wrong-way frame closes that connection with its typed error, and no other "
          "client notices", "[net][tcp][bad-input]") {
    TcpReferenceServer server;
    TcpReplica<resync::DiscardUnsynced> good(server.address());
    good.put("items", "k", "n", num(1));
    REQUIRE(resync_test::settle(20s, good));

    // Not a frame at all.
    CHECK(closed_after(server.address(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    // A header announcing a frame far beyond the maximum: refused before any body is read.
    std::string huge = resync::wire::encode<resync::doc::Model>(
        resync::protocol::ClientMessage<resync::doc::Operation>(resync::protocol::Pull{}));
    for (int i = 0; i < 8; ++i) huge[8 + static_cast<std::size_t>(i)] = static_cast<char>(i == 4 ? 0x01 : 0x00); // 2^32 bytes
    CHECK(closed_after(server.address(), huge.substr(0, 20)));
    // A frame whose checksum does not match.
    std::string damaged = resync::wire::encode<resync::doc::Model>(
        resync::protocol::ClientMessage<resync::doc::Operation>(resync::protocol::Hello{}));
    damaged.back() = static_cast<char>(damaged.back() ^ 1);
    CHECK(closed_after(server.address(), damaged));
    // A server's message sent to the server.
    CHECK(closed_after(server.address(), resync::wire::encode<resync::doc::Model>(
                                             resync::protocol::ServerMessage<resync::doc::Operation>(resync::protocol::Welcome{}))));

    const auto log = server.log();
    INFO([&] {
        std::string all;
        for (const auto& l : log) all += l + "\n";
        return all;
    }());
    CHECK(logged(log, resync::make_error_code(resync::errc::wire_corrupt).message()));
    CHECK(logged(log, resync::make_error_code(resync::errc::wire_frame_too_large).message()));
    CHECK(logged(log, resync::make_error_code(resync::errc::wire_unexpected_message).message()));
    CHECK(logged(log, "resync error"));

    // The good client never noticed: same connection, still in sync.
    good.put("items", "k", "n", num(2));
    REQUIRE(resync_test::settle(20s, good));
    CHECK(good.link.connection_id() == 1);
    CHECK(good.store.state() == server.with([](auto& s) { return s.state(); }));
    CHECK(good.session.resets_completed() == 0);
}

TEST_CASE("a server that is not there is a typed error on the transport and a disconnected session that keeps its "
          "changes and never resets; it syncs once the server is up", "[net][tcp][unreachable]") {
    const std::uint16_t port = resync_test::free_port();
    const std::string address = "127.0.0.1:" + std::to_string(port);
    TcpReplica<resync::doc::RecoverAll> a(address);
    a.put("items", "offline", "n", num(1));

    const bool retried = resync_test::until([&] { return a.link.failed_attempts() >= 3; }, [&] { a.step(5ms); }, 10s);
    REQUIRE(retried);
    CHECK_FALSE(a.link.connected());
    CHECK(a.link.last_error() == resync::errc::server_unreachable);
    CHECK(a.link.connection_id() == 0);
    CHECK(a.session.state() == SessionState::disconnected);
    CHECK(a.session.resets_completed() == 0);
    CHECK_FALSE(a.session.last_report().has_value());
    CHECK(a.store.unsynced().size() == 1);

    TcpReferenceServer server({}, port);
    REQUIRE(resync_test::settle(20s, a));
    CHECK(a.link.connected());
    CHECK(a.session.resets_completed() == 0);
    CHECK(server.with([](auto& s) { return s.state(); }).get("items", "offline", "n") == num(1));
}

TEST_CASE("a dropped connection comes back as a new connection, the session says Hello again, and nothing is lost "
          "or applied twice", "[net][tcp][reconnect]") {
    TcpReferenceServer server;
    TcpReplica<resync::doc::RecoverAll> a(server.address());
    for (int round = 0; round < 4; ++round) {
        REQUIRE(resync_test::until([&] { return a.link.connected(); }, [&] { a.step(); }, 10s));
        for (int i = 0; i < 5; ++i) {
            a.put("items", "k" + std::to_string(round * 5 + i), "n", num(i));
            a.step();
        }
        a.link.drop_connection(); // with uploads and their answers in flight
    }
    REQUIRE(resync_test::settle(20s, a));
    CHECK(a.link.connection_id() == 5);
    CHECK(a.link.last_error() == resync::errc::connection_lost);
    const auto state = server.with([](auto& s) { return s.state(); });
    CHECK(state.object_count() == 20);
    CHECK(a.store.state() == state);
    CHECK(server.with([](auto& s) { return s.history().size(); }) == 20); // each change exactly once
    CHECK(a.session.resets_completed() == 0);
}

TEST_CASE("over TCP a session sends no request twice on one connection, however late the server answers",
          "[net][tcp][retry]") {
    // The reference server behind a gate the test holds, counting what it is asked.
    std::mutex gate;
    resync::testing::Server<resync::doc::Model> reference;
    std::size_t uploads = 0, pulls = 0;
    resync::net::TcpServerOptions one_worker;
    one_worker.workers = 1;
    resync_test::ServerThread server(
        [&]() -> resync_test::TcpServer::Handler {
            return [&](resync::server::LinkSession& link, resync_test::TcpServer::ClientMessage m) {
                std::lock_guard lock(gate);
                uploads += std::holds_alternative<resync::protocol::Upload<resync::doc::Operation>>(m) ? 1 : 0;
                pulls += std::holds_alternative<resync::protocol::Pull>(m) ? 1 : 0;
                return reference.handle(link, std::move(m));
            };
        },
        0, one_worker);
    resync::MemoryStore store;
    resync_test::Tcp link(server.address(), TcpReplica<resync::DiscardUnsynced>::quick_reconnects());
    resync::SessionOptions options;
    options.retry_after_polls = 2;         // over a lossy transport: a resend every other poll
    options.pull_every_polls = 1u << 30;   // no idle pulls: every pull counted answers a change
    options.seed = 1;
    resync::SyncSession<resync::MemoryStore, resync_test::Tcp, resync::DiscardUnsynced> session(
        store, link, resync::DiscardUnsynced{}, options);
    const auto step = [&] {
        session.poll();
        link.wait(1ms);
    };
    REQUIRE(resync_test::until([&] { return session.idle(); }, step));
    const auto counted = [&](std::size_t& n) {
        std::lock_guard lock(gate);
        return n;
    };
    const std::size_t pulls_before = counted(pulls);

    REQUIRE(store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", num(1)); }));
    {
        std::lock_guard lock(gate); // the server answers nothing for 200 polls, 100 retry intervals
        for (int i = 0; i < 200; ++i) step();
    }
    REQUIRE(resync_test::until([&] { return session.idle(); }, step));
    CHECK(counted(uploads) == 1);
    CHECK(counted(pulls) - pulls_before == 1); // the one that brings the change back
    CHECK(link.connection_id() == 1);
    std::lock_guard lock(gate);
    CHECK(store.state() == reference.state());
}

} // namespace RESYNC_TEST_FILE
