// server::Engine (include/resync/server/engine.hpp) where it goes beyond the behaviour the
// testing::Server tests pin down: the open points of docs/server.md it settles - a retried
// ident-0 Hello, reserved idents tied to their requester and released once one is adopted, the
// schema of a client that never synced - and a storage that fails mid-transaction.
#include <resync/doc/model.hpp>
#include <resync/server/engine.hpp>
#include <resync/server/memory_storage.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
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
using Server = resync::testing::Server<resync::doc::Model>;
using Op = doc::Operation;
using Message = Server::ServerMessage;
using Local = LocalChangeset<Op>;

namespace {

template <class T>
T only(std::vector<Message> replies) {
    REQUIRE(replies.size() == 1);
    REQUIRE(std::holds_alternative<T>(replies[0]));
    return std::get<T>(std::move(replies[0]));
}

doc::Changeset put_ops(const std::string& key, std::int64_t v) {
    return {doc::CreateObject{"c", key}, doc::SetField{"c", key, "x", doc::Value{v}}};
}

protocol::FreshRequest first_request(ClientIdent requester) {
    protocol::FreshRequest q;
    q.ident = requester;
    q.max_bytes = 16;
    return q;
}

protocol::FreshRequest resume(ClientIdent requester, const protocol::FreshChunk& from, std::uint64_t offset) {
    protocol::FreshRequest q = first_request(requester);
    q.offset = offset;
    q.expected = from.position;
    q.reserved_ident = from.new_ident;
    return q;
}

} // namespace

TEST_CASE("a Hello retried before its Welcome came binds the connection to the ident the client adopted and "
          "releases the one it did not", "[server][engine][hello]") {
    Server server;
    testing::LinkSession link;
    const auto first = only<protocol::Welcome>(server.handle(link, protocol::Hello{}));
    const auto second = only<protocol::Welcome>(server.handle(link, protocol::Hello{}));
    REQUIRE(first.ident != second.ident);
    CHECK(server.knows_client(first.ident));
    CHECK(server.knows_client(second.ident));

    SECTION("the client adopted the first answer") {
        // Its first request names the first ident: not a protocol violation.
        const auto d = only<protocol::Download<Op>>(server.handle(link, protocol::Pull{first.ident, {}, 10}));
        CHECK(d.ident == first.ident);
        CHECK(server.knows_client(first.ident));
        CHECK_FALSE(server.knows_client(second.ident));
        // Bound now: the other ident is refused like any other.
        const auto e = only<ServerError>(server.handle(link, protocol::Pull{second.ident, {}, 10}));
        CHECK(e.action == ServerAction::protocol_violation);
        only<protocol::UploadAck>(server.handle(link, protocol::Upload<Op>{first.ident, {}, {Local{1, 0, put_ops("k", 1)}}}));
        CHECK(server.last_integrated(first.ident) == 1);
    }
    SECTION("the client adopted the last answer") {
        only<protocol::UploadAck>(server.handle(link, protocol::Upload<Op>{second.ident, {}, {Local{1, 0, put_ops("k", 1)}}}));
        CHECK(server.knows_client(second.ident));
        CHECK_FALSE(server.knows_client(first.ident));
    }
    SECTION("the client says Hello again with the ident it adopted") {
        only<protocol::Welcome>(server.handle(link, protocol::Hello{first.ident, {}, 0, first.epoch, first.schema_version}));
        CHECK(server.knows_client(first.ident));
        CHECK_FALSE(server.knows_client(second.ident));
    }
    SECTION("an ident handed out on another connection is still refused") {
        testing::LinkSession other;
        const auto theirs = only<protocol::Welcome>(server.handle(other, protocol::Hello{}));
        const auto e = only<ServerError>(server.handle(link, protocol::Pull{theirs.ident, {}, 10}));
        CHECK(e.action == ServerAction::protocol_violation);
        CHECK(server.knows_client(theirs.ident));
    }
}

