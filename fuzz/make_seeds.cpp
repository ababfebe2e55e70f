// Writes the fuzzers' seed corpora: valid encodings of small but varied values, in the input
// layout of fuzz_support.hpp. Run by fuzz/run before fuzzing, so no binary seed is committed and
// the seeds always match the current formats.
//
//   make_seeds <dir>    writes <dir>/<fuzzer>/<seed> for every fuzzer in fuzz/
//
// The seeds cover: empty values; states with lists, every value type, strings and names with
// NUL bytes, an empty collection, -0.0 and NaN; every operation kind (inserts and moves with and
// without a predecessor, a field set to a list); sync states with and without a pending-reset
// record; backups with unsynced changes; saved stores with acknowledged, in-base and unsynced
// history and a quarantine.
#include "fuzz_support.hpp"

#include <resync/backup/file_format.hpp>
#include <resync/doc/model.hpp>
#include <resync/protocol.hpp>
#include <resync/wire/codec.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/detail/sync_state_codec.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/memory_store.hpp>
#include <resync/reset_commit.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace doc = resync::doc;
using namespace std::string_literals;

fs::path out_dir;
int written = 0;

void write_seed(const std::string& fuzzer, const std::string& name, const std::string& bytes) {
    const fs::path dir = out_dir / fuzzer;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
    ++written;
}

/// Writes a framed encoding both ways a framed input can be given: whole (control 0) and as its
/// payload for the fuzzer to frame (control 1), so mutations reach both the frame checks and the
/// decoder behind them.
void write_framed_seeds(const std::string& fuzzer, const std::string& name, const std::string& framed) {
    write_seed(fuzzer, name + ".whole", "\x00"s + framed);
    write_seed(fuzzer, name + ".payload", "\x01"s + framed.substr(resync::detail::frame_header_size));
}

/// A snapshot seed cut into pieces at `cuts` (at most 7), given as a payload.
void write_snapshot_cut_seed(const std::string& name, const std::string& framed, const std::vector<std::uint16_t>& cuts) {
    std::string seed(1, static_cast<char>(resync_fuzz::frame_payload | (cuts.size() << 1)));
    for (std::uint16_t c : cuts) {
        seed.push_back(static_cast<char>(c & 0xFF));
        seed.push_back(static_cast<char>(c >> 8));
    }
    seed += framed.substr(resync::detail::frame_header_size);
    write_seed("snapshot", name, seed);
}

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
}

doc::State rich_state() {
    doc::State s;
    doc::List list;
    list.elements = {{{1, 1}, doc::Scalar{std::int64_t{-7}}},
                     {{1, 2}, doc::Scalar{"two\0with nul"s}},
                     {{2, 1}, doc::Scalar{true}},
                     {{2, 2}, doc::Scalar{2.5}},
                     {{3, 9}, doc::Scalar{doc::Null{}}}};
    s.collections["people"]["ada"] = doc::Object{{"name", doc::Value{"Ada"s}},
                                                 {"age", doc::Value{std::int64_t{36}}},
                                                 {"height", doc::Value{1.65}},
                                                 {"admin", doc::Value{true}},
                                                 {"tags", doc::Value{list}}};
    s.collections["people"]["bob"] = doc::Object{};
    s.collections["people"]["nul\0key"s] = doc::Object{{"f\0"s, doc::Value{all_bytes()}}};
    s.collections["tasks"]["t1"] = doc::Object{{"done", doc::Value{false}},
                                               {"rank", doc::Value{std::numeric_limits<std::int64_t>::min()}},
                                               {"zero", doc::Value{-0.0}},
                                               {"nan", doc::Value{std::numeric_limits<double>::quiet_NaN()}},
                                               {"empty list", doc::Value{doc::List{}}}};
    s.collections["emptied"];  // an empty collection is encoded too
    s.collections[""][""] = doc::Object{{"", doc::Value{std::string()}}};
    return s;
}

