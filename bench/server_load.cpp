// resync_server_load: the reference server on PostgreSQL under load, and a restore under load.
//
//   resync_server_load [--clients 50] [--changesets 1000] [--workers 4] [--json FILE]
//
// Needs a PostgreSQL server named by RESYNC_TEST_PG (tests/pg/start-postgres starts one) and
// makes a database of its own there. The server is server::Engine over postgres::Storage behind
// net::TcpServer, as in resync-sync-server, on 127.0.0.1; every client is a SyncSession<MemoryStore,
// TcpTransport, RecoverAll> on a thread and a socket of its own.
//
// 1. Every client connects and syncs; the database is dumped with pg_dump (the earlier dump).
// 2. Every client writes its changesets (each adds 1 to a shared counter and sets a field of the
//    client's own object), syncing as it goes, until every changeset is acknowledged and then
//    until all converge. Checked: zero resets, and the counter is clients x changesets on the
//    server and on every client. Measured: throughput (changesets acknowledged per second, first
//    write to last acknowledgement), upload latency (local commit to the server's
//    acknowledgement, p50/p99), and the time from the last acknowledgement until every client
//    has downloaded every other client's changesets; and the download entries the server sent
//    against the clients x changesets x clients a client needs (1.0: nothing sent twice).
// 3. The earlier dump is restored with pg_restore into a recreated database. Checked: every
//    client resets exactly once, and with RecoverAll the server heals - the counter is back to
//    clients x changesets everywhere. Measured: the time from the restore until all clients
//    finished their resets, and until all converged.
//
// Exit status: 0 when every check held; 1 when one failed or timed out; 77 without a server.
// Wall-clock figures of a shared machine: run it under `nice` on an otherwise idle one.
#include <pg/support.hpp>
#include <support/tcp.hpp>

#include <resync/doc.hpp>
#include <resync/strategy/recover.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Policy = resync::doc::RecoverAll;
using Replica = resync_test::TcpReplica<Policy>;

struct Options {
    int clients = 50;
    int changesets = 1000;
    int workers = 4;
    std::string json;
    std::chrono::seconds timeout{600};
};

enum class Phase : int { connect, write, restore, stop };

struct Shared {
    std::atomic<int> phase{static_cast<int>(Phase::connect)};
    std::atomic<int> connected{0};
    std::atomic<int> uploaded{0};
    std::atomic<int> converged{0};
    std::atomic<int> healed{0};
    std::atomic<bool> failed{false};
    std::int64_t expected = 0;
    Clock::time_point restored_at;
    std::mutex m;
    std::vector<double> latencies_ms;
    Clock::time_point first_write = Clock::time_point::max();
    Clock::time_point last_ack = Clock::time_point::min();
    Clock::time_point last_reset_done = Clock::time_point::min();
    std::vector<std::string> problems;
};

std::int64_t counter(const resync::MemoryStore& store) {
    const auto* o = store.state().find("counters", "total");
    if (!o) return -1;
    const auto it = o->find("n");
    if (it == o->end()) return -1;
    const auto* i = std::get_if<std::int64_t>(&it->second);
    return i ? *i : -1;
}

/// What the server answered, counted by its handler.
struct Served {
    std::atomic<std::uint64_t> pulls{0};
    std::atomic<std::uint64_t> uploads{0};
    std::atomic<std::uint64_t> entries{0}; ///< download entries sent
};

bool synced(Replica& r) {
    return r.session.state() == resync::SessionState::syncing && !r.store.has_unsynced() &&
           !r.store.sync_state().pending_reset;
}

