// Scenario: what a reset's commit replaces is freed over the following polls, not inside the
// reset. Through the session, after a server restore, with discard::Replace and discard::Diff:
// the store equals the fresh copy as soon as the reset commits; the replaced objects are freed
// `Budget::work` per poll (counted by the session); an application that opts out frees them in
// the reset; a restart in the middle of the freeing finds the committed state and loses nothing;
// a second reset while the first one's leftovers are still held frees them first. On MemoryStore,
// on a store without the leftover capability (Diff then frees inside its commit), and on
// SqliteStore (which commits from its own staging: nothing is held in memory).

#include <resync/backup/none.hpp>
#include <resync/discard/deferred_release.hpp>
#include <resync/discard/diff.hpp>
#include <resync/discard/replace.hpp>
#include <resync/doc/model.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <support/required_members_store.hpp>
#include <support/scenarios.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>

// glibc's own count of the freed blocks it holds unmerged (mallinfo2, glibc 2.33); a sanitizer's
// allocator replaces glibc's, so the count says nothing there.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RESYNC_TEST_OWN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RESYNC_TEST_OWN_ALLOCATOR 1
#endif
#if defined(__GLIBC__) && !defined(RESYNC_TEST_OWN_ALLOCATOR)
#include <malloc.h>
#if __GLIBC_PREREQ(2, 33)
#define RESYNC_TEST_GLIBC_COUNTS 1
#endif
#endif

#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::MemoryStore;
using PlainStore = resync_test::RequiredMembersDiffStore; ///< diff_commit, no diff_commit_leftover
using Replace = resync::Strategy<resync::backup::None, resync::discard::Replace>;
using Diff = resync::Strategy<resync::backup::None, resync::discard::Diff>;
using Link = resync::testing::LoopbackTransport<doc::Model>;

static_assert(resync::store_requirements::commits_reset_diff_leaving_leftover<MemoryStore>);
static_assert(!resync::store_requirements::commits_reset_diff_leaving_leftover<PlainStore>);
static_assert(resync::model_requirements::releases_in_slices<doc::Model>);

template <class S>
S& local(S& s) { return s; }
MemoryStore& local(PlainStore& s) { return s.inner; }

/// Objects the session holds after the commit, on each store, for a reset whose old state holds
/// `old_objects` objects of which `kept` are also in the fresh copy (and equal there). Replace
/// hands back the whole old state; Diff leaves the staged copies of the objects it kept (the
/// erased ones are freed by the commit itself); a store without the leftover capability frees
/// inside its diff commit; SqliteStore commits from its own staging and hands back nothing.
template <class Store, class Policy>
std::size_t held_after_commit(std::size_t old_objects, std::size_t kept) {
    constexpr bool diff = std::is_same_v<Policy, Diff>;
    if constexpr (std::is_same_v<Store, MemoryStore>) return diff ? kept : old_objects;
    else if constexpr (std::is_same_v<Store, PlainStore>) return diff ? 0 : old_objects;
    else return 0;
}

template <class S, class P>
struct On {
    using store = S;
    using policy = P;
};
#if RESYNC_TEST_SQLITE
using Cases = std::tuple<On<MemoryStore, Replace>, On<MemoryStore, Diff>, On<PlainStore, Replace>, On<PlainStore, Diff>,
                         On<resync::SqliteStore, Replace>, On<resync::SqliteStore, Diff>>;
#else
using Cases = std::tuple<On<MemoryStore, Replace>, On<MemoryStore, Diff>, On<PlainStore, Replace>, On<PlainStore, Diff>>;
#endif

/// A replica of `Store` with 200 synced objects (`o0`..`o199`, n = i) and one more (`extra`),
/// a server backup taken at 100 objects (`at_100`) and one at 200 (`at_200`).
template <class Store, class Policy>
struct Setup {
    resync::testing::Server<doc::Model> server;
    resync_test::ScratchDir dir;
    resync_test::StoreBox<Store> box{1};
    Store& store = box.store;
    Link link{server};
    resync::SessionOptions options = resync_test::options_in(dir);
    std::optional<resync::SyncSession<Store, Link, Policy>> session;
    resync::testing::Server<doc::Model>::Backup at_100, at_200;

