// Scenario: a manual reset's backup file is gone or damaged when the user executes it. The reset
// refuses, with a typed error, and touches nothing; a new backup (renew_backup) lets it run. And
// where backups go: never a temporary directory by default - with none named, a reset that must
// keep operations in a file stops with errc::no_backup_directory, nothing discarded.
// Run on every store (MemoryStore, SqliteStore: its backups are databases of its own).

#include <support/client.hpp>
#include <support/keeping.hpp>
#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::errc;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;

/// A client on a store `S` waiting for the user, with one unsynced change, after the server
/// re-enabled sync.
template <class S>
struct Waiting {
    resync_test::ScratchDir dir;
    Server server;
    resync_test::Replica<resync::Manual, resync_test::Loopback, S> a{server, resync::Manual{}, resync_test::options_in(dir)};
    std::string backup_path;
    std::vector<doc::Operation> offline;

    Waiting() {
        a.put("items", "one", "n", resync_test::num(1));
        REQUIRE(a.sync() == SessionState::syncing);
        a.link().go_offline();
        server.terminate_and_reenable();
        a.put("items", "local", "n", resync_test::num(2));
        offline = resync_test::operations_of(a.store.unsynced());
        a.link().go_online();
        REQUIRE(a.sync() == SessionState::awaiting_user);
        backup_path = a.session().pending_request()->backup_path;
        REQUIRE(std::filesystem::exists(backup_path));
    }
};

} // namespace

TEMPLATE_LIST_TEST_CASE("a manual reset whose backup file was deleted refuses to run after a restart, touching "
                        "nothing, until a new backup is written",
                        "[scenario][manual][backup][bad-input]", resync_test::ScenarioStores) {
    using S = TestType;
    Waiting<S> w;
    std::filesystem::remove(w.backup_path);
    resync_test::restart_reopened(w.a);
    REQUIRE(w.a.sync() == SessionState::awaiting_user);
    const auto image = resync_test::image_of(w.a.store);
    CHECK(w.a.session().execute_reset() == errc::backup_missing);
    CHECK(resync_test::image_of(w.a.store) == image);
    CHECK(w.a.session().state() == SessionState::awaiting_user);
    CHECK(w.a.session().pending_request().has_value());
    // A new backup, of everything as it is now; then it runs, and nothing was lost.
    std::vector<resync::ResetRequest> renewed;
    w.a.session().on_reset_request([&](const resync::ResetRequest& r) { renewed.push_back(r); });
    REQUIRE_FALSE(w.a.session().renew_backup());
    REQUIRE(renewed.size() == 1);
    CHECK(renewed.front().backup_path != w.backup_path);
    auto file = resync_test::read_backup<S>(renewed.front().backup_path);
    REQUIRE(file);
    CHECK(resync_test::operations_of(file->unsynced) == w.offline);
    REQUIRE_FALSE(w.a.session().execute_reset());
    REQUIRE(w.a.sync() == SessionState::syncing);
    CHECK(w.a.store.state() == w.server.state());
    const auto violations = resync_test::keeping_violations(w.offline, w.server, w.a.store, w.dir.path());
    for (const auto& v : violations) FAIL_CHECK(v);
}

TEMPLATE_LIST_TEST_CASE("a manual reset whose backup file was damaged or cut short refuses to run with the file's "
                        "error",
                        "[scenario][manual][backup][bad-input]", resync_test::ScenarioStores) {
    const bool cut = GENERATE(false, true);
    Waiting<TestType> w;
    std::string bytes;
    {
        std::ifstream in(w.backup_path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (cut) bytes.resize(bytes.size() / 2);
    else bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x40);
    std::ofstream(w.backup_path, std::ios::binary | std::ios::trunc) << bytes;
    const auto image = resync_test::image_of(w.a.store);
    CHECK(w.a.session().execute_reset() == (cut ? errc::backup_truncated : errc::backup_corrupt));
    CHECK(resync_test::image_of(w.a.store) == image);
    // The twin: a renewed backup lets it run.
    REQUIRE_FALSE(w.a.session().renew_backup());
    REQUIRE_FALSE(w.a.session().execute_reset());
    REQUIRE(w.a.sync() == SessionState::syncing);
    CHECK(w.a.store.state() == w.server.state());
}

TEMPLATE_LIST_TEST_CASE("with no backup directory named anywhere, a manual reset stops with no_backup_directory and "
                        "discards nothing; a directory named later lets it run",
                        "[scenario][manual][backup]", resync_test::ScenarioStores) {
    using S = TestType;
    resync_test::ScratchDir dir;
    Server server;
    auto options = resync_test::options_in(dir);
    options.backup_directory.clear(); // nothing named: no temporary-directory default
    resync_test::Replica<resync::Manual, resync_test::Loopback, S> a(server, resync::Manual{}, options);
    a.put("items", "one", "n", resync_test::num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    server.terminate_and_reenable();
    a.put("items", "local", "n", resync_test::num(2));
    const auto image = resync_test::image_of(a.store, false);
    a.link().go_online();
    CHECK(a.sync() == SessionState::stopped);
    CHECK(a.session().last_error() == errc::no_backup_directory);
    CHECK(resync_test::image_of(a.store, false) == image);
    CHECK(resync_test::backups_under<S>(dir.path()).empty());
    // The application names one and restarts: the attempt resumes.
    a.options.backup_directory = (dir.path() / "named").string();
    resync_test::restart_reopened(a);
    REQUIRE(a.sync() == SessionState::awaiting_user);
    REQUIRE(resync_test::backups_under<S>(dir.path() / "named").size() == 1);
    CHECK(resync_test::backups_under<S>(dir.path() / "named").front().unsynced == image.unsynced);
}

TEMPLATE_LIST_TEST_CASE("a backup directory that is a symbolic link or open to others is refused: the reset stops "
                        "with backup_directory_unsafe and nothing is written there",
                        "[scenario][backup][security]", resync_test::ScenarioStores) {
    const bool symlink = GENERATE(false, true);
    resync_test::ScratchDir dir;
    const auto real = dir.path() / "real";
    std::filesystem::create_directory(real);
    std::filesystem::permissions(real, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
    auto target = real;
    if (symlink) {
        target = dir.path() / "link";
        std::filesystem::create_directory_symlink(real, target);
    } else {
        std::filesystem::permissions(real, std::filesystem::perms::others_read | std::filesystem::perms::others_exec,
                                     std::filesystem::perm_options::add);
    }
    Server server;
    auto options = resync_test::options_in(dir);
    options.backup_directory = target.string();
    resync_test::Replica<resync::Manual, resync_test::Loopback, TestType> a(server, resync::Manual{}, options);
    a.put("items", "one", "n", resync_test::num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    server.terminate_and_reenable();
    a.put("items", "local", "n", resync_test::num(2));
    a.link().go_online();
    CHECK(a.sync() == SessionState::stopped);
    CHECK(a.session().last_error() == errc::backup_directory_unsafe);
    CHECK(std::filesystem::is_empty(real));
    CHECK(a.store.unsynced().size() == 1);
}

} // namespace RESYNC_TEST_FILE