void client(int index, const std::string& address, const std::string& backups, const Options& o, Shared& sh) {
    resync::SessionOptions so;
    // A client polls every millisecond or two. It asks for news about 4 times a second when idle
    // (50 clients: 200 pulls/s on top of the uploads), and sends a request again only when it
    // has been unanswered for several seconds: a loaded server answers late, and every early
    // resend is one more request in its queue.
    so.retry_after_polls = 4000;
    so.pull_every_polls = 150;
    so.seed = static_cast<std::uint64_t>(index + 1);
    so.backup_directory = backups + "/" + std::to_string(index);
    resync::net::TcpOptions tcp = Replica::quick_reconnects();
    tcp.seed = static_cast<std::uint64_t>(index + 1);
    Replica r(address, Policy{}, so, tcp);
    std::size_t resets = 0;
    Clock::time_point reset_done{};
    r.session.on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport&) {
        ++resets;
        reset_done = Clock::now();
    });
    const std::string own = "client-" + std::to_string(index);
    std::string last_error_detail;
    std::size_t errors = 0;
    r.session.on_error([&](std::error_code, std::string_view detail) {
        ++errors;
        last_error_detail = detail;
    });
    // Where a client stands, when the run fails.
    const auto say = [&](const char* when) {
        std::lock_guard lock(sh.m);
        const auto& report = r.session.last_report();
        std::fprintf(stderr, "%s (%s): state %s, %zu resets, counter %lld, %zu unsynced, pending reset %s, connected %d, %zu errors, last error: %s (%s)%s%s\n",
                     own.c_str(), when, std::string(to_string(r.session.state())).c_str(), resets,
                     static_cast<long long>(counter(r.store)), r.store.unsynced().size(),
                     r.store.sync_state().pending_reset ? "yes" : "no", r.link.connected() ? 1 : 0,
                     errors, r.session.last_error().message().c_str(), last_error_detail.c_str(), report ? "; last report: " : "",
                     report ? resync::to_string(*report).c_str() : "");
    };

    // Phase 1: connected and in step with the server's counter.
    while (!(synced(r) && counter(r.store) == 0)) {
        if (sh.failed) return say("connecting");
        r.step(2ms);
    }
    ++sh.connected;
    while (sh.phase.load() == static_cast<int>(Phase::connect) && !sh.failed) r.step(2ms);

    // Phase 2: write, sync, converge.
    std::vector<Clock::time_point> written(static_cast<std::size_t>(o.changesets) + 1);
    std::vector<double> latencies;
    latencies.reserve(static_cast<std::size_t>(o.changesets));
    resync::ClientVersion first_version = 0, acked_seen = 0;
    const Clock::time_point start = Clock::now();
    Clock::time_point last_ack{};
    int done = 0;
    const auto note_acks = [&] {
        const resync::ClientVersion acked = r.store.sync_state().upload_acked;
        if (first_version == 0) return;
        const auto now = Clock::now();
        for (auto v = std::max(acked_seen + 1, first_version); v <= acked; ++v) {
            const auto i = static_cast<std::size_t>(v - first_version);
            if (i >= written.size() || static_cast<int>(i) >= done) break;
            latencies.push_back(std::chrono::duration<double, std::milli>(now - written[i]).count());
            last_ack = now;
            acked_seen = v;
        }
    };
    for (; done < o.changesets && !sh.failed; ++done) {
        written[static_cast<std::size_t>(done)] = Clock::now();
        auto v = r.store.write([&](resync::doc::Writer& w) {
            w.add("counters", "total", "n", 1);
            w.create("owners", own).set("owners", own, "n", static_cast<std::int64_t>(done));
        });
        if (!v) {
            sh.failed = true;
            std::lock_guard lock(sh.m);
            sh.problems.push_back(own + ": a local write failed: " + v.error().message());
            return;
        }
        if (first_version == 0) first_version = *v;
        r.step(0ms);
        note_acks();
    }
    // Every changeset acknowledged: the upload figures are taken here.
    while (r.store.has_unsynced() || static_cast<int>(latencies.size()) < o.changesets) {
        if (sh.failed) return say("uploading");
        r.step(2ms);
        note_acks();
    }
    {
        std::lock_guard lock(sh.m);
        sh.latencies_ms.insert(sh.latencies_ms.end(), latencies.begin(), latencies.end());
        sh.first_write = std::min(sh.first_write, start);
        sh.last_ack = std::max(sh.last_ack, last_ack);
    }
    ++sh.uploaded;
    // Then in step: every other client's changesets downloaded.
    while (!(synced(r) && counter(r.store) == sh.expected)) {
        if (sh.failed) return say("converging");
        r.step(2ms);
    }
    {
        std::lock_guard lock(sh.m);
        if (resets != 0) sh.problems.push_back(own + ": " + std::to_string(resets) + " resets before the restore");
    }
    ++sh.converged;
    while (sh.phase.load() == static_cast<int>(Phase::write) && !sh.failed) r.step(2ms);

    // Phase 3: the restore. Every client must reset once and end with the whole counter.
    while (!(resets >= 1 && synced(r) && counter(r.store) == sh.expected)) {
        if (sh.failed) return say("after the restore");
        r.step(2ms);
    }
    {
        std::lock_guard lock(sh.m);
        sh.last_reset_done = std::max(sh.last_reset_done, reset_done);
        if (resets != 1) sh.problems.push_back(own + ": " + std::to_string(resets) + " resets after the restore (1 expected)");
    }
    ++sh.healed;
    while (sh.phase.load() != static_cast<int>(Phase::stop)) r.step(2ms);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

