// Real crashes: a child process runs a large reset (10^5 objects) on a SqliteStore and is killed
// with SIGKILL at a random moment; then a new session on the reopened file must either finish the
// reset or find the old state with its pending-reset record - and every unsynced operation must
// end on the server exactly once (counters that count every application), none lost, none twice.
//
// The reset's fetch runs once, in this process, before the runs: every run starts from a copy of
// that file, with the whole fresh copy staged and the pending-reset record saying so, so what a
// run kills is the part that works on the database - decoding 10^5 objects into the staged
// tables in slices, recovering, and the one commit. Each check runs in a forked process of its
// own, against its own copy of the in-process server, so the runs never see each other's uploads.
// Built with optimisation (tests/CMakeLists.txt), so 50 runs (25 per policy) take a minute or two.

#include <support/temp_dir.hpp>

#include <resync/discard/diff.hpp>
#include <resync/discard/replace.hpp>
#include <resync/doc.hpp>
#include <resync/execute.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/sqlite.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using resync::SessionState;
using resync::SqliteStore;
using Server = resync::testing::Server<resync::doc::Model>;
using Link = resync::testing::LoopbackTransport<resync::doc::Model>;
using Rules = resync::recover::Rebase<resync::recover::DocumentRules>;
using ReplacePolicy = resync::Strategy<Rules, resync::fallback::Discard, resync::discard::Replace>;
using DiffPolicy = resync::Strategy<Rules, resync::fallback::Discard, resync::discard::Diff>;

constexpr std::size_t objects = 100000;
constexpr int counters = 10;
constexpr int local_changesets = 20;
constexpr int runs = 50;
constexpr std::uint64_t seed = 20261128;
constexpr resync::Budget budget{16, 4096};

std::string key(std::size_t i) { return "o" + std::to_string(i); }

/// Opens without the quick check (the checks run `PRAGMA integrity_check` themselves).
SqliteStore open_store(const fs::path& file) {
    resync::SqliteOptions o;
    o.check_integrity = false;
    auto s = SqliteStore::open(file.string(), o);
    if (!s) {
        std::fprintf(stderr, "opening %s: %s\n", file.c_str(), s.error().message().c_str());
        std::_Exit(3);
    }
    return std::move(*s);
}

/// The server, the file with the reset staged, and what every run must end with.
struct World {
    resync_test::TempDir dir;
    Server server;
    fs::path prepared = dir / "prepared.db";
    resync::doc::State expected;                                         ///< the server's state once the local changes are in
    std::vector<resync::LocalChangeset<resync::doc::Operation>> unsynced; ///< the local changes, as written

    World() {
        std::vector<resync::doc::Operation> ops;
        ops.reserve(2 * objects + 2 * counters);
        for (std::size_t i = 0; i < objects; ++i) {
            ops.push_back(resync::doc::CreateObject{"items", key(i)});
            ops.push_back(resync::doc::SetField{"items", key(i), "v", resync::doc::Value{std::string(40, 'a' + i % 26)}});
        }
        for (int c = 0; c < counters; ++c) {
            ops.push_back(resync::doc::CreateObject{"counters", "c" + std::to_string(c)});
            ops.push_back(resync::doc::SetField{"counters", "c" + std::to_string(c), "n", resync::doc::Value{std::int64_t{0}}});
        }
        server.write(std::move(ops));
        {
            auto store = open_store(prepared);
            Link link(server, 7);
            ReplacePolicy policy;
            resync::SyncSession<SqliteStore, Link, ReplacePolicy> session(store, link, policy);
            REQUIRE(session.run_until_idle() == SessionState::syncing);
            REQUIRE(store.object_count() == objects + counters);
            // Offline, the application writes: each changeset adds 1 to a counter and creates an object.
            link.go_offline();
            for (int i = 0; i < local_changesets; ++i) {
                auto v = store.write([&](resync::doc::Writer& w) {
                    w.add("counters", "c" + std::to_string(i % counters), "n", 1);
                    w.create("local", "l" + std::to_string(i)).set("local", "l" + std::to_string(i), "n", std::int64_t{i});
                });
                REQUIRE(v);
            }
            unsynced = store.unsynced();
            REQUIRE(unsynced.size() == local_changesets);
            // The server asks for a reset (recovery allowed); the session fetches the fresh copy
            // and is stopped once the whole copy is staged, before decoding any of it.
            server.inject_error({4242, resync::ServerAction::reset, "reset for the crash test"}, store.sync_state().client_ident);
            link.go_online();
            for (int i = 0; i < 100000; ++i) {
                session.poll(resync::Budget{16, 0});
                const auto copy = store.staged_copy();
                if (copy && store.staged_bytes() == copy->total_bytes) break;
            }
            const auto copy = store.staged_copy();
            REQUIRE(copy);
            REQUIRE(store.staged_bytes() == copy->total_bytes);
            REQUIRE(store.sync_state().pending_reset);
            REQUIRE(store.staged_objects() == 0);
        }
        // The oracle: the server's state with every local change applied once (the doc model's
        // own semantics, not the store's).
        expected = server.state();
        for (const auto& cs : unsynced) resync::doc::apply(expected, cs.ops);
        REQUIRE(resync::doc::State(expected).get("counters", "c0", "n") == resync::doc::Value{std::int64_t{2}});
    }

    void copy_to(const fs::path& file) const {
        fs::remove(file);
        fs::remove(file.string() + "-wal");
        fs::remove(file.string() + "-shm");
        fs::copy_file(prepared, file);
    }
};

