// The game model's encodings (examples/game_world/game_world.hpp): operations and snapshots
// round-trip exactly, and every truncation and every bit flip of an encoded snapshot or
// operation gives an error or a value - never a crash, never a broken world. The same holds
// for backup files of a game store.

#include <support/game_world.hpp>

#include <game_world/game_world.hpp>

#include <resync/backup/file_format.hpp>
#include <resync/bytes.hpp>
#include <resync/detail/frame.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/protocol.hpp>
#include <resync/trigger.hpp>
#include <resync/wire/codec.hpp>

#include <catch2/catch.hpp>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using game::GameModel;
using game::Op;
using game::World;

std::string encoded(const Op& op) {
    std::string out;
    resync::ByteWriter w(out);
    GameModel::encode(w, op);
    return out;
}

std::optional<Op> decoded(std::string_view bytes, bool* at_end = nullptr) {
    resync::ByteReader r(bytes);
    auto op = GameModel::decode_operation(r);
    if (at_end) *at_end = r.at_end();
    return op;
}

/// Every invariant of a world: parallel arrays of one length, ids ascending, counts positive.
bool well_formed(const World& w) {
    const std::size_t n = w.entities.size();
    if (w.position.size() != n || w.health.size() != n || w.inventory.size() != n) return false;
    for (std::size_t i = 1; i < n; ++i)
        if (w.entities[i - 1] >= w.entities[i]) return false;
    for (const auto& items : w.inventory)
        for (const auto& [item, count] : items)
            if (count <= 0) return false;
    return true;
}

bool is_snapshot_error(std::error_code ec) {
    return ec == resync::errc::fresh_copy_corrupt || ec == resync::errc::fresh_copy_truncated;
}

std::vector<Op> every_kind_of_op() {
    return {game::spawn(1, {0, 0}),
            game::spawn(UINT32_MAX, {INT32_MIN, INT32_MAX}),
            game::despawn(42),
            game::move_to(3, {-7, 12}),
            game::set_health(4, -1),
            game::set_health(4, INT32_MAX),
            game::pick_up(5, 0xFFFF, 3),
            game::pick_up(5, 0, INT32_MIN),
            game::use_up(6, 2, 1)};
}

} // namespace

TEST_CASE("a game operation of every kind round-trips through its encoding, in 21 bytes", "[game][codec]") {
    for (const Op& op : every_kind_of_op()) {
        const std::string bytes = encoded(op);
        CHECK(bytes.size() == 21);
        bool at_end = false;
        const auto back = decoded(bytes, &at_end);
        REQUIRE(back.has_value());
        CHECK(*back == op);
        CHECK(at_end);
    }
}

TEST_CASE("every truncation of an encoded game operation, an unknown kind or an item out of range is refused",
          "[game][codec]") {
    for (const Op& op : every_kind_of_op()) {
        const std::string bytes = encoded(op);
        for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decoded(bytes.substr(0, n)).has_value());
    }
    std::string bytes = encoded(game::pick_up(1, 2, 3));
    for (unsigned char kind : {0, 7, 255}) {
        bytes[0] = static_cast<char>(kind);
        CHECK_FALSE(decoded(bytes).has_value());
    }
    bytes = encoded(game::pick_up(1, 2, 3));
    bytes[19] = 1; // the item's third byte: 0x10002
    CHECK_FALSE(decoded(bytes).has_value());
}

TEST_CASE("every bit flip of an encoded game operation decodes to nothing or to the operation those bytes encode",
          "[game][codec]") {
    for (const Op& op : every_kind_of_op()) {
        const std::string bytes = encoded(op);
        for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
            std::string flipped = bytes;
            flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
            const auto back = decoded(flipped);
            if (back) CHECK(encoded(*back) == flipped);
        }
    }
}

TEST_CASE("random game worlds round-trip through the snapshot encoding", "[game][codec]") {
    game_test::RandomGame random(7);
    CHECK(GameModel::decode_snapshot(GameModel::encode_snapshot(World{})).value() == World{});
    for (int i = 0; i < 200; ++i) {
        const World w = random.world(static_cast<int>(random.pick(0, 30)));
        auto back = GameModel::decode_snapshot(GameModel::encode_snapshot(w));
        REQUIRE(back);
        CHECK(*back == w);
    }
}

TEST_CASE("every truncation and every bit flip of an encoded game snapshot is an error, never a crash or a wrong "
          "world",
          "[game][codec]") {
    game_test::RandomGame random(11);
    const World w = random.world(20);
    REQUIRE(w.entities.size() >= 3);
    const std::string bytes = GameModel::encode_snapshot(w);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const auto cut = GameModel::decode_snapshot(std::string_view(bytes).substr(0, n));
        REQUIRE_FALSE(cut);
        CHECK(is_snapshot_error(cut.error()));
    }
    // The frame's checksum catches every single flipped bit, in the header or the payload.
    for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
        std::string flipped = bytes;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        const auto back = GameModel::decode_snapshot(flipped);
        INFO("bit " << bit);
        REQUIRE_FALSE(back);
        CHECK(is_snapshot_error(back.error()));
    }
}