bool wait_for(const std::atomic<int>& count, int target, const Shared& sh, Clock::time_point deadline) {
    while (count.load() < target) {
        if (sh.failed || Clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const bool v = i + 1 < argc;
        if (a == "--clients" && v) o.clients = std::atoi(argv[++i]);
        else if (a == "--changesets" && v) o.changesets = std::atoi(argv[++i]);
        else if (a == "--workers" && v) o.workers = std::atoi(argv[++i]);
        else if (a == "--json" && v) o.json = argv[++i];
        else if (a == "--timeout" && v) o.timeout = std::chrono::seconds(std::atoi(argv[++i]));
        else {
            std::cerr << "usage: resync_server_load [--clients N] [--changesets N] [--workers N] [--json FILE] "
                         "[--timeout SECONDS]\n";
            return 2;
        }
    }
    if (o.clients < 1 || o.changesets < 1 || o.workers < 1) return 2;

    resync_pg_test::TestDatabase db; // exits 77 without RESYNC_TEST_PG
    resync_pg_test::TempFolder folder;
    using Storage = resync_pg_test::Storage;
    using Engine = resync_pg_test::Engine;
    const auto storage_options = [&] {
        resync::postgres::StorageOptions so;
        so.conninfo = db.conninfo();
        so.reconnect_initial = 20ms;
        so.reconnect_max = 300ms;
        return so;
    };
    Storage admin(storage_options());
    Engine writer{Storage(storage_options())};
    if (admin.install() || !writer.write({resync::doc::CreateObject{"counters", "total"},
                                          resync::doc::SetField{"counters", "total", "n", std::int64_t{0}}})) {
        std::cerr << "cannot set up the database: " << admin.last_failure().message << "\n";
        return 1;
    }
    Served served;
    resync::net::TcpServerOptions so;
    so.workers = static_cast<std::size_t>(o.workers);
    resync_test::ServerThread server(
        [&]() -> resync_test::TcpServer::Handler {
            auto engine = std::make_shared<Engine>(Storage(storage_options()));
            return [engine, &served](resync::server::LinkSession& link, resync_test::TcpServer::ClientMessage m) {
                if (std::holds_alternative<resync::protocol::Pull>(m)) ++served.pulls;
                else if (std::holds_alternative<resync::protocol::Upload<resync::doc::Operation>>(m)) ++served.uploads;
                auto out = engine->handle(link, std::move(m));
                for (const auto& reply : out)
                    if (const auto* d = std::get_if<resync::protocol::Download<resync::doc::Operation>>(&reply))
                        served.entries += d->entries.size();
                return out;
            };
        },
        0, so);

    Shared sh;
    sh.expected = static_cast<std::int64_t>(o.clients) * o.changesets;
    const auto deadline = Clock::now() + o.timeout;
    std::vector<std::thread> threads;
    for (int i = 0; i < o.clients; ++i)
        threads.emplace_back(client, i, server.address(), folder.path(), std::cref(o), std::ref(sh));

    int status = 0;
    const auto fail = [&](const std::string& why) {
        std::cerr << "FAILED: " << why << "\n";
        sh.failed = true;
        status = 1;
    };
    std::printf("%d clients x %d changesets, %d server workers\n", o.clients, o.changesets, o.workers);
    const std::string dump = folder.path() + "/earlier.pgdump";
    double throughput = 0, p50 = 0, p99 = 0, write_s = 0, converge_s = 0, resets_s = 0, heal_s = 0, resent = 0;
    std::uint64_t pulls = 0, uploads = 0, entries = 0;
    std::size_t acks = 0;
    if (!wait_for(sh.connected, o.clients, sh, deadline)) fail("not every client connected");
    if (!status) {
        db.dump(dump);
        std::printf("all connected; pg_dump taken\n");
        pulls = served.pulls, uploads = served.uploads, entries = served.entries;
        sh.phase = static_cast<int>(Phase::write);
        if (!wait_for(sh.uploaded, o.clients, sh, deadline)) fail("not every changeset was acknowledged");
    }
    if (!status) {
        std::lock_guard lock(sh.m);
        acks = sh.latencies_ms.size();
        write_s = std::chrono::duration<double>(sh.last_ack - sh.first_write).count();
        throughput = static_cast<double>(acks) / write_s;
        p50 = percentile(sh.latencies_ms, 0.50);
        p99 = percentile(sh.latencies_ms, 0.99);
        std::printf("all %zu changesets acknowledged in %.2f s = %.0f changesets/s; upload latency p50 %.1f ms, p99 %.1f ms\n",
                    acks, write_s, throughput, p50, p99);
    }
    Clock::time_point uploads_done = Clock::now();
    if (!status && !wait_for(sh.converged, o.clients, sh, deadline)) fail("the clients did not converge");
    if (!status) {
        converge_s = std::chrono::duration<double>(Clock::now() - uploads_done).count();
        pulls = served.pulls - pulls, uploads = served.uploads - uploads, entries = served.entries - entries;
        // Every client downloads every changeset (its own come back too) once.
        const auto needed = static_cast<double>(o.clients) * static_cast<double>(sh.expected);
        resent = static_cast<double>(entries) / needed;
        std::printf("writing and converging: %llu pulls, %llu uploads answered; %llu download entries sent, %.2fx the "
                    "%.0f needed\n",
                    static_cast<unsigned long long>(pulls), static_cast<unsigned long long>(uploads),
                    static_cast<unsigned long long>(entries), resent, needed);
        std::lock_guard lock(sh.m);
        if (!sh.problems.empty()) fail(sh.problems.front());
    }
    std::optional<std::int64_t> on_server;
    if (!status) {
        auto state = admin.state();
        const auto* obj = state ? state->find("counters", "total") : nullptr;
        if (obj) on_server = std::get<std::int64_t>(obj->at("n"));
        if (on_server != sh.expected)
            fail("the server's counter is " + (on_server ? std::to_string(*on_server) : std::string("missing")) +
                 ", not " + std::to_string(sh.expected));
        if (acks != static_cast<std::size_t>(sh.expected)) fail("acknowledgements seen: " + std::to_string(acks));
    }
    if (!status) {
        std::printf("converged with zero resets, every client holding all %lld changesets, %.2f s after the last "
                    "acknowledgement\n",
                    static_cast<long long>(sh.expected), converge_s);
        db.restore(dump);
        sh.restored_at = Clock::now();
        sh.phase = static_cast<int>(Phase::restore);
        std::printf("earlier dump restored with pg_restore\n");
        if (!wait_for(sh.healed, o.clients, sh, deadline)) fail("the clients did not all reset and heal the server");
        heal_s = std::chrono::duration<double>(Clock::now() - sh.restored_at).count();
    }
    if (!status) {
        std::lock_guard lock(sh.m);
        resets_s = std::chrono::duration<double>(sh.last_reset_done - sh.restored_at).count();
        if (!sh.problems.empty()) fail(sh.problems.front());
    }
    if (!status) {
        auto state = admin.state();
        const auto* obj = state ? state->find("counters", "total") : nullptr;
        on_server = obj ? std::optional<std::int64_t>(std::get<std::int64_t>(obj->at("n"))) : std::nullopt;
        if (on_server != sh.expected)
            fail("after the restore, the server's counter is " +
                 (on_server ? std::to_string(*on_server) : std::string("missing")) + ", not " + std::to_string(sh.expected));
        else
            std::printf("all %d clients reset once; resets finished %.2f s after the restore; converged, server healed "
                        "(counter %lld), %.2f s after it\n",
                        o.clients, resets_s, static_cast<long long>(*on_server), heal_s);
    }
    sh.phase = static_cast<int>(Phase::stop);
    for (auto& t : threads) t.join();
    server.stop();

    if (!o.json.empty() && !status) {
        std::ofstream j(o.json);
        j << "{\"clients\": " << o.clients << ", \"changesets\": " << o.changesets << ", \"workers\": " << o.workers
          << ", \"throughput_changesets_per_s\": " << throughput << ", \"upload_latency_p50_ms\": " << p50
          << ", \"upload_latency_p99_ms\": " << p99 << ", \"write_phase_s\": " << write_s
          << ", \"converged_after_uploads_s\": " << converge_s << ", \"pulls\": " << pulls
          << ", \"uploads\": " << uploads << ", \"download_entries\": " << entries
          << ", \"download_entries_per_needed\": " << resent
          << ", \"all_resets_done_s\": " << resets_s << ", \"healed_s\": " << heal_s << "}\n";
    }
    std::printf(status ? "server load: FAILED\n" : "server load: passed\n");
    return status;
}
