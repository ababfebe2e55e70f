// resync-sync-client: a client of resync-sync-server for trying the server out and for the tests
// that run clients as separate processes. It keeps a document-model replica in memory, syncs it
// over TCP with a reset strategy chosen on the command line, and takes commands on stdin, one a
// line; it answers on stdout, where it also reports events (connections, resets, progress).
//
//   resync-sync-client --server 127.0.0.1:7000 --strategy recover-all
//   put tasks t1 title write the report
//   sync 10
//   status
//
// Commands:
//   put COLLECTION KEY FIELD TEXT   set a string field (creating the object), one local transaction
//   write N PREFIX                  N transactions, each creating items/PREFIX-i with n = i
//   int COLLECTION KEY FIELD N      set an integer field (creating the object), one transaction
//   add COLLECTION KEY FIELD D [TIMES [PAUSE_MS]]
//                                   TIMES transactions (default 1), each adding D to the integer
//                                   field, syncing meanwhile and waiting PAUSE_MS between them
//   get COLLECTION KEY FIELD        the field's value as the replica holds it
//   offline / online                stop / resume syncing (local writes go on; nothing is sent)
//   sync [SECONDS]                  sync until in step with the server (default 30 s)
//   status                          where the session stands
//   digest                          object count and a hash of the whole state
//   has COLLECTION KEY              whether the replica holds that object
//   drop                            break the connection (it comes back after the backoff)
//   quit
//
// Every answer is one line starting with the command's name. Event lines start with "event".

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/net/tcp_transport.hpp>
#include <resync/resync.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/strategy/recover.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Link = resync::net::TcpTransport<resync::doc::Model>;

const char* const usage =
    "usage: resync-sync-client --server HOST:PORT [--strategy NAME] [--backup-dir DIR] [--seed N]\n"
    "  --strategy recover-all (default) | recover-or-discard | recover | discard-unsynced | manual\n"
    "  --backup-dir DIR   where backup files go (needed by recover and manual)\n"
    "  --chunk-bytes N    bytes asked for per fresh-copy piece (default 65536)\n"
    "then commands on stdin: put, write, sync, status, digest, has, drop, quit (see the source)\n";

/// FNV-1a over the state in a canonical order (collections, keys and fields sorted), so two
/// replicas holding the same data print the same hash.
std::uint64_t digest(const resync::doc::State& s) {
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](std::string_view bytes) {
        for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
        h = (h ^ 0xFF) * 1099511628211ULL;
    };
    for (const auto& [name, collection] : s.collections) {
        if (collection.empty()) continue;
        mix(name);
        std::vector<const std::string*> keys;
        for (const auto& [key, object] : collection) keys.push_back(&key);
        std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
        for (const auto* key : keys) {
            mix(*key);
            for (const auto& [field, value] : collection.at(*key)) {
                std::string bytes;
                resync::ByteWriter w(bytes);
                resync::doc::encode(w, value);
                mix(field);
                mix(bytes);
            }
        }
    }
    return h;
}

struct Options {
    std::string server;
    std::string strategy = "recover-all";
    std::string backup_dir;
    std::uint64_t seed = 0;
    std::uint32_t chunk_bytes = 64 * 1024;
};

