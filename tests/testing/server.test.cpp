// testing::Server and testing::LoopbackTransport (include/resync/testing/), on the document model,
// driven directly at the protocol level: protocol messages in, replies out. Covers idents, idempotent uploads, pulls,
// backups and restores, epochs, schema changes, compaction, forgotten clients, injected errors,
// position checks, fresh copies (chunked, resumable, damaged once), and every link fault.
#include <resync/doc/codec.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;
using LoopbackTransport = resync::testing::LoopbackTransport<resync::doc::Model>;
using Server = resync::testing::Server<resync::doc::Model>;
using resync::testing::ServerOptions;

namespace {

using Op = doc::Operation;
using Message = Server::ServerMessage;
using Local = LocalChangeset<Op>;

/// Everything the link delivers now.
std::vector<Message> drain(LoopbackTransport& link) {
    std::vector<Message> out;
    while (auto m = link.receive()) out.push_back(std::move(*m));
    return out;
}

/// Sends one message and returns every reply.
std::vector<Message> ask(LoopbackTransport& link, Server::ClientMessage m) {
    REQUIRE(link.send(std::move(m)));
    return drain(link);
}

template <class T>
T only(std::vector<Message> replies) {
    REQUIRE(replies.size() == 1);
    REQUIRE(std::holds_alternative<T>(replies[0]));
    return std::get<T>(std::move(replies[0]));
}

/// A one-line description of a message, for comparing runs and for failure messages.
std::string describe(const Message& m) {
    struct V {
        std::string operator()(const protocol::Welcome& w) const {
            return "welcome ident=" + std::to_string(w.ident) + " latest=" + std::to_string(w.latest.version) + "/" +
                   std::to_string(w.latest.salt) + " epoch=" + std::to_string(w.epoch);
        }
        std::string operator()(const protocol::Download<Op>& d) const {
            std::string s = "download base=" + std::to_string(d.base.version) + " latest=" + std::to_string(d.latest.version);
            for (const auto& e : d.entries) s += " " + std::to_string(e.server_version) + "/" + std::to_string(e.salt);
            return s;
        }
        std::string operator()(const protocol::UploadAck& a) const {
            std::string s = "ack ident=" + std::to_string(a.ident) + " cv=" + std::to_string(a.client_version);
            for (const auto& [cv, sv] : a.integrated) s += " " + std::to_string(cv) + "@" + std::to_string(sv);
            return s;
        }
        std::string operator()(const protocol::FreshChunk& c) const {
            return "chunk at=" + std::to_string(c.position.version) + " ident=" + std::to_string(c.new_ident) +
                   " offset=" + std::to_string(c.offset) + " size=" + std::to_string(c.bytes.size()) + "/" +
                   std::to_string(c.total_bytes);
        }
        std::string operator()(const ServerError& e) const {
            return "error " + std::to_string(e.code) + " " + std::string(to_string(e.action));
        }
    };
    return std::visit(V{}, m);
}

/// One client's view: a link, and the positions it announces.
struct Peer {
    LoopbackTransport link;
    ClientIdent ident = 0;
    ServerPosition cursor{};
    Epoch epoch = 0;
    SchemaVersion schema = 0;

    explicit Peer(Server& s, std::uint64_t seed = 7) : link(s, seed) {}

    /// Says Hello; adopts the ident, epoch and schema of the Welcome. Returns every reply.
    std::vector<Message> hello() {
        auto replies = ask(link, protocol::Hello{ident, cursor, 0, epoch, schema});
        if (replies.size() == 1 && std::holds_alternative<protocol::Welcome>(replies[0])) {
            const auto& w = std::get<protocol::Welcome>(replies[0]);
            ident = w.ident;
            if (epoch == 0) {
                epoch = w.epoch;
                schema = w.schema_version;
            }
        }
        return replies;
    }
    protocol::Welcome welcome() { return only<protocol::Welcome>(hello()); }

    std::vector<Message> pull(std::uint32_t max = 256) {
        return ask(link, protocol::Pull{ident, cursor, max});
    }
    /// Pulls everything and moves the cursor to the last entry.
    protocol::Download<Op> catch_up() {
        auto d = only<protocol::Download<Op>>(pull());
        if (!d.entries.empty()) cursor = d.entries.back().position();
        return d;
    }
    std::vector<Message> upload(std::vector<Local> changesets) {
        return ask(link, protocol::Upload<Op>{ident, cursor, std::move(changesets)});
    }
};

doc::Changeset put_ops(const std::string& key, std::int64_t v) {
    return {doc::CreateObject{"c", key}, doc::SetField{"c", key, "x", doc::Value{v}}};
}
doc::Changeset add_ops(const std::string& key, std::int64_t delta) {
    return {doc::AddInteger{"c", key, "x", delta}};
}

ServerError expect_error(std::vector<Message> replies, int code) {
    auto e = only<ServerError>(std::move(replies));
    CHECK(e.code == code);
    return e;
}

} // namespace