    explicit Setup(bool at_once = false) {
        options.release_replaced_state_at_once = at_once;
        options.backoff_base_ms = 0;
        session.emplace(store, link, Policy{}, options);
        for (int i = 0; i < 200; ++i) {
            put("o" + std::to_string(i), i);
            if (i == 99) {
                session->run_until_idle(20000);
                at_100 = server.backup();
            }
        }
        session->run_until_idle(20000);
        at_200 = server.backup();
        put("extra", -1);
        session->run_until_idle(20000);
        REQUIRE(local(store).state().object_count() == 201);
        REQUIRE(local(store).unsynced().empty());
    }

    void put(const std::string& key, std::int64_t n) {
        REQUIRE(local(store).write([&](doc::Writer& w) { w.create("items", key).set("items", key, "n", doc::Value{n}); }));
    }

    /// Polls with `budget` until the session has completed `resets` resets (at most `max_polls`).
    void poll_until_reset(std::size_t resets, resync::Budget budget, std::size_t max_polls = 20000) {
        for (std::size_t i = 0; i < max_polls && session->resets_completed() < resets; ++i) session->poll(budget);
        REQUIRE(session->resets_completed() == resets);
    }
};

constexpr resync::Budget ten_per_poll{16, 10};

} // namespace

TEST_CASE("doc::release_objects frees at most the objects asked for, and the collections it empties",
          "[discard][release][model]") {
    doc::State s;
    for (const char* k : {"a", "b", "c"}) s.collections["one"][k];
    for (const char* k : {"d", "e"}) s.collections["two"][k];
    CHECK(doc::release_objects(s, 2) == 2);
    CHECK(s.object_count() == 3);
    CHECK(doc::release_objects(s, 0) == 0);
    CHECK(s.object_count() == 3);
    CHECK(doc::release_objects(s, 10) == 3);
    CHECK(s.object_count() == 0);
    CHECK(s.collections.empty()); // the emptied collections are gone too
    CHECK(doc::release_objects(s, 10) == 0);
}

TEST_CASE("DeferredRelease frees a bounded slice per call, across every state it holds", "[discard][release]") {
    resync::discard::DeferredRelease<doc::Model> held;
    CHECK_FALSE(held.pending());
    auto state_of = [](int objects) {
        doc::State s;
        for (int i = 0; i < objects; ++i) s.collections["items"]["k" + std::to_string(i)];
        return s;
    };
    held.hold(state_of(7));
    held.hold(state_of(5));
    CHECK(held.objects() == 12);
    CHECK(held.release_some(4) == 4);
    CHECK(held.objects() == 8);
    CHECK(held.release_some(4) == 4); // the rest of one state and part of the other
    CHECK(held.objects() == 4);
    CHECK(held.pending());
    CHECK(held.release_some(100) == 4);
    CHECK(held.objects() == 0);
    CHECK_FALSE(held.pending());
    held.hold(state_of(3));
    held.release_all();
    CHECK_FALSE(held.pending());
}

