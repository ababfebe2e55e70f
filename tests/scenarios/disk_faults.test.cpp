// Scenario: the disk fails under a reset - a full disk (ENOSPC) or an I/O error (EIO) at any step of
// a backup file or of the fresh copy's staging file (a SqliteStore stages in its database, so
// only its backup files are files), on every store. Each is a typed error (errc::backup_io), the
// live data and the unsynced changes are untouched, a backup file is complete or absent (never a
// partial or temporary file left behind), and the reset, retried, completes with nothing lost.

#include <support/keeping.hpp>
#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;
using Link = resync::testing::LoopbackTransport<doc::Model>;

/// Every file under `dir` is a whole backup file a store `S` wrote (or the staging file of a
/// reset still running).
template <class S>
std::vector<std::string> partial_files(const std::filesystem::path& dir) {
    std::vector<std::string> bad;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos) bad.push_back("a temporary file: " + name);
        else if (resync_test::is_backup_file<S>(e.path()) && !resync_test::read_any_backup<S>(e.path()))
            bad.push_back("a damaged backup file: " + name);
    }
    return bad;
}

/// A reset on a store `S` under `P` whose `k`-th file step fails with `error`: returns whether a
/// file step was there to fail (false once `k` is past the reset's last one).
template <class S, class P>
bool run(std::size_t k, std::errc error) {
    resync_test::ScratchDir dir;
    Server server;
    resync_test::StoreBox<S> box(1);
    S& store = box.store;
    Link link(server, 3);
    auto options = resync_test::options_in(dir);
    options.fresh_chunk_bytes = 64; // several appends to the staging file
    std::size_t file_steps = 0;
    bool failed = false;
    options.file_hook = [&](resync::FileStep, std::string_view) -> std::error_code {
        if (++file_steps == k) {
            failed = true;
            return std::make_error_code(error);
        }
        return {};
    };
    resync::SyncSession<S, Link, P> session(store, link, P{}, options);
    std::vector<std::error_code> errors;
    session.on_error([&](std::error_code ec, std::string_view) { errors.push_back(ec); });
    REQUIRE(store.write([](doc::Writer& w) {
        for (int i = 0; i < 10; ++i) w.create("items", "k" + std::to_string(i)).set("items", "k" + std::to_string(i), "n", std::int64_t{i});
    }));
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    link.go_offline();
    server.terminate_and_reenable();
    REQUIRE(store.write([](doc::Writer& w) { w.add("items", "k1", "n", 41); }));
    const auto offline = resync_test::operations_of(store.unsynced());
    const auto image = resync_test::image_of(store, false);
    link.go_online();
    file_steps = 0;

    // Until the failed step has been met and got past, the live data is what it was.
    bool saw_failure_untouched = false;
    for (int i = 0; i < 20000 && !session.idle(); ++i) {
        if (session.state() == SessionState::awaiting_user) (void)session.execute_reset();
        session.poll();
        if (failed && !saw_failure_untouched && session.resets_completed() == 0) {
            CHECK(resync_test::image_of(store, false) == image);
            CHECK(partial_files<S>(dir.path()).empty());
            saw_failure_untouched = true;
        }
    }
    CAPTURE(k, static_cast<int>(error), file_steps);
    if (!failed) return false;
    CHECK(std::find(errors.begin(), errors.end(), resync::errc::backup_io) != errors.end());
    REQUIRE(session.idle());
    CHECK(store.state() == server.state());
    for (const auto& bad : partial_files<S>(dir.path())) FAIL_CHECK(bad);
    const auto violations = resync_test::keeping_violations(offline, server, store, dir.path());
    for (const auto& v : violations) FAIL_CHECK(v);
    return true;
}

/// A store that stages fresh copies in its own database (SqliteStore) writes files only for
/// backups, so under a strategy whose backup stays in memory (RecoverOrDiscard: backup::Snapshot)
/// a reset writes no file at all: there is no file step for the disk to fail.
template <class S, class P>
constexpr bool writes_no_file =
    resync::store_requirements::stages_fresh_copies<S> && std::is_same_v<P, resync::doc::RecoverOrDiscard>;

} // namespace

using Cases1 = resync_test::OnEveryStore<resync::Manual, resync::doc::RecoverOrDiscard,
                                         resync::Strategy<resync::backup::File, resync::discard::Replace>>;

TEMPLATE_LIST_TEST_CASE("a full disk or an I/O error at any step of a backup or staging file is a typed error that "
                        "touches nothing, leaves no partial file, and the retried reset completes with nothing lost",
                        "[scenario][faults][disk]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    for (const auto error : {std::errc::no_space_on_device, std::errc::io_error}) {
        std::size_t k = 1;
        while (run<S, P>(k, error)) ++k;
        INFO("file steps tried: " << k - 1);
        if constexpr (writes_no_file<S, P>) CHECK(k == 1);
        else CHECK(k > 5); // backup or staging files were really written, step by step
    }
}

} // namespace RESYNC_TEST_FILE
