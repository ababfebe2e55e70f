// backup/file.hpp and backup/file_format.hpp, through their public use: `backup::File{dir}`
// writes a durable, owner-only, uniquely named backup file, and `resync::restore_backup` reads it
// back exactly, or says precisely why it cannot (cut short, damaged, too new, unreadable).

#include <resync/backup/file.hpp>
#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/error.hpp>
#include <resync/memory_store.hpp>
#include <resync/doc/codec.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>

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

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// A replica with data, one acknowledged and two unsynced changesets, and a sync state with a
/// pending-reset record (which a backup leaves out).
resync::MemoryStore store_with_unsynced_changes(std::size_t extra_objects = 0) {
    resync::MemoryStore store;
    resync::SyncState s;
    s.client_ident = 42;
    s.download = {7, 0xABCDEF0123456789ULL};
    s.epoch = 3;
    s.schema_version = 2;
    resync::PendingReset p;
    p.attempt = 2;
    p.mode = resync::ResetMode::discard;
    p.reason = resync::ResetReason::diverging_history;
    p.server_error = 211;
    p.message = "histories diverged";
    p.started_at_ms = 1700000000000;
    p.phase = resync::ResetPhase::backup;
    p.backup_path = "/somewhere/else.rsbk";
    s.pending_reset = p;
    REQUIRE_FALSE(store.write_sync_state(s));

    REQUIRE(store.write([](doc::Writer& w) {
        w.create("people", "ada").set("people", "ada", "name", doc::Value{std::string("Ada")});
        w.set("people", "ada", "age", doc::Value{std::int64_t{36}});
    }));
    REQUIRE(store.write([](doc::Writer& w) {
        w.create("tasks", "t1").set("tasks", "t1", "title", doc::Value{std::string("a\0b", 3)});
        w.add("people", "ada", "age", 1);
    }));
    REQUIRE(store.write([&](doc::Writer& w) {
        w.set("people", "ada", "ratio", doc::Value{0.25}).erase("people", "nobody");
        for (std::size_t i = 0; i < extra_objects; ++i) {
            const std::string key = "bulk-" + std::to_string(i);
            w.create("bulk", key).set("bulk", key, "text", doc::Value{std::string(200, 'x')});
        }
    }));
    const std::pair<resync::ClientVersion, std::uint64_t> acked[] = {{1, 8}};
    REQUIRE_FALSE(store.acknowledge(1, acked));
    REQUIRE(store.unsynced().size() == 2);
    return store;
}

resync::ResetTrigger sample_trigger() {
    resync::ResetTrigger t;
    t.reason = resync::ResetReason::diverging_history;
    t.recovery_allowed = false;
    t.server_error = {resync::server_code::diverging_histories, resync::ServerAction::reset_no_recovery,
                      "the server's history diverged from yours"};
    t.client_position = {7, 0xABCDEF0123456789ULL};
    t.server_position = {9, 0x1234};
    t.client_epoch = 3;
    t.server_epoch = 4;
    t.client_schema = 2;
    t.server_schema = 5;
    return t;
}

/// The sync state a backup of `store` holds: the store's, without its pending-reset record.
resync::SyncState backed_up_sync_state(const resync::MemoryStore& store) {
    resync::SyncState s = store.sync_state();
    s.pending_reset.reset();
    return s;
}

fs::path backup_of(const resync::MemoryStore& store, const fs::path& dir) {
    auto made = resync::backup::File{dir}.backup(store, sample_trigger(), {});
    REQUIRE(made.has_value());
    CHECK(made->keeps_unsynced);
    return made->location;
}

