// postgres::Storage (include/resync/postgres/) under server::Engine, driven at the protocol
// level in a fresh database: hostile bytes are stored and read back byte-exact and never run as
// SQL; an upload is one transaction that a database error rolls back whole, and its retry
// applies it once; a fresh copy is one consistent snapshot even while uploads commit; idents
// are never handed out twice, a restore from a dump included; the connection string's password
// never appears in an error or a log line.
#include <pg/support.hpp>

#include <resync/doc/codec.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;
using resync_pg_test::Engine;
using resync_pg_test::Storage;
using resync_pg_test::TestDatabase;
using Op = doc::Operation;
using Local = LocalChangeset<Op>;
using Message = protocol::ServerMessage<Op>;

namespace {

template <class T>
T only(std::vector<Message> replies) {
    REQUIRE(replies.size() == 1);
    std::string why;
    if (auto* e = std::get_if<ServerError>(&replies[0])) why = "server error " + std::to_string(e->code) + ": " + e->message;
    INFO(why);
    REQUIRE(std::holds_alternative<T>(replies[0]));
    return std::get<T>(std::move(replies[0]));
}

Storage storage_for(const TestDatabase& db) {
    postgres::StorageOptions o;
    o.conninfo = db.conninfo();
    return Storage(o);
}

/// A client at the protocol level: its link and the Welcome it got.
struct Peer {
    server::LinkSession link;
    protocol::Welcome welcome;
    ServerPosition cursor{};
    explicit Peer(Engine& e) { welcome = only<protocol::Welcome>(e.handle(link, protocol::Hello{})); }
};

/// Fetches a whole fresh copy, `max` bytes per piece.
std::string fetch_copy(Engine& e, Peer& p, std::uint32_t max, protocol::FreshChunk* first = nullptr) {
    std::string bytes;
    protocol::FreshChunk head;
    for (int i = 0; i < 100000; ++i) {
        protocol::FreshRequest q;
        q.ident = p.welcome.ident;
        q.offset = bytes.size();
        q.max_bytes = max;
        if (i > 0) {
            q.expected = head.position;
            q.reserved_ident = head.new_ident;
        }
        auto c = only<protocol::FreshChunk>(e.handle(p.link, q));
        if (i == 0) head = c;
        REQUIRE(c.offset == bytes.size());
        bytes += c.bytes;
        if (bytes.size() >= c.total_bytes) break;
    }
    if (first) *first = head;
    return bytes;
}

} // namespace

TEST_CASE("hostile bytes - quotes, NULs, invalid UTF-8, SQL, megabytes - are stored and read back byte-exact and "
          "never run as SQL", "[pg][storage][bad-input]") {
    TestDatabase db;
    Engine engine(storage_for(db));
    Peer a(engine), b(engine);

    std::string every_byte;
    for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
    std::string huge(4u << 20, '\0');
    for (std::size_t i = 0; i < huge.size(); ++i) huge[i] = static_cast<char>((i * 131 + 7) % 256);
    const std::string injection = "x'); DROP TABLE resync.history; DROP SCHEMA resync CASCADE; --";
    const std::string nul_key("key\0with\0nuls", 13);
    const std::string bad_utf8 = "\xff\xfe\xc3\x28 \xe2\x82 not utf-8 \\x00 \\\\ '' \" $1 $$";

    const doc::Changeset hostile{
        doc::CreateObject{injection, nul_key},
        doc::SetField{injection, nul_key, bad_utf8, doc::Value{every_byte}},
        doc::SetField{injection, nul_key, "huge", doc::Value{huge}},
        doc::CreateObject{"c", "'"},
        doc::SetField{"c", "'", "\\", doc::Value{std::string("';--")}},
        doc::ListInsert{"c", "'", "list", std::nullopt, doc::ElementId{1, 1}, doc::Scalar{std::string(1, '\0')}},
    };
    doc::State expected;
    doc::apply(expected, hostile);

    const auto ack = only<protocol::UploadAck>(engine.handle(a.link, protocol::Upload<Op>{a.welcome.ident, {}, {Local{1, 0, hostile}}}));
    CHECK(ack.client_version == 1);

    // Back through a download: the very operations.
    const auto d = only<protocol::Download<Op>>(engine.handle(b.link, protocol::Pull{b.welcome.ident, {}, 10}));
    REQUIRE(d.entries.size() == 1);
    CHECK(d.entries[0].ops == hostile);
    // Back through the state's rows and a fresh copy: the very state.
    auto copy = doc::decode_snapshot(fetch_copy(engine, b, 64 * 1024));
    REQUIRE(copy);
    CHECK(*copy == expected);
    CHECK(copy->get(injection, nul_key, "huge") == doc::Value{huge});
    CHECK(copy->get(injection, nul_key, bad_utf8) == doc::Value{every_byte});
    // Nothing ran: the tables are all there.
    auto state = engine.storage().state();
    REQUIRE(state);
    CHECK(*state == expected);
    auto history = engine.storage().history();
    REQUIRE(history);
    CHECK(history->size() == 1);
}