/// One operation of every kind, with and without the optional parts.
doc::Changeset every_operation() {
    doc::List list;
    list.elements = {{{5, 1}, doc::Scalar{"x"s}}};
    return {
        doc::CreateObject{"tasks", "t2"},
        doc::SetField{"tasks", "t2", "title", doc::Value{"call\0back"s}},
        doc::SetField{"tasks", "t2", "items", doc::Value{list}},
        doc::SetField{"tasks", "t2", "gone", doc::Value{doc::Null{}}},
        doc::AddInteger{"tasks", "t1", "rank", -3},
        doc::ListInsert{"people", "ada", "tags", std::nullopt, {9, 1}, doc::Scalar{1.5}},
        doc::ListInsert{"people", "ada", "tags", doc::ElementId{1, 1}, {9, 2}, doc::Scalar{"after"s}},
        doc::ListErase{"people", "ada", "tags", {1, 2}},
        doc::ListMove{"people", "ada", "tags", {2, 1}, std::nullopt},
        doc::ListMove{"people", "ada", "tags", {2, 2}, doc::ElementId{9, 1}},
        doc::ListSet{"people", "ada", "tags", {9, 2}, doc::Scalar{false}},
        doc::ListClear{"tasks", "t2", "items"},
        doc::EraseObject{"people", "bob"},
    };
}

resync::SyncState sync_state(bool pending) {
    resync::SyncState s;
    s.client_ident = 7;
    s.download = {12, 0xDEADBEEF};
    s.upload_acked = 4;
    s.epoch = 3;
    s.schema_version = 2;
    if (pending) {
        resync::PendingReset p;
        p.attempt = 2;
        p.mode = resync::ResetMode::discard;
        p.reason = resync::ResetReason::diverging_history;
        p.server_error = 209;
        p.message = "bad\0client"s;
        p.started_at_ms = 1700000000000;
        p.phase = resync::ResetPhase::fetch;
        p.awaiting_user = true;
        p.backup_path = "/var/lib/app/backups/resync-backup-1.rsbk";
        s.pending_reset = p;
    }
    return s;
}

resync::ResetTrigger trigger() {
    resync::ResetTrigger t;
    t.reason = resync::ResetReason::server_rollback;
    t.recovery_allowed = false;
    t.server_error = {211, resync::ServerAction::reset_no_recovery, "restored from a backup"};
    t.client_position = {12, 0xDEADBEEF};
    t.server_position = {9, 0xFEED};
    t.client_epoch = 3;
    t.server_epoch = 3;
    t.client_schema = 2;
    t.server_schema = 2;
    return t;
}

void snapshot_seeds() {
    const doc::State empty;
    doc::State one;
    one.collections["c"]["k"] = doc::Object{{"f", doc::Value{std::int64_t{1}}}};
    const std::vector<std::pair<std::string, doc::State>> states = {
        {"empty", empty}, {"one", one}, {"rich", rich_state()}};
    for (const auto& [name, state] : states) {
        const std::string framed = doc::encode_snapshot(state);
        write_framed_seeds("snapshot", name, framed);
        write_snapshot_cut_seed(name + ".cut", framed, {0, 3, 3, 17, 40});
    }
    write_snapshot_cut_seed("rich.cut-header", doc::encode_snapshot(rich_state()), {2, 9, 23, 24, 25});
}

void sync_state_seeds() {
    for (bool pending : {false, true}) {
        std::string bytes;
        resync::ByteWriter w(bytes);
        resync::detail::encode(w, sync_state(pending));
        resync::detail::encode(w, pending ? trigger() : resync::ResetTrigger{});
        write_seed("sync_state", pending ? "pending" : "no-pending", bytes);
    }
    std::string zero;
    resync::ByteWriter w(zero);
    resync::detail::encode(w, resync::SyncState{});
    resync::detail::encode(w, resync::ResetTrigger{});
    write_seed("sync_state", "default", zero);
}

void backup_seeds() {
    resync::BackupContents<resync::doc::Model> b;
    write_framed_seeds("backup_file", "empty", resync::backup_format::encode(b));
    b.created_at_ms = 1700000000123;
    b.sync_state = sync_state(false);
    b.trigger = trigger();
    b.state = rich_state();
    b.unsynced = {{5, 0, every_operation()}, {6, 0, {doc::CreateObject{"tasks", "t3"}}}, {7, 0, {}}};
    write_framed_seeds("backup_file", "unsynced", resync::backup_format::encode(b));
}

/// A store's saved file, read back.
std::string saved(const resync::MemoryStore& store) {
    const std::string path = (out_dir / "store.tmp").string();
    if (auto ec = store.save(path)) throw std::system_error(ec, "saving a seed store");
    auto bytes = resync::detail::read_file(path);
    fs::remove(path);
    if (!bytes) throw std::system_error(bytes.error(), "reading a seed store");
    return *bytes;
}