template <class Policy>
int run(const Options& o, Policy policy) {
    resync::MemoryStore store;
    resync::net::TcpOptions tcp;
    tcp.backoff_initial = 50ms;
    tcp.backoff_max = 2000ms;
    tcp.seed = o.seed;
    Link link(o.server, tcp);
    resync::SessionOptions so;
    // Requests are retried after this many polls without an answer; a poll waits up to 2 ms for
    // the network, so this is about a second when nothing comes.
    so.retry_after_polls = 500;
    so.pull_every_polls = 25;
    so.fresh_chunk_bytes = o.chunk_bytes;
    so.backup_directory = o.backup_dir;
    so.seed = o.seed;
    resync::SyncSession<resync::MemoryStore, Link, Policy> session(store, link, std::move(policy), so);

    std::size_t resets = 0;
    session.on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport& r) {
        ++resets;
        std::cout << "event reset reason=" << to_string(r.trigger.reason) << " used=" << to_string(r.mode_used)
                  << " recovered=" << r.count(resync::OperationFate::recovered)
                  << " discarded=" << r.count(resync::OperationFate::discarded) << " unsynced=" << r.unsynced_operations
                  << " lost_acknowledged=" << r.lost_acknowledged << std::endl;
    });
    session.on_reset_request([&](const resync::ResetRequest& r) {
        std::cout << "event reset-request reason=" << resync::to_string(r.trigger.reason) << " backup=" << r.backup_path << std::endl;
    });
    std::uint64_t last_progress = 0;
    session.on_progress([&](const resync::Progress& p) {
        if (p.step != resync::ProgressStep::download) return;
        // The first piece, then every quarter: enough for a test to act in the middle of a copy.
        const std::uint64_t quarter = p.total / 4 ? p.total / 4 : 1;
        if (p.done < last_progress || p.done / quarter != last_progress / quarter || last_progress == 0)
            std::cout << "event progress done=" << p.done << " total=" << p.total << std::endl;
        last_progress = p.done;
    });
    std::string last_error_words;
    session.on_error([&](std::error_code ec, std::string_view detail) {
        std::string words = ec.message() + ": " + std::string(detail);
        if (words == last_error_words) return;
        last_error_words = words;
        std::cout << "event error code=" << ec.value() << " " << words << std::endl;
    });

    bool was_connected = false;
    bool offline = false;
    std::error_code reported;
    const auto step = [&](std::chrono::milliseconds wait) {
        if (offline) {
            if (wait.count() > 0) ::poll(nullptr, 0, static_cast<int>(wait.count()));
            return;
        }
        session.poll();
        if (link.connected() != was_connected) {
            was_connected = link.connected();
            if (was_connected) std::cout << "event connected id=" << link.connection_id() << std::endl;
            else std::cout << "event disconnected error=" << link.last_error().message() << std::endl;
        } else if (!was_connected && link.last_error() && link.last_error() != reported) {
            std::cout << "event unreachable error=" << link.last_error().message() << std::endl;
        }
        reported = link.last_error();
        link.wait(wait);
    };
    const auto synced = [&] {
        return session.state() == resync::SessionState::syncing && !store.has_unsynced() &&
               !store.sync_state().pending_reset;
    };
    const auto status = [&] {
        std::ostringstream s;
        s << "state=" << to_string(session.state()) << " resets=" << resets << " unsynced=" << store.unsynced().size()
          << " objects=" << store.state().object_count() << " ident=" << store.sync_state().client_ident
          << " cursor=" << store.sync_state().download.version << " connected=" << link.connected()
          << " connection=" << link.connection_id();
        return s.str();
    };

    std::cout << "ready" << std::endl;
    std::string pending_input;
    for (;;) {
        step(2ms);
        pollfd in{0, POLLIN, 0};
        if (::poll(&in, 1, 0) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(0, buf, sizeof buf);
        if (n <= 0) return 0; // stdin closed: the test or the user is gone
        pending_input.append(buf, static_cast<std::size_t>(n));
        std::size_t eol;
        while ((eol = pending_input.find('\n')) != std::string::npos) {
            const std::string line = pending_input.substr(0, eol);
            pending_input.erase(0, eol + 1);
            std::istringstream words(line);
            std::string cmd;
            words >> cmd;
            if (cmd == "put") {
                std::string c, k, f, text;
                words >> c >> k >> f;
                std::getline(words >> std::ws, text);
                auto v = store.write([&](resync::doc::Writer& w) { w.create(c, k).set(c, k, f, text); });
                std::cout << "put " << (v ? "ok" : v.error().message()) << std::endl;
            } else if (cmd == "write") {
                std::size_t count = 0;
                std::string prefix;
                words >> count >> prefix;
                std::size_t written = 0;
                for (std::size_t i = 0; i < count; ++i) {
                    const std::string key = prefix + "-" + std::to_string(i);
                    auto v = store.write([&](resync::doc::Writer& w) {
                        w.create("items", key).set("items", key, "n", static_cast<std::int64_t>(i));
                    });
                    written += v.has_value();
                    step(0ms); // syncing goes on while writing
                }
                std::cout << "write " << written << std::endl;
            } else if (cmd == "int") {
                std::string c, k, f;
                std::int64_t value = 0;
                words >> c >> k >> f >> value;
                auto v = store.write([&](resync::doc::Writer& w) { w.create(c, k).set(c, k, f, value); });
                std::cout << "int " << (v ? "ok" : v.error().message()) << std::endl;
            } else if (cmd == "add") {
                std::string c, k, f;
                std::int64_t delta = 0;
                std::size_t times = 1;
                std::int64_t pause_ms = 0;
                words >> c >> k >> f >> delta;
                if (!(words >> times)) times = 1;
                if (!(words >> pause_ms)) pause_ms = 0;
                std::size_t done = 0;
                for (std::size_t i = 0; i < times; ++i) {
                    auto v = store.write([&](resync::doc::Writer& w) { w.add(c, k, f, delta); });
                    done += v.has_value();
                    step(std::chrono::milliseconds(pause_ms)); // syncing goes on while writing
                }
                std::cout << "add " << done << std::endl;
            } else if (cmd == "get") {
                std::string c, k, f;
                words >> c >> k >> f;
                const resync::doc::Value* value = nullptr;
                if (const resync::doc::Object* o = store.state().find(c, k))
                    if (const auto it = o->find(f); it != o->end()) value = &it->second;
                if (!value) std::cout << "get none" << std::endl;
                else if (const auto* i = std::get_if<std::int64_t>(value)) std::cout << "get " << *i << std::endl;
                else std::cout << "get (not an integer)" << std::endl;
            } else if (cmd == "offline") {
                offline = true;
                std::cout << "offline ok" << std::endl;
            } else if (cmd == "online") {
                offline = false;
                std::cout << "online ok" << std::endl;
            } else if (cmd == "sync") {
                double seconds = 30;
                words >> seconds;
                const auto deadline = std::chrono::steady_clock::now() +
                                      std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
                int quiet = 0;
                bool seen_idle = false;
                while (std::chrono::steady_clock::now() < deadline && !(quiet >= 50 && seen_idle)) {
                    step(2ms);
                    if (synced()) {
                        ++quiet;
                        seen_idle = seen_idle || session.idle();
                    } else {
                        quiet = 0;
                        seen_idle = false;
                    }
                }
                std::cout << "sync " << (quiet >= 50 && seen_idle ? "ok " : "timeout ") << status() << std::endl;
            } else if (cmd == "status") {
                std::cout << "status " << status() << std::endl;
            } else if (cmd == "digest") {
                std::cout << "digest objects=" << store.state().object_count() << " hash=" << digest(store.state())
                          << std::endl;
            } else if (cmd == "has") {
                std::string c, k;
                words >> c >> k;
                std::cout << "has " << (store.state().find(c, k) ? "yes" : "no") << std::endl;
            } else if (cmd == "drop") {
                link.drop_connection();
                std::cout << "drop ok" << std::endl;
            } else if (cmd == "quit") {
                std::cout << "quit " << status() << std::endl;
                return 0;
            } else if (!cmd.empty()) {
                std::cout << "unknown command " << cmd << std::endl;
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const bool v = i + 1 < argc;
        if (a == "--server" && v) o.server = argv[++i];
        else if (a == "--strategy" && v) o.strategy = argv[++i];
        else if (a == "--backup-dir" && v) o.backup_dir = argv[++i];
        else if (a == "--seed" && v) o.seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--chunk-bytes" && v) o.chunk_bytes = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        else {
            std::cerr << usage;
            return 2;
        }
    }
    if (o.server.empty() || o.chunk_bytes == 0) {
        std::cerr << usage;
        return 2;
    }
    if (o.strategy == "recover-all") return run(o, resync::doc::RecoverAll{});
    if (o.strategy == "recover-or-discard") return run(o, resync::doc::RecoverOrDiscard{});
    if (o.strategy == "discard-unsynced") return run(o, resync::DiscardUnsynced{});
    if (o.strategy == "recover") return run(o, resync::doc::Recover{});
    if (o.strategy == "manual") return run(o, resync::Manual{resync::backup::File{o.backup_dir}});
    std::cerr << usage;
    return 2;
}
