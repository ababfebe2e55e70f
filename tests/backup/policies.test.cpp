// backup/none.hpp, backup/snapshot.hpp, backup/callback.hpp, and MemoryStore::save / load:
// what each backup model promises, and a store saved to disk coming back whole or with a typed
// error.

#include <resync/backup/callback.hpp>
#include <resync/backup/none.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/detail/frame.hpp>
#include <resync/error.hpp>
#include <resync/memory_store.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
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
namespace fs = std::filesystem;
using resync::errc;
using resync_test::TempDir;

resync::ResetTrigger sample_trigger() {
    resync::ResetTrigger t;
    t.reason = resync::ResetReason::client_expired;
    t.server_error = {resync::server_code::client_file_expired, resync::ServerAction::reset, "expired"};
    t.client_position = {3, 33};
    return t;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

doc::Value text(const char* s) { return doc::Value{std::string(s)}; }

using Remote = resync::RemoteChangeset<doc::Operation>;

/// A replica with every kind of history entry: one changeset the server sent back (part of the
/// synced base), one acknowledged but not yet sent back, two unsynced; another client's change
/// integrated under them; and a pending-reset record in its sync state.
resync::MemoryStore store_with_history() {
    resync::MemoryStore store;
    resync::SyncState s;
    s.client_ident = 42;
    s.epoch = 5;
    s.schema_version = 1;
    resync::PendingReset p;
    p.attempt = 3;
    p.mode = resync::ResetMode::recover;
    p.reason = resync::ResetReason::server_rollback;
    p.server_error = 209;
    p.message = "bad server version";
    p.started_at_ms = 1700000000123;
    p.phase = resync::ResetPhase::replay;
    p.awaiting_user = true;
    p.backup_path = "/backups/x.rsbk";
    s.pending_reset = p;
    REQUIRE_FALSE(store.write_sync_state(s));

    auto v1 = store.write([](doc::Writer& w) {
        w.create("people", "ada").set("people", "ada", "name", text("Ada")).set("people", "ada", "age",
                                                                                  doc::Value{std::int64_t{36}});
    });
    auto v2 = store.write([](doc::Writer& w) { w.add("people", "ada", "age", 1); });
    auto v3 = store.write([](doc::Writer& w) {
        w.set("people", "ada", "name", text("Ada L.")).create("tasks", "t1");
    });
    auto v4 = store.write([](doc::Writer& w) {
        w.set("tasks", "t1", "ratio", doc::Value{0.5}).erase("people", "ghost");
    });
    REQUIRE((v1 && v2 && v3 && v4));
    REQUIRE(*v4 == 4);

    // The server sends back v1 and another client's change; then acknowledges v2.
    const std::vector<Remote> down{
        Remote{1, 101, 42, 1, store.unsynced()[0].ops},
        Remote{2, 102, 7, 1, {doc::CreateObject{"people", "bob"}, doc::SetField{"people", "bob", "name", text("Bob")}}},
    };
    REQUIRE_FALSE(store.integrate(down));
    const std::pair<resync::ClientVersion, std::uint64_t> acked[] = {{2, 3}};
    REQUIRE_FALSE(store.acknowledge(2, acked));

    REQUIRE(store.unsynced().size() == 2);
    REQUIRE(store.acknowledged_after(0).size() == 2);
    return store;
}

/// Everything observable of a MemoryStore, to compare two of them.
void check_same_store(const resync::MemoryStore& a, const resync::MemoryStore& b) {
    CHECK(a.state() == b.state());
    CHECK(a.sync_state() == b.sync_state());
    CHECK(a.unsynced() == b.unsynced());
    CHECK(a.acknowledged_after(0) == b.acknowledged_after(0));
    CHECK(a.last_client_version() == b.last_client_version());
}

} // namespace

// ------------------------------------------------------------------------------ the models

static_assert(resync::BackupPolicy<resync::backup::None, resync::MemoryStore>);
static_assert(resync::BackupPolicy<resync::backup::Snapshot, resync::MemoryStore>);
static_assert(std::is_empty_v<resync::backup::None>);
static_assert(std::is_empty_v<resync::backup::Snapshot>);

