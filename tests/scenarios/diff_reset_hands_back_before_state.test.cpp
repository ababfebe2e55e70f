// Scenario: a discard reset with discard::Diff and backup::Snapshot, through the session, after a
// server restore. The after-reset callback must see exactly the state the client held (its
// unsynced change included), the store must end equal to the server, and the report must count
// exactly the objects that differ - whether the store hands the before-state back by moves and
// decodes the fresh copy in pieces (MemoryStore), has neither capability (the session then
// copies the state first and joins the pieces), or stages the copy and diffs it in its own
// database (SqliteStore), and when the first fresh copy arrives damaged.

#include <resync/backup/snapshot.hpp>
#include <resync/concepts/store.hpp>
#include <resync/discard/diff.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <support/required_members_store.hpp>
#include <support/scenarios.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::MemoryStore;
using Op = doc::Operation;

/// A store with `commit_reset_diff` but no before-state by moves and no decoding in pieces.
using PlainStore = resync_test::RequiredMembersDiffStore;

static_assert(resync::store_requirements::commits_reset_diff_keeping_before<MemoryStore>);
static_assert(resync::model_requirements::decodes_in_slices<resync::doc::Model>);

/// The store the application writes to and reads (a PlainStore forwards to a MemoryStore).
template <class S>
S& local(S& s) { return s; }
MemoryStore& local(PlainStore& s) { return s.inner; }

using Policy = resync::Strategy<resync::discard::Diff, resync::backup::Snapshot>;

#if RESYNC_TEST_SQLITE
using Stores = std::tuple<MemoryStore, PlainStore, resync::SqliteStore>;
#else
using Stores = std::tuple<MemoryStore, PlainStore>;
#endif

} // namespace

TEMPLATE_LIST_TEST_CASE("a Diff reset with a Snapshot backup hands the callback exactly the state it replaced",
                        "[scenario][discard][diff][pieces]", Stores) {
    using Fault = resync::testing::Server<resync::doc::Model>::FreshCopyFault;
    const Fault fault = GENERATE(Fault::none, Fault::corrupt, Fault::truncate);
    CAPTURE(static_cast<int>(fault));

    resync::testing::Server<resync::doc::Model> server;
    resync_test::StoreBox<TestType> box(1);
    TestType& store = box.store;
    resync::testing::LoopbackTransport<resync::doc::Model> link(server);
    resync_test::ScratchDir dir;
    // A store without a quarantine keeps the discarded change in a backup file there.
    resync::SessionOptions options = resync_test::options_in(dir);
    options.fresh_chunk_bytes = 16; // many pieces, cut everywhere
    resync::SyncSession<TestType, resync::testing::LoopbackTransport<resync::doc::Model>, Policy> session(store, link, Policy{}, options);
    auto put = [&](const char* key, doc::Value v) {
        REQUIRE(local(store).write([&](doc::Writer& w) { w.create("items", key).set("items", key, "n", v); }));
    };

    put("same", doc::Value{std::int64_t{1}});
    put("changed", doc::Value{std::int64_t{1}});
    session.run_until_idle(20000);
    const auto backup = server.backup();
    put("changed", doc::Value{std::int64_t{2}});
    put("lost", doc::Value{std::int64_t{3}});
    session.run_until_idle(20000);
    REQUIRE(local(store).unsynced().empty());
    server.restore(backup);
    put("local", doc::Value{std::string("unsynced")});
    const doc::State held = local(store).state();

    std::optional<doc::State> seen;
    std::optional<resync::DiffStats> diff;
    session.on_after_reset([&](const doc::State* before, const TestType&, const resync::ResetReport& report) {
        REQUIRE(before != nullptr);
        seen = *before;
        diff = report.diff;
    });
    server.damage_next_fresh_copy(fault);
    session.run_until_idle(20000);

    REQUIRE(session.resets_completed() == 1);
    REQUIRE(seen.has_value());
    CHECK(*seen == held);
    CHECK(local(store).state() == server.state());
    REQUIRE(diff.has_value());
    CHECK(*diff == resync::DiffStats{0, 1, 2, 1}); // changed updated; lost, local erased; same kept
}

} // namespace RESYNC_TEST_FILE