TEST_CASE("an upload is one transaction: a database error in its middle rolls all of it back, the client is told to "
          "retry, and the retry applies it exactly once", "[pg][storage][transaction]") {
    TestDatabase db;
    Engine engine(storage_for(db));
    Peer a(engine);
    // A real PostgreSQL error, raised by the database itself when the second changeset's row
    // goes into the history.
    db.exec_here("CREATE FUNCTION resync.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "IF NEW.client_version = 2 THEN RAISE EXCEPTION 'the disk is full (a test)'; END IF; "
                 "RETURN NEW; END $$");
    db.exec_here("CREATE TRIGGER refuse BEFORE INSERT ON resync.history FOR EACH ROW EXECUTE FUNCTION resync.refuse()");

    const protocol::Upload<Op> upload{a.welcome.ident,
                                      {},
                                      {Local{1, 0, {doc::CreateObject{"c", "one"}}},
                                       Local{2, 0, {doc::CreateObject{"c", "two"}}},
                                       Local{3, 0, {doc::CreateObject{"c", "three"}}}}};
    const auto e = only<ServerError>(engine.handle(a.link, upload));
    CHECK(e.code == server_code::other_session_error);
    CHECK(e.action == ServerAction::transient);
    CHECK(engine.last_storage_error() == errc::server_storage_failure);
    CHECK(engine.storage().last_failure().sqlstate == "P0001");
    CHECK(engine.storage().last_failure().message.find("the disk is full") != std::string::npos);
    // Nothing of it: no history, no objects, no acknowledgement, no integrated mark.
    CHECK(engine.storage().history()->empty());
    CHECK(engine.storage().state()->object_count() == 0);
    CHECK((*engine.storage().client(a.welcome.ident))->last_integrated == 0);
    CHECK(engine.storage().head()->latest == ServerPosition{});

    db.exec_here("DROP TRIGGER refuse ON resync.history");
    const auto ack = only<protocol::UploadAck>(engine.handle(a.link, upload));
    CHECK(ack.client_version == 3);
    CHECK(ack.integrated.size() == 3);
    const auto again = only<protocol::UploadAck>(engine.handle(a.link, upload));
    CHECK(again.integrated == ack.integrated);
    CHECK(engine.storage().history()->size() == 3);
    CHECK(engine.storage().state()->object_count() == 3);
}