// ------------------------------------------------------------------------- idents and uploads

TEST_CASE("Hello assigns each new client its own ident and keeps a known one", "[testing][server][hello]") {
    Server server;
    Peer a(server), b(server);
    const auto wa = a.welcome();
    const auto wb = b.welcome();
    CHECK(wa.ident == 1);
    CHECK(wb.ident == 2);
    CHECK(server.knows_client(1));
    CHECK(server.knows_client(2));
    CHECK_FALSE(server.knows_client(3));
    CHECK(wa.epoch == server.epoch());
    CHECK(wa.epoch != 0);
    CHECK(wa.schema_version == server.schema_version());
    CHECK(wa.schema_version == 1);
    CHECK(wa.latest == ServerPosition{});
    CHECK(wa.oldest_available == 0);
    REQUIRE(wa.salt_at_cursor);
    CHECK(*wa.salt_at_cursor == 0);

    const auto at = server.write(put_ops("k", 1));
    CHECK(at.version == 1);
    CHECK(at.salt != 0);
    CHECK(server.latest() == at);

    // A known client, on a new connection, keeps its ident and learns its cursor's salt.
    Peer again(server);
    again.ident = a.ident;
    again.cursor = at;
    again.epoch = a.epoch;
    again.schema = a.schema;
    const auto w = again.welcome();
    CHECK(w.ident == 1);
    CHECK(w.latest == at);
    REQUIRE(w.salt_at_cursor);
    CHECK(*w.salt_at_cursor == at.salt);

    // A cursor beyond the server's latest has no salt there.
    Peer ahead(server);
    ahead.ident = a.ident;
    ahead.cursor = {5, 1};
    ahead.epoch = a.epoch;
    ahead.schema = a.schema;
    CHECK_FALSE(ahead.welcome().salt_at_cursor);

    // Idents are never reused.
    Peer c(server);
    CHECK(c.welcome().ident == 3);
}

TEST_CASE("an upload is idempotent: the same (ident, client version) is applied once and acknowledged every time",
          "[testing][server][upload]") {
    Server server;
    Peer a(server);
    a.welcome();
    const std::vector<Local> batch{Local{1, 0, put_ops("k", 10)}, Local{2, 0, add_ops("k", 5)}};

    auto ack = only<protocol::UploadAck>(a.upload(batch));
    CHECK(ack.ident == a.ident);
    CHECK(ack.client_version == 2);
    using Pairs = std::vector<std::pair<ClientVersion, std::uint64_t>>;
    CHECK(ack.integrated == Pairs{{1, 1}, {2, 2}});
    REQUIRE(server.history().size() == 2);
    CHECK(server.history()[0].origin == a.ident);
    CHECK(server.history()[0].client_version == 1);
    CHECK(server.history()[1].client_version == 2);
    CHECK(server.state().get("c", "k", "x") == doc::Value{std::int64_t{15}});
    CHECK(server.last_integrated(a.ident) == 2);

    // The same upload again (its ack was lost, say): acknowledged the same, applied never again.
    auto again = only<protocol::UploadAck>(a.upload(batch));
    CHECK(again.client_version == 2);
    CHECK(again.integrated == Pairs{{1, 1}, {2, 2}});
    CHECK(server.history().size() == 2);
    CHECK(server.state().get("c", "k", "x") == doc::Value{std::int64_t{15}});

    // A retry that also carries a new changeset applies only the new one.
    auto more = only<protocol::UploadAck>(a.upload({Local{2, 0, add_ops("k", 5)}, Local{3, 0, add_ops("k", 1)}}));
    CHECK(more.client_version == 3);
    CHECK(more.integrated == Pairs{{2, 2}, {3, 3}});
    CHECK(server.history().size() == 3);
    CHECK(server.state().get("c", "k", "x") == doc::Value{std::int64_t{16}});

    // The key is per client: another client's version 1 is a different changeset.
    Peer b(server);
    b.welcome();
    auto other = only<protocol::UploadAck>(b.upload({Local{1, 0, add_ops("k", 100)}}));
    CHECK(other.integrated == Pairs{{1, 4}});
    CHECK(server.state().get("c", "k", "x") == doc::Value{std::int64_t{116}});
}