void memory_store_seeds() {
    write_framed_seeds("memory_store_file", "empty", saved(resync::MemoryStore(1)));

    // Acknowledged and in-base history, unsynced changes with lists, a pending reset.
    resync::MemoryStore store(42);
    (void)store.write_sync_state(sync_state(true));
    (void)store.write([](doc::Writer& w) { w.create("tasks", "t1").set("tasks", "t1", "title", "one"s); });
    (void)store.write([](doc::Writer& w) {
        w.list_push_back("tasks", "t1", "steps", "a\0b"s);
        w.list_push_back("tasks", "t1", "steps", std::int64_t{2});
    });
    (void)store.write([](doc::Writer& w) { w.create("people", "ada").add("tasks", "t1", "n", 1); });
    const std::vector<std::pair<resync::ClientVersion, std::uint64_t>> acked = {{1, 13}};
    (void)store.acknowledge(1, acked);
    const std::vector<resync::RemoteChangeset<doc::Operation>> remote = {
        {13, 0xA, 7, 1, {doc::CreateObject{"tasks", "t1"}, doc::SetField{"tasks", "t1", "title", doc::Value{"one"s}}}},
        {14, 0xB, 99, 1, {doc::CreateObject{"tasks", "from-server"}}}};
    (void)store.integrate(remote);
    write_framed_seeds("memory_store_file", "history", saved(store));

    // After a reset commit: a recovered history and a quarantine.
    resync::MemoryStore reset(43);
    resync::ResetCommit<doc::State, doc::Operation> commit;
    commit.state = rich_state();
    commit.history = {{1, 0, every_operation()}};
    commit.sync_state = sync_state(false);
    commit.quarantine = {{3, 1, doc::SetField{"gone", "x", "f", doc::Value{1.0}}, "the server erased the object",
                          resync::ResetReason::server_rollback, 1700000000999}};
    (void)reset.commit_reset(std::move(commit));
    write_framed_seeds("memory_store_file", "after-reset", saved(reset));
}

/// One frame of each of the nine protocol messages, and a stream of all of them (control byte 0:
/// as given; byte 1: cut seed).
void wire_seeds() {
    namespace protocol = resync::protocol;
    using Op = doc::Operation;
    resync::LocalChangeset<Op> cs{3, 0, {doc::CreateObject{"c", "k"}, doc::SetField{"c", "k", "f", std::string("v\0w", 3)}}};
    protocol::FreshRequest fresh_request{7, 64, {5, 99}, 8, 1024, {1, 2, 3}};
    protocol::FreshChunk chunk;
    chunk.position = {5, 99};
    chunk.new_ident = 8;
    chunk.total_bytes = 10;
    chunk.bytes = "0123456789";
    chunk.probes = {protocol::Probe{1, true, 7, 1, false}, protocol::Probe{2, false, 0, 0, true}};
    protocol::Download<Op> download{7, {1, 11}, {2, 22}, {resync::RemoteChangeset<Op>{2, 22, 7, 3, cs.ops}}};
    const std::string frames[] = {
        resync::wire::encode<doc::Model>(protocol::ClientMessage<Op>(protocol::Hello{7, {1, 11}, 2, 3, 1})),
        resync::wire::encode<doc::Model>(protocol::ClientMessage<Op>(protocol::Upload<Op>{7, {1, 11}, {cs}})),
        resync::wire::encode<doc::Model>(protocol::ClientMessage<Op>(protocol::Pull{7, {1, 11}, 256})),
        resync::wire::encode<doc::Model>(protocol::ClientMessage<Op>(fresh_request)),
        resync::wire::encode<doc::Model>(protocol::ServerMessage<Op>(protocol::Welcome{7, {2, 22}, 11, 1, 9, 1})),
        resync::wire::encode<doc::Model>(protocol::ServerMessage<Op>(download)),
        resync::wire::encode<doc::Model>(protocol::ServerMessage<Op>(protocol::UploadAck{7, 3, {{3, 2}}})),
        resync::wire::encode<doc::Model>(protocol::ServerMessage<Op>(chunk)),
        resync::wire::encode<doc::Model>(protocol::ServerMessage<Op>(
            resync::ServerError{209, resync::ServerAction::reset, "the server was restored"})),
    };
    std::string stream;
    int n = 0;
    for (const auto& f : frames) {
        write_seed("wire_codec", "message-" + std::to_string(n++), "\x00\x00"s + f);
        stream += f;
    }
    write_seed("wire_codec", "stream", "\x00\x07"s + stream);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <dir>   writes <dir>/<fuzzer>/<seed> for every fuzzer\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    fs::create_directories(out_dir);
    snapshot_seeds();
    sync_state_seeds();
    backup_seeds();
    memory_store_seeds();
    wire_seeds();
    std::printf("make_seeds: wrote %d seeds to %s\n", written, out_dir.c_str());
    return 0;
}