TEST_CASE("backup::None keeps nothing and reports an empty location", "[backup][policies]") {
    STATIC_REQUIRE_FALSE(resync::backup::None::keeps_before_state);
    const resync::MemoryStore store;
    auto where = resync::backup::None{}.backup(store, sample_trigger(), {});
    REQUIRE(where.has_value());
    CHECK(where->location.empty());
    CHECK_FALSE(where->keeps_unsynced);
}

TEST_CASE("backup::Snapshot keeps the before-state in memory", "[backup][policies]") {
    STATIC_REQUIRE(resync::backup::Snapshot::keeps_before_state);
    const auto store = store_with_history();
    auto where = resync::backup::Snapshot{}.backup(store, sample_trigger(), {});
    REQUIRE(where.has_value());
    CHECK(where->location == "memory");
    CHECK_FALSE(where->keeps_unsynced); // memory is not durable: the keeping rule keeps discards elsewhere
}

TEST_CASE("backup::Callback calls the function with the store and the trigger", "[backup][policies][callback]") {
    const auto store = store_with_history();
    int calls = 0;
    const resync::MemoryStore* seen_store = nullptr;
    resync::ResetTrigger seen_trigger;
    resync::backup::Callback callback{[&](const resync::MemoryStore& s, const resync::ResetTrigger& t) {
        ++calls;
        seen_store = &s;
        seen_trigger = t;
        return std::error_code{};
    }};
    STATIC_REQUIRE(resync::BackupPolicy<decltype(callback), resync::MemoryStore>);
    STATIC_REQUIRE_FALSE(decltype(callback)::keeps_before_state);

    auto where = callback.backup(store, sample_trigger(), {});
    REQUIRE(where.has_value());
    CHECK(where->location == "callback");
    CHECK(calls == 1);
    CHECK(seen_store == &store); // the store itself, not a copy
    CHECK(seen_trigger == sample_trigger());
}

TEST_CASE("backup::Callback propagates the function's error, which stops the backup",
          "[backup][policies][callback]") {
    const resync::MemoryStore store;
    const std::error_code failure = GENERATE(std::make_error_code(std::errc::no_space_on_device),
                                             resync::make_error_code(errc::backup_io),
                                             std::error_code(EIO, std::system_category()));
    int calls = 0;
    resync::backup::Callback callback{[&](const resync::MemoryStore&, const resync::ResetTrigger&) {
        ++calls;
        return failure;
    }};
    auto where = callback.backup(store, sample_trigger(), {});
    CHECK(calls == 1);
    REQUIRE_FALSE(where.has_value());
    CHECK(where.error() == failure); // the same code in the same category, not a translation
}

// ------------------------------------------------------------------- MemoryStore save / load

TEST_CASE("MemoryStore::save and load round-trip data, history and sync state", "[backup][policies][save]") {
    TempDir dir;
    const auto store = store_with_history();
    const fs::path path = dir / "store.rsst";
    REQUIRE_FALSE(store.save(path));

    auto loaded = resync::MemoryStore::load(path);
    REQUIRE(loaded.has_value());
    check_same_store(*loaded, store);
    REQUIRE(loaded->sync_state().pending_reset.has_value());
    CHECK(*loaded->sync_state().pending_reset == *store.sync_state().pending_reset);
}

TEST_CASE("a loaded MemoryStore goes on exactly like the one that was saved", "[backup][policies][save]") {
    // The undo logs of unsynced changes are saved too: integrating a conflicting server change
    // rewinds and replays them, so a lost or wrong undo log shows up as a different state.
    TempDir dir;
    auto original = store_with_history();
    REQUIRE_FALSE(original.save(dir / "store.rsst"));
    auto loaded = resync::MemoryStore::load(dir / "store.rsst");
    REQUIRE(loaded.has_value());

    const std::vector<Remote> down{
        Remote{3, 103, 42, 2, original.acknowledged_after(2).at(0).ops},
        Remote{4, 104, 7, 2,
               {doc::SetField{"people", "ada", "name", text("Remote")}, doc::CreateObject{"tasks", "t1"},
                doc::SetField{"tasks", "t1", "ratio", doc::Value{9.0}}, doc::AddInteger{"people", "ada", "age", 100}}},
    };
    for (auto* s : {&original, &*loaded}) {
        REQUIRE_FALSE(s->integrate(down));
        auto v = s->write([](doc::Writer& w) { w.add("people", "ada", "age", 1000); });
        REQUIRE(v.has_value());
        CHECK(*v == 5);
    }
    check_same_store(*loaded, original);
    // The local changes stay on top of the server's.
    CHECK(loaded->get("people", "ada", "name") == text("Ada L."));
    CHECK(loaded->get("people", "ada", "age") == doc::Value{std::int64_t{36 + 1 + 100 + 1000}});
}