TEST_CASE("Pull returns the entries after the cursor, in order, with their salts", "[testing][server][pull]") {
    Server server;
    for (int i = 0; i < 5; ++i) server.write(put_ops("k" + std::to_string(i), i));
    Peer a(server);
    a.welcome();

    auto all = only<protocol::Download<Op>>(a.pull());
    CHECK(all.ident == a.ident);
    CHECK(all.base == ServerPosition{});
    CHECK(all.latest == server.latest());
    REQUIRE(all.entries.size() == 5);
    std::set<std::uint64_t> salts;
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(all.entries[i].server_version == i + 1);
        CHECK(all.entries[i] == server.history()[i]);
        CHECK(all.entries[i].salt != 0);
        salts.insert(all.entries[i].salt);
    }
    CHECK(salts.size() == 5);

    a.cursor = all.entries[1].position();
    auto rest = only<protocol::Download<Op>>(a.pull());
    CHECK(rest.base == a.cursor);
    REQUIRE(rest.entries.size() == 3);
    CHECK(rest.entries.front().server_version == 3);
    CHECK(rest.entries.back().server_version == 5);

    auto two = only<protocol::Download<Op>>(a.pull(2));
    REQUIRE(two.entries.size() == 2);
    CHECK(two.entries[0].server_version == 3);
    CHECK(two.entries[1].server_version == 4);
    CHECK(two.latest.version == 5); // the client learns there is more

    a.cursor = server.latest();
    CHECK(only<protocol::Download<Op>>(a.pull()).entries.empty());

    // The server's own cap applies too.
    Server capped(ServerOptions{1, 2, 64 * 1024});
    for (int i = 0; i < 5; ++i) capped.write(put_ops("k", i));
    Peer p(capped);
    p.welcome();
    CHECK(only<protocol::Download<Op>>(p.pull(100)).entries.size() == 2);
}

// ------------------------------------------------------------------------ history faults

TEST_CASE("restore rolls the history back to the backup, and idents stay monotonic", "[testing][server][restore]") {
    Server server;
    Peer a(server);
    a.welcome();
    for (int i = 0; i < 3; ++i) server.write(put_ops("k", i));
    a.catch_up();
    const auto backup = server.backup();
    const auto latest_then = server.latest();
    const doc::State state_then = server.state();
    const auto history_then = server.history();

    for (int i = 3; i < 5; ++i) server.write(put_ops("k", i));
    Peer late(server); // registers after the backup
    late.welcome();
    CHECK(late.ident == 2);
    a.catch_up();
    const ServerPosition a_cursor = a.cursor;
    CHECK(a_cursor.version == 5);

    server.restore(backup);
    CHECK(server.latest() == latest_then);
    CHECK(server.state() == state_then);
    CHECK(server.history() == history_then);
    CHECK(server.knows_client(a.ident));
    CHECK_FALSE(server.knows_client(late.ident));

    // The client registered after the backup is unknown: 208, reset.
    auto e = expect_error(late.hello(), server_code::bad_client_file_ident);
    CHECK(e.action == ServerAction::reset);
    e = expect_error(late.pull(), server_code::bad_client_file_ident);

    // A client ahead of the restored server: its Welcome shows the rollback; its pull gets 209.
    const auto w = a.welcome();
    CHECK(w.latest == latest_then);
    CHECK_FALSE(w.salt_at_cursor);
    expect_error(a.pull(), server_code::bad_server_version);

    // New history after the restore has new salts: the old cursor diverges (211).
    for (int i = 0; i < 3; ++i) server.write(put_ops("n", i));
    CHECK(server.latest().version == 6);
    const auto w2 = a.welcome();
    REQUIRE(w2.salt_at_cursor);
    CHECK(*w2.salt_at_cursor != a_cursor.salt);
    expect_error(a.pull(), server_code::diverging_histories);

    // Idents are never reissued: the next new client is not given the forgotten one's ident.
    Peer fresh(server);
    CHECK(fresh.welcome().ident == 3);
}