TEST_CASE("a game snapshot whose checksum is right but whose payload is hostile is an error or a well-formed world",
          "[game][codec]") {
    const auto framed = [](const std::string& payload) { return resync::detail::frame("GAMEWRLD", 1, payload); };
    // A count of operations the bytes cannot hold: refused before anything is allocated.
    std::string payload;
    resync::ByteWriter w(payload);
    w.u64(std::uint64_t{1} << 60);
    CHECK(GameModel::decode_snapshot(framed(payload)).error() == resync::errc::fresh_copy_corrupt);
    // Trailing bytes after the operations.
    payload.clear();
    w.u64(1);
    GameModel::encode(w, game::spawn(1, {0, 0}));
    payload += "x";
    CHECK(GameModel::decode_snapshot(framed(payload)).error() == resync::errc::fresh_copy_corrupt);
    // Any operations at all - despawns of missing entities, spawns out of order, huge counts -
    // build a well-formed world, which encodes and decodes to itself.
    game_test::RandomGame random(3);
    for (int i = 0; i < 300; ++i) {
        payload.clear();
        const auto n = random.pick(0, 40);
        w.u64(n);
        for (std::uint32_t k = 0; k < n; ++k) {
            Op op = random.op();
            if (random.pick(0, 9) == 0) op.value = random.pick(0, 1) ? INT32_MAX : INT32_MIN;
            GameModel::encode(w, op);
        }
        auto world = GameModel::decode_snapshot(framed(payload));
        REQUIRE(world);
        CHECK(well_formed(*world));
        CHECK(GameModel::decode_snapshot(GameModel::encode_snapshot(*world)).value() == *world);
    }
    // Random bytes under a right checksum: an error or a well-formed world.
    std::mt19937_64 rng(5);
    for (int i = 0; i < 2000; ++i) {
        std::string junk(rng() % 64, '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        if (junk.size() >= 8 && i % 2) junk.replace(0, 8, std::string("\x01\0\0\0\0\0\0\0", 8));
        auto world = GameModel::decode_snapshot(framed(junk));
        if (world) CHECK(well_formed(*world));
        else CHECK(is_snapshot_error(world.error()));
    }
}

TEST_CASE("a backup file of a game world round-trips, and every truncation and bit flip of it is an error",
          "[game][codec][backup]") {
    game_test::RandomGame random(13);
    resync::BackupContents<GameModel> b;
    b.created_at_ms = 1'700'000'000'000;
    b.sync_state.client_ident = 4;
    b.trigger.reason = resync::ResetReason::server_rollback;
    b.state = random.world(12);
    b.unsynced = {{3, 0, {game::pick_up(1, 1, 3), game::move_to(1, {2, 2})}}, {4, 0, {game::use_up(1, 2, 1)}}};
    const std::string bytes = resync::backup_format::encode<GameModel>(b);
    auto back = resync::backup_format::decode<GameModel>(bytes);
    REQUIRE(back);
    CHECK(back->state == b.state);
    CHECK(back->unsynced == b.unsynced);
    CHECK(back->sync_state == b.sync_state);
    for (std::size_t n = 0; n < bytes.size(); n += 3) CHECK_FALSE(resync::backup_format::decode<GameModel>(bytes.substr(0, n)));
    for (std::size_t bit = 0; bit < bytes.size() * 8; bit += 5) {
        std::string flipped = bytes;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        CHECK_FALSE(resync::backup_format::decode<GameModel>(flipped));
    }
}

TEST_CASE("game operations travel the wire codec: an upload and a download of them decode to themselves, every "
          "truncation is an error",
          "[game][codec][wire]") {
    resync::protocol::Upload<Op> up;
    up.ident = 3;
    up.download = {7, 77};
    up.changesets = {{1, 0, every_kind_of_op()}, {2, 0, {game::pick_up(1, 1, 3)}}};
    const std::string frame = resync::wire::encode<GameModel>(resync::protocol::ClientMessage<Op>(up));
    auto back = resync::wire::decode_client<GameModel>(frame);
    REQUIRE(back);
    const auto* upload = std::get_if<resync::protocol::Upload<Op>>(&*back);
    REQUIRE(upload != nullptr);
    CHECK(upload->changesets == up.changesets);
    for (std::size_t n = 0; n < frame.size(); n += 7) CHECK_FALSE(resync::wire::decode_client<GameModel>(frame.substr(0, n)));

    resync::protocol::Download<Op> down;
    down.ident = 3;
    down.base = {7, 77};
    down.latest = {8, 88};
    down.entries = {{8, 88, 4, 2, {game::despawn(7), game::move_to(1, {-3, 4})}}};
    auto got = resync::wire::decode_server<GameModel>(resync::wire::encode<GameModel>(resync::protocol::ServerMessage<Op>(down)));
    REQUIRE(got);
    const auto* download = std::get_if<resync::protocol::Download<Op>>(&*got);
    REQUIRE(download != nullptr);
    CHECK(download->entries == down.entries);
}

} // namespace RESYNC_TEST_FILE