TEMPLATE_LIST_TEST_CASE("a reset's store equals the fresh copy at once, and what it replaced is freed over later polls",
                        "[scenario][discard][release]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s;
    s.server.restore(s.at_200);
    s.poll_until_reset(1, ten_per_poll);

    // At once: the fresh copy (200 objects, o0..o199), not a step later.
    CHECK(local(s.store).state() == s.server.state());
    CHECK(local(s.store).state().object_count() == 200);
    const std::size_t held = held_after_commit<Store, Policy>(201, 200);
    CHECK(s.session->replaced_objects_pending() == held);
    if (const auto& report = s.session->last_report(); report && std::is_same_v<Policy, Diff>) {
        REQUIRE(report->diff.has_value());
        CHECK(*report->diff == resync::DiffStats{0, 0, 1, 200}); // only `extra` written (erased)
    }

    // 10 objects per poll: after one poll 10 fewer, after ceil(held / 10) polls none.
    s.session->poll(ten_per_poll);
    CHECK(s.session->replaced_objects_pending() == (held >= 10 ? held - 10 : 0));
    for (std::size_t i = 1; i < (held + 9) / 10; ++i) s.session->poll(ten_per_poll);
    CHECK(s.session->replaced_objects_pending() == 0);
    CHECK(local(s.store).state() == s.server.state());
    s.session->run_until_idle(20000);
    CHECK(s.session->idle());
}

TEMPLATE_LIST_TEST_CASE("with a budget of W objects, every poll frees at most W of what a reset replaced, W a poll until none is left",
                        "[scenario][discard][release]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s;
    s.server.restore(s.at_200);
    constexpr std::size_t w = 7; // not a divisor of what is held: the last poll frees the remainder
    constexpr resync::Budget seven_per_poll{16, w};
    s.poll_until_reset(1, seven_per_poll);
    // MemoryStore + Replace holds the 201 old objects, + Diff the 200 staged copies it kept (the
    // commit freed the erased `extra`); the other stores hold nothing.
    const std::size_t held = held_after_commit<Store, Policy>(201, 200);
    REQUIRE(s.session->replaced_objects_pending() == held);

    std::size_t polls = 0;
    for (std::size_t left = held; left > 0; ++polls) {
        s.session->poll(seven_per_poll);
        const std::size_t now = s.session->replaced_objects_pending();
        REQUIRE(now < left);                      // every poll frees something while anything is held
        CHECK(left - now == std::min(w, left));   // W a poll, the remainder on the last one
        left = now;
    }
    CHECK(polls == (held + w - 1) / w); // 29 polls for 201 objects, 29 for 200 (the last frees 5 and 4)
    CHECK(s.session->replaced_objects_pending() == 0);
    CHECK(local(s.store).state() == s.server.state());
}

#if RESYNC_TEST_GLIBC_COUNTS
TEST_CASE("a released slice leaves none of its freed blocks for glibc to merge in a later call", "[discard][release]") {
    // glibc holds freed blocks of up to 128 bytes unmerged (its fast bins, `smblks`) until a large
    // request or free merges them all at once; at N = 10^6 that one merge took 1.4 s of one poll.
    // Objects of one short field each: their nodes are such blocks.
    auto state_of = [](int objects) {
        doc::State st;
        for (int i = 0; i < objects; ++i) st.collections["items"]["k" + std::to_string(i)]["n"] = doc::Value{std::int64_t{i}};
        return st;
    };
    // The oracle's control: freeing the same objects without DeferredRelease leaves blocks unmerged.
    doc::State plain = state_of(3000);
    CHECK(doc::release_objects(plain, 1000) == 1000);
    CHECK(mallinfo2().smblks > 0);

    resync::discard::DeferredRelease<doc::Model> held;
    held.hold(state_of(3000));
    for (int slice = 0; slice < 3; ++slice) {
        CHECK(held.release_some(1000) == 1000);
        CHECK(mallinfo2().smblks == 0); // merged in the call that freed them
    }
    CHECK_FALSE(held.pending());
}
#endif

TEMPLATE_LIST_TEST_CASE("an application that opts out has what a reset replaced freed inside the reset",
                        "[scenario][discard][release]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s(true);
    s.server.restore(s.at_200);
    s.poll_until_reset(1, ten_per_poll);
    CHECK(local(s.store).state() == s.server.state());
    CHECK(s.session->replaced_objects_pending() == 0);
}

TEMPLATE_LIST_TEST_CASE("release_replaced_state frees at once what later polls would have freed",
                        "[scenario][discard][release]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s;
    s.server.restore(s.at_200);
    s.poll_until_reset(1, ten_per_poll);
    s.session->release_replaced_state();
    CHECK(s.session->replaced_objects_pending() == 0);
    CHECK(local(s.store).state() == s.server.state());
}