TEST_CASE("terminate_and_reenable starts a new epoch with empty history and forgets every client",
          "[testing][server][epoch]") {
    Server server;
    Peer a(server);
    a.welcome();
    server.write(put_ops("k", 1));
    a.catch_up();
    const Epoch old_epoch = server.epoch();
    const doc::State data = server.state();

    server.terminate_and_reenable();
    CHECK(server.epoch() != old_epoch);
    CHECK(server.epoch() != 0);
    // The kept data is not in the new epoch's history: the history starts compacted past it.
    CHECK(server.latest().version == 1);
    CHECK(server.history().empty());
    CHECK(server.history_floor() == 1);
    CHECK(server.state() == data); // the data is kept
    CHECK_FALSE(server.knows_client(a.ident));

    // The old client hears of the new epoch, and its requests are refused as from an unknown client.
    const auto w = a.welcome();
    CHECK(w.epoch == server.epoch());
    CHECK(w.epoch != a.epoch);
    expect_error(a.pull(), server_code::bad_client_file_ident);
    expect_error(a.upload({Local{1, 0, put_ops("z", 1)}}), server_code::bad_client_file_ident);
    CHECK(server.history().empty());

    // A new client joins the new epoch.
    Peer b(server);
    const auto wb = b.welcome();
    CHECK(wb.ident == 2);
    CHECK(wb.epoch == server.epoch());
    // It cannot build the kept data from history: it is told to start from a fresh copy.
    expect_error(b.pull(), server_code::client_file_expired);
}

TEST_CASE("change_schema bumps the schema version; a client on the old schema gets 217 reset_no_recovery",
          "[testing][server][schema]") {
    Server server;
    Peer a(server);
    a.welcome();
    server.write(put_ops("k", 1));
    a.catch_up();
    CHECK(a.schema == 1);

    server.change_schema([](doc::State& s) {
        auto* o = s.find("c", "k");
        REQUIRE(o);
        (*o)["x"] = doc::Value{std::string("one")};
    });
    CHECK(server.schema_version() == 2);
    CHECK(server.state().get("c", "k", "x") == doc::Value{std::string("one")});
    CHECK(server.history_floor() == server.latest().version); // the old history is gone

    const auto w = a.welcome();
    CHECK(w.schema_version == 2);
    auto e = expect_error(a.pull(), server_code::bad_client_file);
    CHECK(e.action == ServerAction::reset_no_recovery);
    e = expect_error(a.upload({Local{1, 0, put_ops("z", 1)}}), server_code::bad_client_file);
    CHECK(e.action == ServerAction::reset_no_recovery);

    // A new client is on the new schema and pulls fine from the floor.
    Peer b(server);
    CHECK(b.welcome().schema_version == 2);
    CHECK(b.schema == 2);
    b.cursor = {server.history_floor(), server.latest().salt};
    CHECK(only<protocol::Download<Op>>(b.pull()).entries.empty());

    // Without a migration, the schema still goes up.
    server.change_schema();
    CHECK(server.schema_version() == 3);
}

TEST_CASE("compact(v) expires the cursors below v with 222", "[testing][server][compact]") {
    Server server;
    for (int i = 0; i < 6; ++i) server.write(put_ops("k", i));
    const auto at2 = server.history()[1].position();
    const auto at4 = server.history()[3].position();
    Peer old(server), edge(server);
    old.welcome();
    edge.welcome();
    old.cursor = at2;
    edge.cursor = at4;

    server.compact(4);
    CHECK(server.history_floor() == 4);
    REQUIRE(server.history().size() == 2);
    CHECK(server.history().front().server_version == 5);

    auto e = expect_error(old.pull(), server_code::client_file_expired);
    CHECK(e.action == ServerAction::reset);
    const auto wo = old.welcome();
    CHECK(wo.oldest_available == 4);
    CHECK_FALSE(wo.salt_at_cursor); // compacted away

    // A cursor exactly at the floor continues; its salt is still known.
    const auto we = edge.welcome();
    REQUIRE(we.salt_at_cursor);
    CHECK(*we.salt_at_cursor == at4.salt);
    auto d = only<protocol::Download<Op>>(edge.pull());
    REQUIRE(d.entries.size() == 2);
    CHECK(d.entries[0].server_version == 5);
    // ... and a wrong salt at the floor is still a divergence.
    edge.cursor.salt ^= 1;
    expect_error(edge.pull(), server_code::diverging_histories);

    // Compacting below the floor, or beyond the latest version, is harmless.
    server.compact(2);
    CHECK(server.history_floor() == 4);
    server.compact(100);
    CHECK(server.history_floor() == 6);
    CHECK(server.history().empty());
}

