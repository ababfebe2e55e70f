// MemoryStore's reset commits under failed allocations: every allocation a commit needs happens
// before the live state changes, so a commit that fails to allocate - at any of its allocations -
// leaves the store exactly as it was (state, history, sync state, quarantine), with no empty
// collection left behind either. A retry of the quarantine that fails to allocate keeps it whole.

#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

// The test binary's global allocator, which a test can make fail its n-th next allocation. Off
// (-1) unless a test arms it, so every other test allocates as usual.
namespace resync_test_allocation {
inline thread_local long fail_after = -1;
}

// g++ sees these replacements themselves pair `free` with `operator new`: they are the pair.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    long& countdown = resync_test_allocation::fail_after;
    if (countdown == 0) {
        countdown = -1;
        throw std::bad_alloc();
    }
    if (countdown > 0) --countdown;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// Every other unaligned form goes through the pair above, so that nothing allocated by one
// allocator is freed by another: the standard library frees `new (std::nothrow)` memory (its
// temporary buffers for stable_sort) with plain `delete`, and a sanitizer runtime that kept its
// own nothrow and array forms would see its memory freed by ours.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return ::operator new(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return ::operator new(n, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ::operator delete(p); }
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ::operator delete(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;

/// A store with data, local history (acknowledged and not) and a quarantine.
resync::MemoryStore busy_store() {
    resync::MemoryStore store(1);
    resync::SyncState s;
    s.client_ident = 4;
    s.epoch = 9;
    REQUIRE_FALSE(store.write_sync_state(s));
    for (int i = 0; i < 20; ++i)
        REQUIRE(store.write([&](doc::Writer& w) {
            const std::string key = "k" + std::to_string(i);
            w.create("items", key).set("items", key, "n", std::int64_t{i});
            w.list_push_back("items", key, "tags", std::string("t"));
        }));
    resync::ResetCommit<doc::State, doc::Operation> seed{store.state(), {}, s, {{1, 0, doc::CreateObject{"q", "k"}, "seed", resync::ResetReason::client_expired, 1}}};
    REQUIRE(store.commit_reset(std::move(seed)));
    REQUIRE(store.write([](doc::Writer& w) { w.set("items", "k3", "n", std::int64_t{33}); }));
    return store;
}

/// A commit that changes some objects, erases some, adds a collection, and brings history and
/// quarantine of its own.
resync::ResetCommit<doc::State, doc::Operation> big_commit(const resync::MemoryStore& store) {
    doc::State fresh = store.state();
    for (int i = 0; i < 20; i += 3) doc::apply(fresh, doc::EraseObject{"items", "k" + std::to_string(i)});
    for (int i = 1; i < 20; i += 3) doc::apply(fresh, doc::SetField{"items", "k" + std::to_string(i), "n", std::int64_t{-i}});
    for (int i = 0; i < 30; ++i) {
        const std::string key = "n" + std::to_string(i);
        doc::apply(fresh, doc::CreateObject{"new", key});
        doc::apply(fresh, doc::SetField{"new", key, "s", std::string(40, 'x')});
    }
    resync::SyncState next;
    next.client_ident = 77;
    next.epoch = 10;
    return {std::move(fresh),
            {{5, 0, {doc::CreateObject{"mine", "a"}}}, {6, 0, {doc::SetField{"mine", "a", "v", std::int64_t{1}}}}},
            next,
            {{2, 0, doc::AddInteger{"items", "k1", "n", 3}, "dropped", resync::ResetReason::server_rollback, 2}}};
}

struct Image {
    resync_test::StoreImage store;
    std::vector<resync::QuarantinedOperation<doc::Operation>> quarantine;
    std::size_t collections = 0;
    friend bool operator==(const Image&, const Image&) = default;
};

Image image(const resync::MemoryStore& s) {
    return {resync_test::image_of(s), s.quarantined(), s.state().collections.size()};
}

enum class Commit { replace, diff, diff_keeping_before };

} // namespace

TEST_CASE("a MemoryStore reset commit that fails to allocate, at any of its allocations, leaves the store as it was",
          "[store][memory][commit][allocation]") {
    const Commit kind = GENERATE(Commit::replace, Commit::diff, Commit::diff_keeping_before);
    CAPTURE(static_cast<int>(kind));
    std::size_t failures = 0;
    bool committed = false;
    for (long n = 0; n < 100000 && !committed; ++n) {
        auto store = busy_store();
        auto commit = big_commit(store);
        const Image before = image(store);
        bool threw = false;
        resync_test_allocation::fail_after = n;
        try {
            switch (kind) {
            case Commit::replace: committed = store.commit_reset(std::move(commit)).has_value(); break;
            case Commit::diff: committed = store.commit_reset_diff(std::move(commit)).has_value(); break;
            case Commit::diff_keeping_before:
                committed = store.commit_reset_diff_keeping_before(std::move(commit)).has_value();
                break;
            }
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        resync_test_allocation::fail_after = -1;
        if (!threw) {
            REQUIRE(committed);
            break;
        }
        ++failures;
        INFO("allocation " << n << " failed");
        REQUIRE(image(store) == before);
    }
    CHECK(committed);
    CHECK(failures > 5); // the commit allocates; each of its allocations was tried
}

TEST_CASE("retrying the quarantine when an allocation fails, at any of them, keeps every quarantined operation and "
          "leaves the store as it was",
          "[store][memory][quarantine][allocation]") {
    std::size_t failures = 0;
    bool retried = false;
    // A quarantine of every kind of change an undo log records differently: a create (q/k), an
    // addition to a counter and an erase of an object with fields.
    auto quarantined_store = [] {
        auto store = busy_store();
        resync::ResetCommit<doc::State, doc::Operation> more{
            store.state(), {}, store.sync_state(),
            {{2, 0, doc::AddInteger{"items", "k1", "n", 5}, "seed", resync::ResetReason::client_expired, 2},
             {2, 1, doc::EraseObject{"items", "k2"}, "seed", resync::ResetReason::client_expired, 2}}};
        REQUIRE(store.commit_reset(std::move(more)));
        return store;
    };
    for (long n = 0; n < 100000 && !retried; ++n) {
        auto store = quarantined_store();
        REQUIRE(store.quarantined().size() == 3);
        const Image before = image(store);
        bool threw = false;
        resync_test_allocation::fail_after = n;
        try {
            retried = store.retry_quarantined().has_value();
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        resync_test_allocation::fail_after = -1;
        if (!threw) {
            REQUIRE(retried);
            // The retry wrote the three as one new local change and emptied the quarantine:
            // q/k exists, k1's counter is 1 + 5, k2 is gone.
            CHECK(store.quarantined().empty());
            CHECK(store.state().find("q", "k") != nullptr);
            CHECK(store.get("items", "k1", "n") == doc::Value{std::int64_t{6}});
            CHECK(store.state().find("items", "k2") == nullptr);
            CHECK(store.unsynced().back().ops.size() == 3);
            break;
        }
        ++failures;
        INFO("allocation " << n << " failed");
        // As a failed local write leaves it: the same state, history and sync state (a write
        // reverted may leave an empty collection, which no state comparison sees), and the
        // quarantine whole.
        REQUIRE(image(store).store == before.store);
        REQUIRE(store.quarantined() == before.quarantine);
    }
    CHECK(retried);
    CHECK(failures > 0);
}

} // namespace RESYNC_TEST_FILE