/// The oracle for a backup file of `store`: the version-2 layout assembled field by field, as
/// the format's description says (and as the reader reads it), with the snapshot and the frame
/// made apart and copied in. The creation time is the clock's: taken from `written`.
std::string version_2_layout(const resync::MemoryStore& store, std::string_view written) {
    std::string payload;
    resync::ByteWriter w(payload);
    resync::ByteReader created(written.substr(resync::detail::frame_header_size, 8));
    w.i64(created.i64());
    resync::detail::encode(w, backed_up_sync_state(store));
    resync::detail::encode(w, sample_trigger());
    w.str(doc::encode_snapshot(store.state()));
    const auto unsynced = store.unsynced();
    w.u64(unsynced.size());
    for (const auto& cs : unsynced) {
        w.u64(cs.client_version);
        w.u64(cs.server_version);
        doc::encode(w, cs.ops);
    }
    return resync::detail::frame(resync::backup_format::magic, 2, payload);
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

unsigned mode_of(const fs::path& p) {
    struct ::stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}

// Header of a backup file: magic [0, 8), version [8, 12), payload size [12, 20), CRC [20, 24).
constexpr std::size_t version_at = 8;
constexpr std::size_t size_at = 12;
constexpr std::size_t crc_at = 20;

/// Sets the process's file size limit for as long as it lives, with SIGXFSZ ignored so that
/// exceeding it fails the write (EFBIG) instead of killing the process; restores both after.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
        saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        REQUIRE(saved_handler_ != SIG_ERR);
        rlimit limited = saved_;
        limited.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, saved_handler_);
    }

private:
    rlimit saved_{};
    void (*saved_handler_)(int) = SIG_DFL;
};

} // namespace

static_assert(resync::BackupPolicy<resync::backup::File, resync::MemoryStore>);

// ------------------------------------------------------------------------------ writing

TEST_CASE("a file backup holds the state, the unsynced changes, the sync state and the trigger",
          "[backup][file]") {
    TempDir dir;
    const auto store = store_with_unsynced_changes();
    const auto before = now_ms();
    const fs::path path = backup_of(store, dir.path());
    const auto after = now_ms();

    CHECK(fs::is_regular_file(path));
    CHECK(path.parent_path() == dir.path());
    CHECK(path.extension() == resync::backup_format::extension);

    auto restored = resync::restore_backup(path);
    REQUIRE(restored.has_value());
    CHECK(restored->state == store.state());
    CHECK(restored->unsynced == store.unsynced());
    CHECK(restored->sync_state == backed_up_sync_state(store));
    CHECK_FALSE(restored->sync_state.pending_reset.has_value());
    CHECK(restored->trigger == sample_trigger());
    CHECK(restored->created_at_ms >= before);
    CHECK(restored->created_at_ms <= after);
}

TEST_CASE("a file backup of an empty store restores as empty", "[backup][file]") {
    TempDir dir;
    const resync::MemoryStore empty;
    auto restored = resync::restore_backup(backup_of(empty, dir.path()));
    REQUIRE(restored.has_value());
    CHECK(restored->state == doc::State{});
    CHECK(restored->unsynced.empty());
    CHECK(restored->sync_state == resync::SyncState{});
}

TEST_CASE("a file backup is readable by its owner only (mode 0600)", "[backup][file]") {
    TempDir dir;
    const fs::path path = backup_of(store_with_unsynced_changes(), dir.path());
    CHECK(mode_of(path) == 0600U);
}

TEST_CASE("a missing backup directory is created owner-only (mode 0700)", "[backup][file]") {
    TempDir dir;
    const fs::path missing = dir / "not" / "yet" / "there";
    const fs::path path = backup_of(store_with_unsynced_changes(), missing);
    CHECK(fs::is_directory(missing));
    CHECK(mode_of(missing) == 0700U);
    CHECK(path.parent_path() == missing);
    CHECK(resync::restore_backup(path).has_value());
}

TEST_CASE("backups in quick succession get different names and never overwrite each other",
          "[backup][file]") {
    TempDir dir;
    auto store = store_with_unsynced_changes();
    const doc::State first_state = store.state();
    const fs::path first = backup_of(store, dir.path());

    // The store changes, and the next backup follows at once: same second, same client ident.
    REQUIRE(store.write([](doc::Writer& w) { w.create("people", "bob"); }));
    const fs::path second = backup_of(store, dir.path());
    CHECK(first != second);

    auto a = resync::restore_backup(first);
    auto b = resync::restore_backup(second);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->state == first_state);
    CHECK(b->state == store.state());
    CHECK(a->unsynced.size() == 2);
    CHECK(b->unsynced.size() == 3);

    // A burst of identical backups: every one gets a file of its own.
    std::set<fs::path> paths{first, second};
    for (int i = 0; i < 25; ++i) paths.insert(backup_of(store, dir.path()));
    CHECK(paths.size() == 27);
    CHECK(dir.names().size() == 27);
}