TEST_CASE("forget_client makes the client's next messages get 208", "[testing][server][forget]") {
    Server server;
    Peer a(server), b(server);
    a.welcome();
    b.welcome();
    server.forget_client(a.ident);
    CHECK_FALSE(server.knows_client(a.ident));
    CHECK(server.knows_client(b.ident));

    auto e = expect_error(a.pull(), server_code::bad_client_file_ident);
    CHECK(e.action == ServerAction::reset);
    expect_error(a.upload({Local{1, 0, put_ops("k", 1)}}), server_code::bad_client_file_ident);
    CHECK(server.history().empty()); // nothing was applied
    expect_error(a.hello(), server_code::bad_client_file_ident);
    // Other clients are not affected.
    only<protocol::Download<Op>>(b.pull());
}

TEST_CASE("inject_error answers the next message with that error exactly once", "[testing][server][inject]") {
    Server server;
    Peer a(server), b(server);
    a.welcome();
    b.welcome();
    const ServerError injected{4242, ServerAction::warning, "a scripted problem"};

    SECTION("to any client") {
        server.inject_error(injected);
        CHECK(only<ServerError>(a.pull()) == injected);
        only<protocol::Download<Op>>(b.pull());
        only<protocol::Download<Op>>(a.pull());
        // It replaces the message: an upload it answered was not applied.
        server.inject_error(injected);
        CHECK(only<ServerError>(a.upload({Local{1, 0, put_ops("k", 1)}})) == injected);
        CHECK(server.history().empty());
    }
    SECTION("to one ident") {
        const ServerError reset{server_code::client_file_expired, ServerAction::reset_no_recovery, "scripted"};
        server.inject_error(reset, b.ident);
        only<protocol::Download<Op>>(a.pull());
        only<protocol::UploadAck>(a.upload({Local{1, 0, put_ops("k", 1)}}));
        CHECK(only<ServerError>(b.pull()) == reset);
        only<protocol::Download<Op>>(b.pull());
    }
    SECTION("in the order injected") {
        const ServerError second{7, ServerAction::transient, "second"};
        server.inject_error(injected);
        server.inject_error(second);
        CHECK(only<ServerError>(a.pull()) == injected);
        CHECK(only<ServerError>(b.pull()) == second);
        only<protocol::Download<Op>>(a.pull());
    }
}

TEST_CASE("the server refuses a cursor with a diverging salt (211) or ahead of it (209)", "[testing][server][positions]") {
    Server server;
    for (int i = 0; i < 3; ++i) server.write(put_ops("k", i));
    Peer a(server);
    a.welcome();

    a.cursor = {2, server.history()[1].salt ^ 0xFF};
    auto e = expect_error(a.pull(), server_code::diverging_histories);
    CHECK(e.action == ServerAction::reset);
    expect_error(a.upload({Local{1, 0, put_ops("z", 1)}}), server_code::diverging_histories);
    CHECK(server.history().size() == 3);

    a.cursor = {4, 12345};
    e = expect_error(a.pull(), server_code::bad_server_version);
    CHECK(e.action == ServerAction::reset);
    expect_error(a.upload({Local{1, 0, put_ops("z", 1)}}), server_code::bad_server_version);
    CHECK(server.history().size() == 3);

    a.cursor = server.history()[1].position();
    CHECK(only<protocol::Download<Op>>(a.pull()).entries.size() == 1);

    // Messages before Hello, or under another ident than the Hello's, break the protocol.
    Peer rude(server);
    rude.ident = a.ident;
    e = only<ServerError>(rude.pull());
    CHECK(e.action == ServerAction::protocol_violation);
    Peer liar(server);
    liar.welcome();
    liar.ident = a.ident;
    e = only<ServerError>(liar.pull());
    CHECK(e.action == ServerAction::protocol_violation);
}

// ------------------------------------------------------------------------------- fresh copies