TEST_CASE("MemoryStore::save replaces an earlier save and leaves no temporary file", "[backup][policies][save]") {
    TempDir dir;
    auto store = store_with_history();
    const fs::path path = dir / "store.rsst";
    REQUIRE_FALSE(store.save(path));
    REQUIRE(store.write([](doc::Writer& w) { w.create("later", "x"); }));
    REQUIRE_FALSE(store.save(path));

    CHECK(dir.names() == std::vector<std::string>{"store.rsst"});
    auto loaded = resync::MemoryStore::load(path);
    REQUIRE(loaded.has_value());
    check_same_store(*loaded, store);
}

TEST_CASE("an empty MemoryStore round-trips", "[backup][policies][save]") {
    TempDir dir;
    const resync::MemoryStore empty;
    REQUIRE_FALSE(empty.save(dir / "empty.rsst"));
    auto loaded = resync::MemoryStore::load(dir / "empty.rsst");
    REQUIRE(loaded.has_value());
    check_same_store(*loaded, empty);
}

TEST_CASE("MemoryStore::load of a damaged file is a typed error, never a store", "[backup][policies][save][bad-input]") {
    TempDir dir;
    const fs::path saved = dir / "store.rsst";
    REQUIRE_FALSE(store_with_history().save(saved));
    const std::string bytes = read_all(saved);
    const fs::path path = dir / "damaged.rsst";

    SECTION("cut short at any length: backup_truncated") {
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            write_all(path, bytes.substr(0, n));
            CAPTURE(n, bytes.size());
            const auto r = resync::MemoryStore::load(path);
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == errc::backup_truncated);
        }
    }
    SECTION("a payload or checksum byte altered: backup_corrupt") {
        std::mt19937_64 rng(5150);
        for (int i = 0; i < 300; ++i) {
            const std::size_t at = 20 + rng() % (bytes.size() - 20);
            std::string copy = bytes;
            copy[at] = static_cast<char>(static_cast<unsigned char>(copy[at]) ^ (1 + rng() % 255));
            write_all(path, copy);
            CAPTURE(at);
            const auto r = resync::MemoryStore::load(path);
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == errc::backup_corrupt);
        }
    }
    SECTION("a newer format version: backup_version_unsupported") {
        std::string copy = bytes;
        copy[8] = 2;
        write_all(path, copy);
        CHECK(resync::MemoryStore::load(path).error() == errc::backup_version_unsupported);
    }
    SECTION("bytes appended: backup_corrupt") {
        write_all(path, bytes + '\0');
        CHECK(resync::MemoryStore::load(path).error() == errc::backup_corrupt);
    }
    SECTION("another kind of file: backup_corrupt") {
        write_all(path, resync::detail::frame("RSYNBKUP", 1, bytes.substr(resync::detail::frame_header_size)));
        CHECK(resync::MemoryStore::load(path).error() == errc::backup_corrupt);
    }
    SECTION("a correctly framed payload with bytes left over: backup_corrupt") {
        write_all(path, resync::detail::frame("RSYNSTOR", 1, bytes.substr(resync::detail::frame_header_size) + "x"));
        CHECK(resync::MemoryStore::load(path).error() == errc::backup_corrupt);
        // The twin: the untouched payload in the same frame loads.
        write_all(path, resync::detail::frame("RSYNSTOR", 1, bytes.substr(resync::detail::frame_header_size)));
        CHECK(resync::MemoryStore::load(path).has_value());
    }
    SECTION("missing: the OS error ENOENT") {
        const auto r = resync::MemoryStore::load(dir / "never-saved.rsst");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == std::errc::no_such_file_or_directory);
    }
}

} // namespace RESYNC_TEST_FILE