TEST_CASE("a file backup leaves no temporary file behind", "[backup][file]") {
    TempDir dir;
    const auto store = store_with_unsynced_changes();
    std::set<std::string> written;
    for (int i = 0; i < 5; ++i) written.insert(backup_of(store, dir.path()).filename().string());
    const auto names = dir.names();
    CHECK(std::set<std::string>(names.begin(), names.end()) == written);
    for (const auto& name : names) {
        CAPTURE(name);
        CHECK(name.find(".tmp") == std::string::npos);
        CHECK(fs::path(name).extension() == resync::backup_format::extension);
    }
}

TEST_CASE("a file backup is the version-2 layout byte for byte: frame, then the payload fields in order",
          "[backup][file]") {
    // The oracle: the layout assembled field by field, as the format's description says (and as
    // the reader reads it), with the snapshot and the frame made apart and copied in.
    TempDir dir;
    const auto store = store_with_unsynced_changes(50);
    const fs::path path = backup_of(store, dir.path());
    const std::string bytes = read_all(path);
    REQUIRE(bytes.size() > crc_at + 4);
    CHECK(bytes == version_2_layout(store, bytes));
}

TEST_CASE("a file backup written in several pieces is the version-2 layout byte for byte",
          "[backup][file]") {
    // 6,000 objects of 200 characters: about 1.5 MB, more than one piece (backup_piece_size),
    // so the snapshot's length and both frames' size and checksum are filled in on the file.
    TempDir dir;
    const auto store = store_with_unsynced_changes(6000);
    const std::string bytes = read_all(backup_of(store, dir.path()));
    REQUIRE(bytes.size() > resync::backup::backup_piece_size);
    CHECK(bytes == version_2_layout(store, bytes));
    auto back = resync::restore_backup(backup_of(store, dir.path()).string());
    REQUIRE(back.has_value());
    CHECK(back->state == store.state());
}

TEST_CASE("a file backup into an existing directory fsyncs the file once and the directory once",
          "[backup][file]") {
    // Counted at the file hook, which the writer asks before each durable step.
    TempDir dir;
    const auto store = store_with_unsynced_changes(100);
    std::map<resync::FileStep, int> steps;
    const resync::FileHook counting = [&](resync::FileStep step, std::string_view) {
        ++steps[step];
        return std::error_code{};
    };
    resync::BackupContext context;
    context.hook = &counting;
    auto made = resync::backup::File{dir.path()}.backup(store, sample_trigger(), context);
    REQUIRE(made.has_value());
    CHECK(steps[resync::FileStep::sync] == 1);
    CHECK(steps[resync::FileStep::sync_directory] == 1);
    CHECK(steps[resync::FileStep::write] == 1);
    CHECK(steps[resync::FileStep::create] == 1);
    CHECK(steps[resync::FileStep::publish] == 1);
    CHECK(steps[resync::FileStep::create_directory] == 0);

    SECTION("a missing directory adds one fsync of its parent, no more") {
        steps.clear();
        auto again = resync::backup::File{(dir / "new").string()}.backup(store, sample_trigger(), context);
        REQUIRE(again.has_value());
        CHECK(steps[resync::FileStep::create_directory] == 1);
        CHECK(steps[resync::FileStep::sync] == 1);
        CHECK(steps[resync::FileStep::sync_directory] == 2);
    }
}

TEST_CASE("a backup that hits the file size limit fails with backup_io and leaves no file",
          "[backup][file][disk-full]") {
    TempDir dir;
    const auto store = store_with_unsynced_changes(200); // about 50 KB encoded
    std::optional<resync::Result<resync::BackupMade>> result;
    {
        // Nothing but the backup runs under the limit; the checks report after it is lifted.
        FileSizeLimit limit(4096);
        result.emplace(resync::backup::File{dir.path()}.backup(store, sample_trigger(), {}));
    }
    REQUIRE_FALSE(result->has_value());
    CHECK(result->error() == errc::backup_io);
    CHECK(dir.names().empty()); // not even a temporary file

    // The twin: with the limit lifted the same backup succeeds, and is larger than the limit was.
    const fs::path path = backup_of(store, dir.path());
    CHECK(fs::file_size(path) > 4096);
    CHECK(dir.names().size() == 1);
}

TEST_CASE("a backup into a directory that cannot be created fails with backup_io", "[backup][file]") {
    TempDir dir;
    write_all(dir / "a-file", "in the way");
    auto result = resync::backup::File{dir / "a-file" / "backups"}.backup(store_with_unsynced_changes(), sample_trigger(), {});
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == errc::backup_io);
    CHECK(dir.names() == std::vector<std::string>{"a-file"});
    CHECK(read_all(dir / "a-file") == "in the way");
}