/// The child: resumes the reset from the file, in slices, until it commits (then stops before
/// anything is uploaded: the uploads would go to this process's copy of the server).
template <class Policy>
[[noreturn]] void run_reset(Server& server, const fs::path& file) {
    auto store = open_store(file);
    Link link(server, 9);
    Policy policy;
    resync::SyncSession<SqliteStore, Link, Policy> session(store, link, policy);
    for (int i = 0; i < 1000000; ++i) {
        session.poll(budget);
        const auto& record = store.sync_state().pending_reset;
        if (record && record->phase >= resync::ResetPhase::commit) std::_Exit(0);
        if (session.state() == SessionState::stopped) std::_Exit(4);
    }
    std::_Exit(5);
}

/// Prints what went wrong and ends the checking process with a failure.
[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

/// The check, in a child: the reopened file holds the old state with its record, or the new one;
/// the local changes are all unsynced, as written; a new session finishes the reset and brings
/// every change to the server once.
template <class Policy>
[[noreturn]] void check_and_finish(const World& w, Server& server, const fs::path& file) {
    auto store = open_store(file);
    {
        auto& q = store.database()("PRAGMA integrity_check");
        if (!q.step() || q.blob(0) != "ok") fail("integrity_check failed: " + std::string(q.blob(0)));
        q.reset();
    }
    const auto& record = store.sync_state().pending_reset;
    if (!record) fail("the pending-reset record is gone before the server acknowledged anything");
    if (store.state() != w.expected) fail("the store holds neither the old state nor the reset one");
    const auto unsynced = store.unsynced();
    if (unsynced.size() != w.unsynced.size()) fail("unsynced changesets: " + std::to_string(unsynced.size()));
    for (std::size_t i = 0; i < unsynced.size(); ++i)
        if (unsynced[i].ops != w.unsynced[i].ops) fail("unsynced changeset " + std::to_string(i) + " changed");
    if (!store.quarantined().empty()) fail("something was quarantined");
    Link link(server, 11);
    Policy policy;
    resync::SyncSession<SqliteStore, Link, Policy> session(store, link, policy);
    const auto ended = session.run_until_idle(200000, budget);
    if (ended != SessionState::syncing || !session.idle()) fail("the new session did not finish: " + std::string(to_string(ended)));
    if (store.sync_state().pending_reset) fail("the record was not cleared");
    if (server.state() != w.expected) fail("the server does not hold every local change exactly once");
    if (store.state() != w.expected) fail("the store differs from the server");
    std::_Exit(0);
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

template <class Policy>
pid_t spawn_reset(World& w, const fs::path& file) {
    const pid_t pid = ::fork();
    if (pid == 0) run_reset<Policy>(w.server, file);
    return pid;
}

template <class Policy>
int spawn_check(World& w, const fs::path& file) {
    const pid_t pid = ::fork();
    // The child's copy of the server takes the uploads; this process's stays as it was.
    if (pid == 0) check_and_finish<Policy>(w, w.server, file);
    return wait_for(pid);
}

} // namespace

TEST_CASE("a SqliteStore reset of 10^5 objects killed with SIGKILL at random moments is finished or found "
          "pending by the next session, and no local change is lost or applied twice",
          "[sqlite][crash][sigkill]") {
    std::cout << "SIGKILL test: seed " << seed << ", " << runs << " runs, " << objects << " objects" << std::endl;
    World w;
    const fs::path file = w.dir / "run.db";

    // How long an uninterrupted reset takes here: the kills fall anywhere in it (and a little after).
    w.copy_to(file);
    const auto started = std::chrono::steady_clock::now();
    const int full = wait_for(spawn_reset<ReplacePolicy>(w, file));
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(WIFEXITED(full));
    REQUIRE(WEXITSTATUS(full) == 0);
    REQUIRE(WEXITSTATUS(spawn_check<ReplacePolicy>(w, file)) == 0);
    const auto span_us = std::chrono::duration_cast<std::chrono::microseconds>(took).count() * 6 / 5;
    std::cout << "an uninterrupted reset takes " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms" << std::endl;

    std::mt19937_64 rng(seed);
    int killed_before_commit = 0, committed = 0;
    for (int run = 0; run < runs; ++run) {
        w.copy_to(file);
        const bool diff = run % 2 == 1;
        const auto delay = std::uniform_int_distribution<long long>(0, span_us)(rng);
        const pid_t pid = diff ? spawn_reset<DiffPolicy>(w, file) : spawn_reset<ReplacePolicy>(w, file);
        std::this_thread::sleep_for(std::chrono::microseconds(delay));
        ::kill(pid, SIGKILL);
        const int status = wait_for(pid);
        const bool was_killed = WIFSIGNALED(status);
        if (!was_killed) REQUIRE(WEXITSTATUS(status) == 0);
        {
            // Where the kill left the file, by its record.
            auto s = open_store(file);
            REQUIRE(s.sync_state().pending_reset);
            (s.sync_state().pending_reset->phase >= resync::ResetPhase::commit ? committed : killed_before_commit)++;
        }
        INFO("run " << run << " (seed " << seed << "), " << (diff ? "Diff" : "Replace") << ", killed after " << delay
                    << " us");
        const int checked = diff ? spawn_check<DiffPolicy>(w, file) : spawn_check<ReplacePolicy>(w, file);
        REQUIRE(WIFEXITED(checked));
        REQUIRE(WEXITSTATUS(checked) == 0);
    }
    std::cout << "killed before the commit: " << killed_before_commit << ", after it: " << committed << std::endl;
    // The kills must have landed on both sides of the commit, or the test proved half of its claim.
    CHECK(killed_before_commit > 0);
    CHECK(committed > 0);
}