TEST_CASE("a reserved ident resumes only the copy of the client that reserved it, and a request never takes "
          "another client's ident", "[server][engine][fresh]") {
    Server server;
    for (int i = 0; i < 10; ++i) server.write(put_ops("k" + std::to_string(i), i));
    testing::LinkSession la, lb;
    const auto a = only<protocol::Welcome>(server.handle(la, protocol::Hello{}));
    const auto b = only<protocol::Welcome>(server.handle(lb, protocol::Hello{}));

    const auto chunk = only<protocol::FreshChunk>(server.handle(la, first_request(a.ident)));
    REQUIRE(chunk.total_bytes > 32);
    const ClientIdent reserved = chunk.new_ident;
    CHECK(server.knows_client(reserved));

    // a resumes under its reservation, on another connection too.
    testing::LinkSession la2;
    only<protocol::Welcome>(server.handle(la2, protocol::Hello{a.ident, {}, 0, a.epoch, a.schema_version}));
    const auto next = only<protocol::FreshChunk>(server.handle(la2, resume(a.ident, chunk, 16)));
    CHECK(next.offset == 16);
    CHECK(next.new_ident == reserved);

    // b naming a's reservation starts a copy of its own.
    const auto stolen = only<protocol::FreshChunk>(server.handle(lb, resume(b.ident, chunk, 16)));
    CHECK(stolen.offset == 0);
    CHECK(stolen.new_ident != reserved);

    // Naming a bound ident - another client's, or its own - is never honoured.
    protocol::FreshChunk forged = chunk;
    forged.new_ident = a.ident;
    const auto hijack = only<protocol::FreshChunk>(server.handle(lb, resume(b.ident, forged, 16)));
    CHECK(hijack.offset == 0);
    CHECK(hijack.new_ident != a.ident);
    forged.new_ident = b.ident;
    const auto own = only<protocol::FreshChunk>(server.handle(lb, resume(b.ident, forged, 16)));
    CHECK(own.offset == 0);
    CHECK(own.new_ident != b.ident);

    // A client without an ident resumes its reservation on the connection that made it only.
    testing::LinkSession lz;
    REQUIRE(std::holds_alternative<protocol::Welcome>(server.handle(lz, protocol::Hello{})[0]));
    const auto z = only<protocol::FreshChunk>(server.handle(lz, first_request(0)));
    CHECK(only<protocol::FreshChunk>(server.handle(lz, resume(0, z, 16))).new_ident == z.new_ident);
    testing::LinkSession elsewhere;
    only<protocol::Welcome>(server.handle(elsewhere, protocol::Hello{}));
    CHECK(only<protocol::FreshChunk>(server.handle(elsewhere, resume(0, z, 16))).new_ident != z.new_ident);
}

TEST_CASE("the reservations of copies started over are released once the client adopts one",
          "[server][engine][fresh]") {
    Server server;
    for (int i = 0; i < 5; ++i) server.write(put_ops("k" + std::to_string(i), i));
    testing::LinkSession link;
    const auto a = only<protocol::Welcome>(server.handle(link, protocol::Hello{}));

    std::vector<ClientIdent> reserved;
    for (int i = 0; i < 3; ++i) {
        reserved.push_back(only<protocol::FreshChunk>(server.handle(link, first_request(a.ident))).new_ident);
        server.write(put_ops("later" + std::to_string(i), i)); // the server moves on: the copy starts over
    }
    for (const auto r : reserved) CHECK(server.knows_client(r));

    // The client adopts the second copy's ident (the one it completed) and says Hello with it.
    testing::LinkSession after;
    const auto w = only<protocol::Welcome>(server.handle(after, protocol::Hello{reserved[1], {}, 0, a.epoch, a.schema_version}));
    CHECK(w.ident == reserved[1]);
    CHECK(server.knows_client(reserved[1]));
    CHECK_FALSE(server.knows_client(reserved[0]));
    CHECK_FALSE(server.knows_client(reserved[2]));
    CHECK(server.knows_client(a.ident)); // the requester's own ident is not a reservation
    // Bound now: a later request naming it does not resume.
    protocol::FreshChunk as_if;
    as_if.position = server.latest();
    as_if.new_ident = reserved[1];
    CHECK(only<protocol::FreshChunk>(server.handle(link, resume(a.ident, as_if, 16))).new_ident != reserved[1]);
}

TEST_CASE("a client that never synced is on the server's schema, whatever ident its Hello carries",
          "[server][engine][schema]") {
    Server server;
    testing::LinkSession first;
    const auto w = only<protocol::Welcome>(server.handle(first, protocol::Hello{}));
    server.change_schema();
    REQUIRE(server.schema_version() == 2);
    const ServerPosition floor{server.history_floor(), server.latest().salt};

    testing::LinkSession again;
    only<protocol::Welcome>(server.handle(again, protocol::Hello{w.ident, floor, 0, 0, 0}));
    CHECK(only<protocol::Download<Op>>(server.handle(again, protocol::Pull{w.ident, floor, 10})).entries.empty());

    // A client that did sync on schema 1 is still refused.
    testing::LinkSession old;
    only<protocol::Welcome>(server.handle(old, protocol::Hello{w.ident, floor, 0, w.epoch, 1}));
    CHECK(only<ServerError>(server.handle(old, protocol::Pull{w.ident, floor, 10})).code == server_code::bad_client_file);
}