// ------------------------------------------------------------------------------ bad input

TEST_CASE("a backup file cut short at any length is backup_truncated", "[backup][file][bad-input]") {
    TempDir dir;
    const fs::path path = backup_of(store_with_unsynced_changes(), dir.path());
    const auto size = fs::file_size(path);
    REQUIRE(size > resync::detail::frame_header_size);
    // Cut the real file shorter one byte at a time, reading it back through restore_backup.
    for (auto n = size; n-- > 0;) {
        fs::resize_file(path, n);
        CAPTURE(n, size);
        const auto r = resync::restore_backup(path);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::backup_truncated);
    }
}

TEST_CASE("an empty backup file is backup_truncated", "[backup][file][bad-input]") {
    TempDir dir;
    write_all(dir / "empty.rsbk", "");
    CHECK(resync::restore_backup(dir / "empty.rsbk").error() == errc::backup_truncated);
}

TEST_CASE("a short file that is not a backup is backup_corrupt", "[backup][file][bad-input]") {
    TempDir dir;
    write_all(dir / "short.rsbk", "RSYNX");
    CHECK(resync::restore_backup(dir / "short.rsbk").error() == errc::backup_corrupt);
    write_all(dir / "text.rsbk", "hello\n");
    CHECK(resync::restore_backup(dir / "text.rsbk").error() == errc::backup_corrupt);
}

TEST_CASE("a backup file with a byte altered anywhere is an error, never a value", "[backup][file][bad-input]") {
    TempDir dir;
    const fs::path original = backup_of(store_with_unsynced_changes(), dir.path());
    const std::string bytes = read_all(original);

    // Every header byte, and several hundred payload positions drawn with a fixed seed.
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < resync::detail::frame_header_size; ++i) positions.push_back(i);
    std::mt19937_64 rng(0xB4C6);
    for (int i = 0; i < 400; ++i) positions.push_back(rng() % bytes.size());
    positions.push_back(bytes.size() - 1);

    const fs::path damaged = dir / "damaged.rsbk";
    for (std::size_t i : positions) {
        const auto mask = static_cast<unsigned>(1 + rng() % 255);
        std::string copy = bytes;
        copy[i] = static_cast<char>(static_cast<unsigned char>(copy[i]) ^ mask);
        write_all(damaged, copy);
        CAPTURE(i, mask);
        const auto r = resync::restore_backup(damaged);
        REQUIRE_FALSE(r.has_value());
        if (i >= version_at && i < size_at) {
            // The version field now reads as another version: newer, or the invalid 0.
            CHECK((r.error() == errc::backup_version_unsupported || r.error() == errc::backup_corrupt));
        } else if (i >= size_at && i < crc_at) {
            // The size field now announces more (cut short) or fewer (bytes left over) bytes.
            CHECK((r.error() == errc::backup_truncated || r.error() == errc::backup_corrupt));
        } else {
            CHECK(r.error() == errc::backup_corrupt);
        }
    }
    // The damage never reached the original.
    CHECK(resync::restore_backup(original).has_value());
}

TEST_CASE("a backup file from a newer format version is backup_version_unsupported", "[backup][file][bad-input]") {
    TempDir dir;
    const std::string bytes = read_all(backup_of(store_with_unsynced_changes(), dir.path()));

    std::string newer = bytes;
    newer[version_at] = static_cast<char>(resync::backup_format::version + 1);
    write_all(dir / "newer.rsbk", newer);
    CHECK(resync::restore_backup(dir / "newer.rsbk").error() == errc::backup_version_unsupported);

    // A newer format may lay out its payload differently: the version is judged first.
    const std::string far_future = resync::detail::frame(resync::backup_format::magic, 0xFFFFFFFFU, "anything");
    write_all(dir / "future.rsbk", far_future);
    CHECK(resync::restore_backup(dir / "future.rsbk").error() == errc::backup_version_unsupported);

    // The twin: the same bytes with the current version restore.
    write_all(dir / "current.rsbk", bytes);
    CHECK(resync::restore_backup(dir / "current.rsbk").has_value());
}

TEST_CASE("a missing backup file is backup_missing", "[backup][file][bad-input]") {
    TempDir dir;
    const auto r = resync::restore_backup(dir / "never-written.rsbk");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::backup_missing);
}