namespace {

void fill(Server& server, int objects) {
    for (int i = 0; i < objects; ++i) {
        const std::string key = "object-" + std::to_string(i);
        server.write({doc::CreateObject{"c", key},
                      doc::SetField{"c", key, "name", doc::Value{std::string("a longer string value ") + key}},
                      doc::SetField{"c", key, "n", doc::Value{std::int64_t{i}}}});
    }
}

struct Copy {
    std::string bytes;
    std::uint64_t total = 0;
    std::size_t chunks = 0;
    bool stopped_short = false;
    protocol::FreshChunk header;
};

/// Fetches one fresh copy the way a client does: from offset 0, resuming where it stands, until it
/// has the announced size or the server sends an empty piece.
Copy fetch(Peer& p, std::uint32_t max_bytes) {
    Copy c;
    for (int guard = 0; guard < 10000; ++guard) {
        protocol::FreshRequest q;
        q.ident = p.ident;
        q.offset = c.bytes.size();
        q.max_bytes = max_bytes;
        if (c.chunks > 0) {
            q.expected = c.header.position;
            q.reserved_ident = c.header.new_ident;
        }
        auto chunk = only<protocol::FreshChunk>(ask(p.link, q));
        if (c.chunks == 0) c.header = chunk;
        REQUIRE(chunk.offset == c.bytes.size());
        REQUIRE(chunk.position == c.header.position);
        REQUIRE(chunk.new_ident == c.header.new_ident);
        REQUIRE(chunk.total_bytes == c.header.total_bytes);
        ++c.chunks;
        c.total = chunk.total_bytes;
        if (chunk.bytes.empty()) {
            c.stopped_short = c.bytes.size() < c.total;
            return c;
        }
        c.bytes += chunk.bytes;
        if (c.bytes.size() >= c.total) return c;
    }
    FAIL("the fresh copy never ended");
    return c;
}

} // namespace

TEST_CASE("a fresh copy streams the encoded state in chunks that decode to the server's state, and resumes",
          "[testing][server][fresh]") {
    Server server;
    fill(server, 30);
    Peer a(server);
    a.welcome();

    const auto copy = fetch(a, 100);
    CHECK_FALSE(copy.stopped_short);
    CHECK(copy.bytes.size() == copy.total);
    CHECK(copy.total > 1000);
    CHECK(copy.chunks == (copy.total + 99) / 100);
    CHECK(copy.header.position == server.latest());
    CHECK(copy.header.epoch == server.epoch());
    CHECK(copy.header.schema_version == server.schema_version());
    CHECK(copy.header.new_ident != 0);
    CHECK(copy.header.new_ident != a.ident); // a reset gets a new ident
    CHECK(server.knows_client(copy.header.new_ident));
    CHECK(server.fresh_copies_started() == 1);
    auto decoded = doc::decode_snapshot(copy.bytes);
    REQUIRE(decoded);
    CHECK(*decoded == server.state());

    // Resuming from an offset serves the same bytes from there, under the reserved ident.
    protocol::FreshRequest resume;
    resume.ident = a.ident;
    resume.offset = 250;
    resume.expected = copy.header.position;
    resume.reserved_ident = copy.header.new_ident;
    resume.max_bytes = 100;
    auto piece = only<protocol::FreshChunk>(ask(a.link, resume));
    CHECK(piece.offset == 250);
    CHECK(piece.bytes == copy.bytes.substr(250, 100));
    CHECK(piece.new_ident == copy.header.new_ident);
    CHECK(server.fresh_copies_started() == 1);

    // Once the server moved on, a resumed request for the old position starts a new copy.
    server.write(put_ops("later", 1));
    auto restarted = only<protocol::FreshChunk>(ask(a.link, resume));
    CHECK(restarted.offset == 0);
    CHECK(restarted.position == server.latest());
    CHECK(restarted.new_ident != copy.header.new_ident);
    CHECK(server.fresh_copies_started() == 2);

    // The server's own chunk cap applies.
    Server capped(ServerOptions{1, 256, 64});
    fill(capped, 5);
    Peer p(capped);
    p.welcome();
    const auto small = fetch(p, 1u << 20);
    CHECK(small.chunks == (small.total + 63) / 64);
    auto again = doc::decode_snapshot(small.bytes);
    REQUIRE(again);
    CHECK(*again == capped.state());
}

