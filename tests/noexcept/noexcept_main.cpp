// Built with -fno-exceptions -fno-rtti (Catch2 needs exceptions, hence a plain main): a game
// engine's build. Runs whole resets through SyncSession under those flags - a discard after a
// server restore, and a manual reset with a backup file read back - so errors are seen to travel
// as std::error_code / Result. Run as the test `noexcept.smoke`.
#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "noexcept.smoke: FAILED: %s\n", what);
        ++failures;
    }
}

template <class Policy>
struct Client {
    resync::MemoryStore store;
    resync::testing::LoopbackTransport<resync::doc::Model> link;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, Policy> session;
    Client(resync::testing::Server<resync::doc::Model>& server, Policy policy) : link(server), session(store, link, std::move(policy)) {}
    void put(const char* key, std::int64_t v) {
        (void)store.write([&](resync::doc::Writer& w) { w.create("c", key).set("c", key, "f", v); });
    }
};

void discard_after_a_server_restore() {
    resync::testing::Server<resync::doc::Model> server;
    Client<resync::DiscardUnsynced> client(server, {});
    client.put("a", 1);
    client.session.run_until_idle();
    auto backup = server.backup();
    client.put("b", 2);
    client.session.run_until_idle();
    server.restore(backup);
    client.put("c", 3);
    client.session.run_until_idle();
    check(client.session.resets_completed() == 1, "the restore is detected and the client resets once");
    check(client.store.state() == server.state(), "after the reset the client equals the server");
    check(client.session.last_report() && client.session.last_report()->count(resync::OperationFate::quarantined) == 2,
          "the report lists the discarded operations, kept in the store's quarantine");
    // ... with the acknowledged create + set of "b", which the restore lost (reported, kept too).
    check(client.store.quarantined().size() == 4, "the discarded operations are in the quarantine");
}

void manual_reset_with_a_backup_file() {
    const auto dir = std::filesystem::temp_directory_path() / "resync-noexcept-smoke";
    resync::testing::Server<resync::doc::Model> server;
    Client<resync::Manual> client(server, resync::Manual{resync::backup::File{dir}});
    client.put("a", 1);
    client.session.run_until_idle();
    client.link.go_offline();
    server.terminate_and_reenable();
    client.put("b", 2);
    client.link.go_online();
    client.session.run_until_idle();
    auto request = client.session.pending_request();
    check(request.has_value(), "a manual reset waits for the user");
    if (request) {
        auto saved = resync::restore_backup(request->backup_path);
        check(saved.has_value() && saved->unsynced.size() == 1, "the backup file holds the unsynced change");
        auto damaged = resync::restore_backup(dir / "no-such-file.rsbk");
        check(!damaged.has_value() && damaged.error(), "a missing backup is an error code, not a crash");
    }
    check(!client.session.execute_reset(), "execute_reset succeeds");
    client.session.run_until_idle();
    check(client.store.state() == server.state(), "after execute the client equals the server");
    check(client.session.execute_reset() == resync::errc::no_reset_pending, "a second execute says nothing is pending");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

} // namespace

int main() {
    resync::MemoryStore store;
    auto written = store.write([](resync::doc::Writer& w) { w.create("c", "k").set("c", "k", "f", std::int64_t{1}); });
    check(written.has_value(), "a create + set write succeeds");
    check(store.get("c", "k", "f") == resync::doc::Value{std::int64_t{1}}, "a written field reads back");
    auto refused = store.write([](resync::doc::Writer& w) -> std::error_code {
        w.create("c", "gone");
        return resync::errc::invalid_argument;
    });
    check(!refused && store.state().find("c", "gone") == nullptr, "a write that returns an error is rolled back");
    check(!resync::make_error_code(resync::errc::backup_corrupt).message().empty(), "errc::backup_corrupt has a message");

    discard_after_a_server_restore();
    manual_reset_with_a_backup_file();

    if (failures == 0) std::puts("noexcept.smoke: all checks passed");
    return failures == 0 ? 0 : 1;
}