TEST_CASE("a directory given as a backup file is an error, not a crash", "[backup][file][bad-input]") {
    TempDir dir;
    const auto r = resync::restore_backup(dir.path());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().category() == std::generic_category());
}

TEST_CASE("a file of random garbage is never a backup", "[backup][file][bad-input]") {
    TempDir dir;
    std::mt19937_64 rng(20261126);
    const fs::path path = dir / "garbage.rsbk";
    for (int round = 0; round < 100; ++round) {
        std::string garbage(rng() % 4096, '\0');
        for (char& c : garbage) c = static_cast<char>(rng());
        const bool with_magic = round % 2 == 1 && garbage.size() >= 8;
        if (with_magic) garbage.replace(0, 8, resync::backup_format::magic);
        else if (!garbage.empty() && garbage[0] == 'R') garbage[0] = 'X'; // surely not a backup's magic
        write_all(path, garbage);
        CAPTURE(round, garbage.size(), with_magic);
        const auto r = resync::restore_backup(path);
        REQUIRE_FALSE(r.has_value());
        if (!with_magic && !garbage.empty()) CHECK(r.error() == errc::backup_corrupt);
    }
}

TEST_CASE("a correctly framed backup with a hostile payload is backup_corrupt", "[backup][file][bad-input][hostile]") {
    TempDir dir;
    const fs::path path = dir / "hostile.rsbk";
    std::string payload;
    resync::ByteWriter w(payload);
    w.i64(0);
    resync::detail::encode(w, resync::SyncState{});
    resync::detail::encode(w, sample_trigger());
    w.str(doc::encode_snapshot(doc::State{}));

    SECTION("a huge count of unsynced changesets") {
        // A decoder that reserved for it would throw or abort, failing the test.
        w.u64(std::uint64_t{1} << 60);
        payload.append(64, '\0');
    }
    SECTION("a changeset with a huge operation count") {
        w.u64(1);
        w.u64(1);
        w.u64(0);
        w.u64(~std::uint64_t{0});
        payload.append(64, '\0');
    }
    SECTION("an unknown operation kind") {
        w.u64(1);
        w.u64(1);
        w.u64(0);
        doc::encode(w, doc::Changeset{doc::CreateObject{"c", "k"}});
        payload[payload.size() - (1 + 9 + 9)] = 9; // the operation's kind byte
    }
    SECTION("bytes after the last changeset") {
        w.u64(0);
        w.u8(0);
    }
    write_all(path, resync::detail::frame(resync::backup_format::magic, resync::backup_format::version, payload));
    std::optional<resync::Result<resync::BackupContents<doc::Model>>> r;
    REQUIRE_NOTHROW(r.emplace(resync::restore_backup(path)));
    REQUIRE_FALSE(r->has_value());
    CHECK(r->error() == errc::backup_corrupt);
}

TEST_CASE("a correctly framed backup with an impossible enum value is backup_corrupt",
          "[backup][file][bad-input][hostile]") {
    TempDir dir;
    auto with_reason = [](std::uint8_t reason) {
        std::string payload;
        resync::ByteWriter w(payload);
        w.i64(0);
        resync::detail::encode(w, resync::SyncState{});
        const std::size_t reason_at = payload.size();
        resync::detail::encode(w, sample_trigger());
        w.str(doc::encode_snapshot(doc::State{}));
        w.u64(0);
        payload[reason_at] = static_cast<char>(reason);
        return resync::detail::frame(resync::backup_format::magic, resync::backup_format::version, payload);
    };
    write_all(dir / "bad-reason.rsbk", with_reason(0));
    CHECK(resync::restore_backup(dir / "bad-reason.rsbk").error() == errc::backup_corrupt);
    write_all(dir / "bad-reason.rsbk", with_reason(200));
    CHECK(resync::restore_backup(dir / "bad-reason.rsbk").error() == errc::backup_corrupt);
    // The twin: a valid reason restores.
    write_all(dir / "good-reason.rsbk", with_reason(static_cast<std::uint8_t>(resync::ResetReason::client_expired)));
    auto ok = resync::restore_backup(dir / "good-reason.rsbk");
    REQUIRE(ok.has_value());
    CHECK(ok->trigger.reason == resync::ResetReason::client_expired);
}

} // namespace RESYNC_TEST_FILE