TEST_CASE("a fresh copy is one consistent snapshot, streamed in pieces, even while uploads commit", "[pg][storage][fresh]") {
    TestDatabase db;
    Engine engine(storage_for(db));
    Peer a(engine);
    // Every changeset creates one object: the copy at version v must hold exactly v objects.
    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::thread writer([&] {
        Engine w(storage_for(db));
        Peer p(w);
        for (ClientVersion cv = 1; cv <= 300; ++cv) {
            const std::string key = "k" + std::to_string(cv);
            auto r = w.handle(p.link, protocol::Upload<Op>{p.welcome.ident, {}, {Local{cv, 0, {doc::CreateObject{"c", key},
                                                                                                  doc::SetField{"c", key, "pad", doc::Value{std::string(200, 'p')}}}}}});
            if (!r.empty() && std::holds_alternative<protocol::UploadAck>(r[0])) ++written;
        }
        writing = false;
    });
    int copies = 0;
    while (writing || copies < 3) {
        server::EncodedCopy copy;
        REQUIRE_FALSE(engine.storage().read([&](Storage::Txn& t) { copy = t.encode_copy(); }));
        auto s = doc::decode_snapshot(copy.bytes);
        REQUIRE(s);
        CHECK(s->object_count() == copy.head.latest.version);
        ++copies;
    }
    writer.join();
    CHECK(written == 300);
    CHECK(copies >= 3);

    // Served in pieces, as the client asks.
    protocol::FreshChunk first;
    const std::string bytes = fetch_copy(engine, a, 4096, &first);
    CHECK(first.total_bytes > 4 * 4096);
    CHECK(first.position == engine.storage().head()->latest);
    auto s = doc::decode_snapshot(bytes);
    REQUIRE(s);
    CHECK(s->object_count() == 300);
    CHECK(*s == *engine.storage().state());
}

TEST_CASE("client idents are never handed out twice, not even after a restore from an older dump",
          "[pg][storage][idents]") {
    TestDatabase db;
    resync_pg_test::TempFolder folder;
    std::set<ClientIdent> before;
    {
        Engine engine(storage_for(db));
        for (int i = 0; i < 5; ++i) before.insert(Peer(engine).welcome.ident);
    }
    db.dump(folder.path() + "/early.pgdump");
    ClientIdent late = 0;
    {
        Engine engine(storage_for(db));
        late = Peer(engine).welcome.ident;
    }
    db.restore(folder.path() + "/early.pgdump");
    Engine engine(storage_for(db));
    CHECK_FALSE((*engine.storage().client(late)).has_value());
    for (const auto i : before) CHECK((*engine.storage().client(i)).has_value());
    std::set<ClientIdent> after;
    for (int i = 0; i < 200; ++i) after.insert(Peer(engine).welcome.ident);
    CHECK(after.size() == 200);
    CHECK_FALSE(after.contains(late));
    for (const auto i : before) CHECK_FALSE(after.contains(i));
    // The client registered after the dump is told it is unknown: it resets, under a new ident.
    server::LinkSession link;
    const auto w = engine.handle(link, protocol::Hello{late, {}, 0, engine.storage().head()->epoch, 1});
    REQUIRE(std::holds_alternative<ServerError>(w[0]));
    CHECK(std::get<ServerError>(w[0]).code == server_code::bad_client_file_ident);
}

TEST_CASE("the connection string's password never appears in an error or a log line", "[pg][storage][credentials]") {
    const std::string secret = "Sup3r-Secret-Pa55word";
    std::vector<std::string> log;
    postgres::StorageOptions o;
    // Nothing listens on port 1: the connection fails, and says so without the password.
    o.conninfo = "host=127.0.0.1 port=1 user=someone dbname=nothing connect_timeout=2 password=" + secret;
    o.log = [&](std::string_view line) { log.emplace_back(line); };
    Storage storage(o);
    Engine engine(std::move(storage));
    server::LinkSession link;
    const auto reply = engine.handle(link, protocol::Hello{});
    REQUIRE(std::holds_alternative<ServerError>(reply[0]));
    const auto& e = std::get<ServerError>(reply[0]);
    CHECK(e.action == ServerAction::transient);
    CHECK(e.message.find(secret) == std::string::npos);
    const auto& failure = engine.storage().last_failure();
    CHECK_FALSE(failure.message.empty());
    CHECK(failure.message.find(secret) == std::string::npos);
    REQUIRE_FALSE(log.empty());
    for (const auto& line : log) CHECK(line.find(secret) == std::string::npos);
    CHECK(engine.last_storage_error().message().find(secret) == std::string::npos);
}

} // namespace RESYNC_TEST_FILE