TEMPLATE_LIST_TEST_CASE("a restart in the middle of freeing what a reset replaced finds the committed state and loses nothing",
                        "[scenario][discard][release][restart]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s;
    // An unsynced local change the reset discards: kept in the quarantine, before the commit.
    s.put("local", 42);
    s.server.restore(s.at_200);
    s.poll_until_reset(1, ten_per_poll);
    for (int i = 0; i < 3; ++i) s.session->poll(ten_per_poll);
    const std::size_t held = held_after_commit<Store, Policy>(202, 200);
    CHECK(s.session->replaced_objects_pending() == (held >= 30 ? held - 30 : 0));

    // What the reset does not carry forward is kept before the commit: in the store's
    // quarantine, or (a store without one) in a backup file the report names.
    const auto& report = s.session->last_report();
    REQUIRE(report);
    if constexpr (std::is_same_v<Store, PlainStore>) CHECK_FALSE(report->keeping_location.empty());
    else CHECK(report->keeping_location.empty());

    // The process ends here: what reached the store's storage is all a new process sees.
    auto copy = resync_test::durable_copy(local(s.store), s.dir);
    s.session.reset();
    CHECK(copy.state() == s.server.state());
    CHECK(copy.state().object_count() == 200);
    CHECK(copy.state().find("items", "local") == nullptr); // not in the committed state
    // The create and the set of `local` (unsynced, discarded) and of `extra` (acknowledged, lost
    // by the restore): 4 operations in the quarantine, or in the file for a store without one.
    CHECK(copy.quarantined().size() == (std::is_same_v<Store, PlainStore> ? 0 : 4));
    CHECK(copy.unsynced().empty());

    // A new session on it finishes the reset's last phase and goes idle with the same state.
    Link again(s.server);
    resync::SyncSession<std::remove_cvref_t<decltype(copy)>, Link, Policy> session(copy, again, Policy{}, s.options);
    session.run_until_idle(20000);
    CHECK(session.idle());
    CHECK(session.resets_completed() == 0);
    CHECK(copy.state() == s.server.state());
    CHECK_FALSE(copy.sync_state().pending_reset.has_value());
}

TEMPLATE_LIST_TEST_CASE("a second reset while the first one's leftovers are held frees them first and ends in the fresh copy",
                        "[scenario][discard][release]", Cases) {
    using Store = typename TestType::store;
    using Policy = typename TestType::policy;
    Setup<Store, Policy> s;
    constexpr resync::Budget one_per_poll{16, 1};
    s.server.restore(s.at_200);
    s.poll_until_reset(1, one_per_poll);
    const std::size_t first = held_after_commit<Store, Policy>(201, 200);
    CHECK(s.session->replaced_objects_pending() == first);

    // The server is restored further back: a second rollback, while the first reset's leftovers
    // are still being freed one object per poll.
    s.server.restore(s.at_100);
    std::size_t polls = 0;
    while (s.session->state() != resync::SessionState::resetting && polls++ < 20000) s.session->poll(one_per_poll);
    REQUIRE(s.session->state() == resync::SessionState::resetting);
    if (first > 0) CHECK(s.session->replaced_objects_pending() > 0); // still held when it starts
    s.session->poll(one_per_poll);
    CHECK(s.session->replaced_objects_pending() == 0); // freed whole before the new copy is decoded
    s.poll_until_reset(2, one_per_poll);

    // Only the second reset's leftovers are held: the state after the first (200 objects), or
    // the staged copies of the 100 objects both hold.
    CHECK(local(s.store).state() == s.server.state());
    CHECK(local(s.store).state().object_count() == 100);
    CHECK(s.session->replaced_objects_pending() == held_after_commit<Store, Policy>(200, 100));
}

} // namespace RESYNC_TEST_FILE
