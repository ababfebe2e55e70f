// resync-sync-server: the reference sync server of resync for the document model, with its state
// in PostgreSQL and clients over TCP (the wire format of docs/server.md).
//
//   resync-sync-server --listen 127.0.0.1:7000 --db "host=127.0.0.1 dbname=sync user=sync"
//
// The connection string may leave out anything libpq can take from the environment (PGPASSWORD
// above all: a password on a command line is visible to every user of the machine). Without
// --db, RESYNC_SERVER_DB is used, and without that libpq's defaults (PGHOST, PGDATABASE, ...).
// The server creates its schema (`resync`) if it is missing. SIGTERM or SIGINT stops it
// gracefully: it stops accepting, finishes the requests being handled, and exits 0.

#include <resync/doc/model.hpp>
#include <resync/net/address.hpp>
#include <resync/net/tcp_server.hpp>
#include <resync/postgres/storage.hpp>
#include <resync/server/engine.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Model = resync::doc::Model;
using Storage = resync::postgres::Storage<Model>;
using Engine = resync::server::Engine<Model, Storage>;
using Server = resync::net::TcpServer<Model>;

const char* const usage =
    "usage: resync-sync-server --listen HOST:PORT [--db CONNINFO] [options]\n"
    "\n"
    "  --listen HOST:PORT      address to serve on (port 0: a free port, printed at start)\n"
    "  --db CONNINFO           libpq connection string or URI of the database (default: the\n"
    "                          RESYNC_SERVER_DB environment variable, else libpq's PG* variables);\n"
    "                          give the password in PGPASSWORD or ~/.pgpass, not here\n"
    "  --workers N             threads handling requests, each with its own connection (default 4)\n"
    "  --max-frame-bytes N     largest frame a client may send (default 16777216)\n"
    "  --max-chunk-bytes N     largest piece of a fresh copy per answer (default 65536)\n"
    "  --max-download N        most history entries per download (default 256)\n"
    "  --quiet                 log only errors and the start and stop\n";

/// One log line on stderr with the time, written whole.
void log_line(std::string_view line) {
    static std::mutex m;
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard lock(m);
    std::cerr << stamp << " resync-sync-server: " << line << '\n' << std::flush;
}

bool parse_number(const char* text, std::uint64_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (!text[0] || *end) return false;
    out = v;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::string listen;
    std::string db;
    bool have_db = false;
    bool quiet = false;
    std::uint64_t workers = 4, max_frame = std::uint64_t{16} << 20, max_chunk = 64 * 1024, max_download = 256;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const bool has_value = i + 1 < argc;
        bool ok = true;
        if (a == "--listen" && has_value) listen = argv[++i];
        else if (a == "--db" && has_value) db = argv[++i], have_db = true;
        else if (a == "--workers" && has_value) ok = parse_number(argv[++i], workers) && workers > 0 && workers <= 256;
        else if (a == "--max-frame-bytes" && has_value) ok = parse_number(argv[++i], max_frame) && max_frame >= 64;
        else if (a == "--max-chunk-bytes" && has_value) ok = parse_number(argv[++i], max_chunk) && max_chunk > 0 && max_chunk <= (1u << 30);
        else if (a == "--max-download" && has_value) ok = parse_number(argv[++i], max_download) && max_download > 0 && max_download <= 1000000;
        else if (a == "--quiet") quiet = true;
        else if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else ok = false;
        if (!ok) {
            // Never echo the argument: it may be a connection string with a password in it.
            std::cerr << "resync-sync-server: bad or incomplete option " << (a.rfind("--", 0) == 0 ? std::string(a) : std::string("(value)"))
                      << "\n" << usage;
            return 2;
        }
    }
    if (listen.empty()) {
        std::cerr << usage;
        return 2;
    }
    if (!have_db)
        if (const char* env = std::getenv("RESYNC_SERVER_DB")) db = env;
    auto address = resync::net::parse_address(listen);
    boost::system::error_code ec;
    const auto ip = address ? boost::asio::ip::make_address(address->host, ec) : boost::asio::ip::address{};
    if (!address || ec) {
        std::cerr << "resync-sync-server: --listen wants an IP address and a port, such as 127.0.0.1:7000\n";
        return 2;
    }

    // Every message of the storages and the server goes through one lock-guarded writer.
    const auto log = [quiet](std::string_view line) {
        if (!quiet || line.find("closed:") != std::string_view::npos || line.find("database") != std::string_view::npos)
            log_line(line);
    };

    // Checked once before serving: a wrong connection string is reported at once (the server
    // still starts, and answers "retry" until the database is there).
    {
        Storage probe(resync::postgres::StorageOptions{db, {}, {}, 0, log});
        if (auto e = probe.install())
            log_line("the database is not reachable yet (" + probe.last_failure().message +
                     "); serving anyway, requests are answered 'retry' until it is");
    }

    boost::asio::io_context io;
    resync::net::TcpServerOptions options;
    options.workers = static_cast<std::size_t>(workers);
    options.max_frame_bytes = max_frame;
    options.log = log;
    const resync::server::EngineOptions engine_options{static_cast<std::uint32_t>(max_download),
                                                       static_cast<std::uint32_t>(max_chunk)};
    Server server(
        io, boost::asio::ip::tcp::endpoint(ip, address->port),
        [db, log, engine_options]() -> Server::Handler {
            auto engine = std::make_shared<Engine>(Storage(resync::postgres::StorageOptions{db, {}, {}, 0, log}), engine_options);
            return [engine](resync::server::LinkSession& link, Server::ClientMessage m) {
                return engine->handle(link, std::move(m));
            };
        },
        options);
    if (auto e = server.listen_error()) {
        log_line("cannot listen on " + listen + ": " + e.message());
        return 1;
    }
    const auto at = server.local_endpoint();
    log_line("listening on " + at.address().to_string() + ":" + std::to_string(at.port()) + " with " +
             std::to_string(workers) + " workers");

    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& e, int signal) {
        if (e) return;
        log_line(std::string("stopping on ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT"));
        server.stop();
        io.stop();
    });
    io.run();
    log_line("stopped");
    return 0;
}