// ------------------------------------------------------------------------- a failing storage

namespace {

/// A MemoryStorage whose write transactions fail at the n-th append, rolled back whole (as a
/// database does): what the engine must cope with when its storage fails mid-upload.
class FlakyStorage {
    using Inner = server::MemoryStorage<doc::Model>;

public:
    class Txn {
    public:
        Txn(Inner::Txn inner, FlakyStorage& s) : inner_(inner), s_(&s) {}
        bool failed() const noexcept { return failed_; }
        server::Head head() const { return inner_.head(); }
        std::optional<std::uint64_t> salt_in_history(std::uint64_t v) const { return inner_.salt_in_history(v); }
        std::optional<server::ClientEntry> client(ClientIdent i) const { return inner_.client(i); }
        std::optional<std::uint64_t> integrated_at(ClientIdent i, ClientVersion cv) const { return inner_.integrated_at(i, cv); }
        void history_after(std::uint64_t v, std::size_t max, std::vector<RemoteChangeset<Op>>& out) const {
            inner_.history_after(v, max, out);
        }
        ClientVersion last_from_history(ClientIdent i) const { return inner_.last_from_history(i); }
        std::optional<server::EntryOrigin> entry_at(std::uint64_t v) const { return inner_.entry_at(v); }
        server::EncodedCopy encode_copy() const { return inner_.encode_copy(); }
        ClientIdent register_client(const server::ClientEntry& e) { return inner_.register_client(e); }
        void forget(ClientIdent i) { inner_.forget(i); }
        void bind(ClientIdent i) { inner_.bind(i); }
        void release_reservations(ClientIdent r, ClientIdent except) { inner_.release_reservations(r, except); }
        ServerPosition append(ClientIdent origin, ClientVersion cv, std::vector<Op> ops) {
            if (failed_ || (s_->fail_at_append != 0 && --s_->fail_at_append == 0)) {
                failed_ = true;
                return {};
            }
            return inner_.append(origin, cv, std::move(ops));
        }
        void record_integrated(ClientIdent i, ClientVersion cv, std::uint64_t sv) {
            if (!failed_) inner_.record_integrated(i, cv, sv);
        }

    private:
        Inner::Txn inner_;
        FlakyStorage* s_;
        bool failed_ = false;
    };

    template <class F>
    std::error_code read(F&& f) {
        Txn t(Inner::Txn(inner_), *this);
        f(t);
        return {};
    }
    template <class F>
    std::error_code write(F&& f) {
        const Inner::Data before = inner_.data();
        Txn t(Inner::Txn(inner_), *this);
        f(t);
        if (!t.failed()) return {};
        inner_.restore(before);
        return std::make_error_code(std::errc::io_error);
    }

    const Inner::Data& data() const { return inner_.data(); }
    int fail_at_append = 0; ///< 0: never; n: the n-th append from now fails

private:
    Inner inner_;
};

static_assert(server::Storage<FlakyStorage, doc::Model>);

} // namespace

TEST_CASE("a storage that fails mid-upload rolls the upload back whole; the client's retry applies it once",
          "[server][engine][storage]") {
    server::Engine<doc::Model, FlakyStorage> engine{FlakyStorage{}};
    server::LinkSession link;
    const auto w = only<protocol::Welcome>(engine.handle(link, protocol::Hello{}));
    const protocol::Upload<Op> upload{w.ident, {}, {Local{1, 0, put_ops("a", 1)}, Local{2, 0, put_ops("b", 2)}, Local{3, 0, put_ops("c", 3)}}};

    engine.storage().fail_at_append = 2;
    const auto e = only<ServerError>(engine.handle(link, upload));
    CHECK(e.code == server_code::other_session_error);
    CHECK(e.action == ServerAction::transient);
    CHECK(engine.last_storage_error() == std::errc::io_error);
    CHECK(engine.storage().data().history.empty());
    CHECK(engine.storage().data().state.object_count() == 0);
    CHECK(engine.storage().data().clients.at(w.ident).last_integrated == 0);
    CHECK(link.upload_acked == 0);

    const auto ack = only<protocol::UploadAck>(engine.handle(link, upload));
    CHECK(ack.client_version == 3);
    CHECK(engine.storage().data().history.size() == 3);
    CHECK(engine.storage().data().state.object_count() == 3);
    const auto again = only<protocol::UploadAck>(engine.handle(link, upload));
    CHECK(again.integrated == ack.integrated);
    CHECK(engine.storage().data().history.size() == 3);
}

} // namespace RESYNC_TEST_FILE