TEST_CASE("damage_next_fresh_copy damages exactly one fresh copy", "[testing][server][fresh][fault]") {
    Server server;
    fill(server, 20);
    Peer a(server);
    a.welcome();

    SECTION("corrupt: one copy fails its integrity check, the next one is whole") {
        server.damage_next_fresh_copy(Server::FreshCopyFault::corrupt);
        const auto bad = fetch(a, 128);
        CHECK(bad.bytes.size() == bad.total);
        auto decoded = doc::decode_snapshot(bad.bytes);
        REQUIRE_FALSE(decoded);
        CHECK(decoded.error() == errc::fresh_copy_corrupt);

        const auto good = fetch(a, 128);
        CHECK(good.bytes.size() == good.total);
        auto fine = doc::decode_snapshot(good.bytes);
        REQUIRE(fine);
        CHECK(*fine == server.state());
        // The damaged copy differs from the good one in exactly one byte.
        REQUIRE(good.bytes.size() == bad.bytes.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < good.bytes.size(); ++i) differ += good.bytes[i] != bad.bytes[i];
        CHECK(differ == 1);
    }
    SECTION("truncate: one copy stops short of its announced size, the next one is whole") {
        server.damage_next_fresh_copy(Server::FreshCopyFault::truncate);
        const auto cut = fetch(a, 128);
        CHECK(cut.stopped_short);
        CHECK(cut.bytes.size() < cut.total);

        const auto good = fetch(a, 128);
        CHECK_FALSE(good.stopped_short);
        CHECK(good.total == cut.total);
        CHECK(good.bytes.substr(0, cut.bytes.size()) == cut.bytes);
        auto fine = doc::decode_snapshot(good.bytes);
        REQUIRE(fine);
        CHECK(*fine == server.state());
    }
    SECTION("truncate, fetched in one piece: still cut short once") {
        server.damage_next_fresh_copy(Server::FreshCopyFault::truncate);
        const auto cut = fetch(a, 1u << 20);
        CHECK(cut.stopped_short);
        const auto good = fetch(a, 1u << 20);
        CHECK_FALSE(good.stopped_short);
        CHECK(good.chunks == 1);
        CHECK(doc::decode_snapshot(good.bytes));
    }
}

// -------------------------------------------------------------------------------- link faults

TEST_CASE("an offline link sends nothing, receives nothing, and loses what was in flight", "[testing][loopback][offline]") {
    Server server;
    Peer a(server);
    CHECK(a.link.connected());
    CHECK(a.link.connection_id() == 1);

    a.link.go_offline();
    CHECK_FALSE(a.link.connected());
    CHECK_FALSE(a.link.send(protocol::Hello{}));
    CHECK_FALSE(a.link.receive());

    // Going online again is a new connection; going online twice is not.
    a.link.go_online();
    CHECK(a.link.connected());
    CHECK(a.link.connection_id() == 2);
    a.link.go_online();
    CHECK(a.link.connection_id() == 2);
    CHECK_FALSE(a.link.receive()); // the Hello sent while offline never went anywhere

    // A message sent but not yet delivered is lost when the link drops.
    REQUIRE(a.link.send(protocol::Hello{}));
    a.link.go_offline();
    a.link.go_online();
    CHECK(a.link.connection_id() == 3);
    CHECK_FALSE(a.link.receive());
    CHECK_FALSE(server.knows_client(1)); // the server never saw it

    // A reply not yet received is lost too; and the new connection must say Hello again.
    a.welcome();
    CHECK(a.ident == 1);
    REQUIRE(a.link.send(protocol::Pull{a.ident, {}, 10}));
    REQUIRE(a.link.send(protocol::Pull{a.ident, {}, 10}));
    REQUIRE(a.link.receive()); // both were handled; the second reply is waiting
    a.link.go_offline();
    a.link.go_online();
    CHECK_FALSE(a.link.receive());
    auto e = only<ServerError>(a.pull());
    CHECK(e.action == ServerAction::protocol_violation);
    CHECK(a.welcome().ident == 1);
    only<protocol::Download<Op>>(a.pull());
}

TEST_CASE("scripted link faults drop, duplicate, delay and lose exactly the next N messages", "[testing][loopback][faults]") {
    Server server;
    Peer a(server);

    SECTION("drop_to_server: the server never sees the message") {
        a.link.faults().drop_to_server = 1;
        CHECK(a.link.send(protocol::Hello{}));
        CHECK_FALSE(a.link.receive());
        CHECK(a.link.faults().drop_to_server == 0);
        CHECK_FALSE(server.knows_client(1));
        CHECK(a.welcome().ident == 1);
    }
    SECTION("drop_to_client: the server handled the message, the reply is lost") {
        a.welcome();
        a.link.faults().drop_to_client = 1;
        CHECK(a.upload({Local{1, 0, put_ops("k", 1)}}).empty());
        CHECK(server.last_integrated(a.ident) == 1);
        CHECK(a.link.faults().drop_to_client == 0);
        only<protocol::UploadAck>(a.upload({Local{1, 0, put_ops("k", 1)}}));
        CHECK(server.history().size() == 1);
    }
    SECTION("duplicate_to_client: the reply arrives twice") {
        a.welcome();
        server.write(put_ops("k", 1));
        a.link.faults().duplicate_to_client = 1;
        auto twice = a.pull();
        REQUIRE(twice.size() == 2);
        CHECK(describe(twice[0]) == describe(twice[1]));
        CHECK(std::get<protocol::Download<Op>>(twice[1]).entries.size() == 1);
        CHECK(a.pull().size() == 1);
    }
    SECTION("delay_to_client: a held reply arrives after a later one") {
        a.welcome();
        server.write(put_ops("k", 1));
        a.link.faults().delay_to_client = 1;
        REQUIRE(a.link.send(protocol::Hello{a.ident, {}, 0, a.epoch, a.schema}));
        REQUIRE(a.link.send(protocol::Pull{a.ident, {}, 10}));
        auto replies = drain(a.link);
        REQUIRE(replies.size() == 2);
        CHECK(std::holds_alternative<protocol::Download<Op>>(replies[0]));
        CHECK(std::holds_alternative<protocol::Welcome>(replies[1]));
        // Held alone, a reply still arrives.
        a.link.faults().delay_to_client = 1;
        CHECK(a.pull().size() == 1);
    }
    SECTION("lose_acks: the upload is integrated, only its ack is lost") {
        a.welcome();
        a.link.faults().lose_acks = 1;
        REQUIRE(a.link.send(protocol::Upload<Op>{a.ident, {}, {Local{1, 0, put_ops("k", 1)}}}));
        REQUIRE(a.link.send(protocol::Pull{a.ident, {}, 10}));
        auto replies = drain(a.link);
        REQUIRE(replies.size() == 1); // the pull's answer still comes
        CHECK(std::holds_alternative<protocol::Download<Op>>(replies[0]));
        CHECK(server.last_integrated(a.ident) == 1);
        CHECK(a.link.faults().lose_acks == 0);
        // The retry is acknowledged and not applied again.
        auto ack = only<protocol::UploadAck>(a.upload({Local{1, 0, put_ops("k", 1)}}));
        CHECK(ack.client_version == 1);
        CHECK(server.history().size() == 1);
    }
}

namespace {

/// A fixed script of messages over a link with random faults; returns what the client saw.
std::vector<std::string> faulty_run(std::uint64_t server_seed, std::uint64_t link_seed) {
    Server server(ServerOptions{server_seed, 256, 64 * 1024});
    LoopbackTransport link(server, link_seed);
    auto& f = link.faults();
    f.drop_rate = 0.15;
    f.duplicate_rate = 0.2;
    f.delay_rate = 0.2;
    f.disconnect_rate = 0.05;
    std::vector<std::string> trace;
    for (int i = 0; i < 120; ++i) {
        if (i % 4 == 0) server.write(put_ops("k", i));
        if (!link.send(protocol::Hello{})) trace.push_back("offline");
        for (int r = 0; r < 2; ++r) {
            auto m = link.receive();
            trace.push_back("c" + std::to_string(link.connection_id()) + " " + (m ? describe(*m) : "-"));
        }
    }
    return trace;
}

} // namespace

TEST_CASE("random link faults with a fixed seed are reproducible", "[testing][loopback][faults][random]") {
    const auto first = faulty_run(3, 11);
    const auto second = faulty_run(3, 11);
    CHECK(first == second);
    // The seed matters: another link seed gives another run.
    CHECK(faulty_run(3, 12) != first);

    // The faults did happen: fewer or more replies than Hellos, reconnections, repeats.
    std::size_t welcomes = 0;
    for (const auto& line : first) welcomes += line.find("welcome") != std::string::npos;
    CHECK(welcomes != 120);
    CHECK(first.back().rfind("c1 ", 0) != 0); // the connection was dropped at least once
    std::size_t repeats = 0;
    for (std::size_t i = 1; i < first.size(); ++i) repeats += first[i] == first[i - 1] && first[i].find("welcome") != std::string::npos;
    CHECK(repeats > 0);

    // With no faults, every Hello gets its Welcome, in order.
    Server server;
    LoopbackTransport clean(server);
    for (int i = 0; i < 10; ++i) {
        auto w = only<protocol::Welcome>(ask(clean, protocol::Hello{}));
        CHECK(w.ident == static_cast<ClientIdent>(i + 1));
    }
}

} // namespace RESYNC_TEST_FILE
