// MemoryStore (include/resync/memory_store.hpp): local write transactions, the unsynced list,
// acknowledgements, integration of server changes under local ones (with a property test against
// a from-scratch reference model), malformed input, the reset commits, and history retention.
#include <resync/error.hpp>
#include <resync/memory_store.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/snapshot_decoder.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;

namespace {

using Op = doc::Operation;
using Remote = RemoteChangeset<Op>;
using Local = LocalChangeset<Op>;

doc::Value S(const char* s) { return doc::Value{std::string(s)}; }
doc::Value I(std::int64_t i) { return doc::Value{i}; }

/// Writes `c/key.field = value` (creating the object) in one transaction; returns its version.
ClientVersion put(MemoryStore& store, const std::string& key, const std::string& field, doc::Value value) {
    auto v = store.write([&](doc::Writer& w) { w.create("c", key).set("c", key, field, std::move(value)); });
    REQUIRE(v);
    return *v;
}

Remote remote(std::uint64_t version, ClientIdent origin, ClientVersion cv, doc::Changeset ops) {
    Remote r;
    r.server_version = version;
    r.salt = 0x1000 + version * 7919;
    r.origin = origin;
    r.client_version = cv;
    r.ops = std::move(ops);
    return r;
}

Op set_op(const std::string& key, const std::string& field, doc::Value v) {
    return doc::SetField{"c", key, field, std::move(v)};
}
Op create_op(const std::string& key) { return doc::CreateObject{"c", key}; }

std::vector<ClientVersion> versions_of(const std::vector<Local>& v) {
    std::vector<ClientVersion> out;
    for (const auto& c : v) out.push_back(c.client_version);
    return out;
}

/// Everything observable about a store, to check that a call changed nothing.
struct Observed {
    doc::State state;
    std::vector<Local> unsynced;
    std::vector<Local> acknowledged;
    SyncState sync;
    ClientVersion last = 0;

    explicit Observed(const MemoryStore& s)
        : state(s.state()), unsynced(s.unsynced()), acknowledged(s.acknowledged_after(0)), sync(s.sync_state()),
          last(s.last_client_version()) {}
    friend bool operator==(const Observed&, const Observed&) = default;
};

MemoryStore store_with_ident(ClientIdent ident) {
    MemoryStore s;
    SyncState st;
    st.client_ident = ident;
    st.epoch = 1;
    REQUIRE_FALSE(s.write_sync_state(st));
    return s;
}

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

} // namespace

// ------------------------------------------------------------------------------------- writes

TEST_CASE("each local write records one changeset with the next client version", "[store][memory][write]") {
    MemoryStore store;
    CHECK(store.last_client_version() == 0);
    CHECK(put(store, "a", "x", I(1)) == 1);
    CHECK(put(store, "b", "x", S("two")) == 2);
    auto v3 = store.write([](doc::Writer& w) { w.create("c", "a").add("c", "a", "x", 5).erase("c", "b"); });
    REQUIRE(v3);
    CHECK(*v3 == 3);
    CHECK(store.last_client_version() == 3);

    const auto un = store.unsynced();
    REQUIRE(un.size() == 3);
    CHECK(versions_of(un) == std::vector<ClientVersion>{1, 2, 3});
    for (const auto& cs : un) CHECK_FALSE(cs.acknowledged());
    CHECK(un[0].ops == doc::Changeset{create_op("a"), set_op("a", "x", I(1))});
    CHECK(un[2].ops == doc::Changeset{create_op("a"), doc::AddInteger{"c", "a", "x", 5}, doc::EraseObject{"c", "b"}});

    CHECK(store.get("c", "a", "x") == I(6));
    CHECK(store.state().find("c", "b") == nullptr);
    CHECK(store.export_snapshot() == store.state());
}

TEST_CASE("a write whose function throws leaves state and history unchanged and rethrows",
          "[store][memory][write][atomicity]") {
    MemoryStore store;
    put(store, "a", "x", I(1));
    put(store, "b", "y", S("keep"));
    const Observed before(store);

    CHECK_THROWS_AS(store.write([](doc::Writer& w) {
        w.set("c", "a", "x", I(99)).erase("c", "b").create("c", "new").set("c", "new", "f", S("v"));
        w.add("c", "a", "x", 1);
        throw Boom{};
    }),
                    Boom);
    CHECK(Observed(store) == before);
    CHECK(store.get("c", "a", "x") == I(1));
    CHECK(store.get("c", "b", "y") == S("keep"));
    CHECK(store.state().find("c", "new") == nullptr);

    // The next write still gets the next version: the failed one consumed none.
    CHECK(put(store, "a", "x", I(2)) == 3);
}

TEST_CASE("a write returning a non-empty error_code rolls back and returns that error", "[store][memory][write][atomicity]") {
    MemoryStore store;
    put(store, "a", "x", I(1));
    const Observed before(store);
    const std::error_code why = std::make_error_code(std::errc::operation_canceled);
    auto r = store.write([&](doc::Writer& w) {
        w.set("c", "a", "x", I(2)).erase("c", "a").create("c", "z");
        return why;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error() == why);
    CHECK(Observed(store) == before);

    // An empty error_code is success.
    auto ok = store.write([](doc::Writer& w) {
        w.set("c", "a", "x", I(3));
        return std::error_code{};
    });
    REQUIRE(ok);
    CHECK(*ok == 2);
    CHECK(store.get("c", "a", "x") == I(3));
}

TEST_CASE("a write that writes nothing records nothing", "[store][memory][write]") {
    MemoryStore store;
    put(store, "a", "x", I(1));
    const Observed before(store);
    auto r = store.write([](doc::Writer&) {});
    REQUIRE(r);
    CHECK(*r == 0);
    CHECK(Observed(store) == before);
    CHECK(put(store, "a", "x", I(2)) == 2);
}

// ------------------------------------------------------------------------------ acknowledgements

TEST_CASE("unsynced lists exactly the changesets the server has not acknowledged", "[store][memory][ack]") {
    MemoryStore store;
    for (int i = 0; i < 4; ++i) put(store, "k" + std::to_string(i), "x", I(i));
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{1, 2, 3, 4});

    const std::vector<std::pair<ClientVersion, std::uint64_t>> first{{1, 10}, {2, 11}};
    REQUIRE_FALSE(store.acknowledge(2, first));
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{3, 4});
    CHECK(store.sync_state().upload_acked == 2);
    const auto acked = store.acknowledged_after(0);
    REQUIRE(acked.size() == 2);
    CHECK(acked[0].server_version == 10);
    CHECK(acked[1].server_version == 11);
    CHECK(versions_of(store.acknowledged_after(10)) == std::vector<ClientVersion>{2});

    // A duplicated (or late) ack changes nothing, and the ack cursor never goes back.
    REQUIRE_FALSE(store.acknowledge(2, first));
    const std::vector<std::pair<ClientVersion, std::uint64_t>> older{{1, 10}};
    REQUIRE_FALSE(store.acknowledge(1, older));
    CHECK(store.sync_state().upload_acked == 2);
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{3, 4});
    CHECK(store.acknowledged_after(0)[0].server_version == 10);

    // A new write after an ack is unsynced.
    put(store, "n", "x", I(9));
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{3, 4, 5});
}

TEST_CASE("an acknowledgement of a version never written is impossible_position and changes nothing",
          "[store][memory][ack][bad-input]") {
    MemoryStore store;
    put(store, "a", "x", I(1));
    put(store, "b", "x", I(2));
    const Observed before(store);

    const std::vector<std::pair<ClientVersion, std::uint64_t>> beyond{{1, 5}, {2, 6}, {3, 7}};
    CHECK(store.acknowledge(3, beyond) == errc::impossible_position);
    CHECK(Observed(store) == before);

    const std::vector<std::pair<ClientVersion, std::uint64_t>> none;
    CHECK(store.acknowledge(3, none) == errc::impossible_position);
    CHECK(Observed(store) == before);

    // A pair above the acknowledged version, or at server version 0, is just as impossible.
    const std::vector<std::pair<ClientVersion, std::uint64_t>> above{{1, 5}, {2, 6}};
    CHECK(store.acknowledge(1, above) == errc::impossible_position);
    CHECK(Observed(store) == before);
    const std::vector<std::pair<ClientVersion, std::uint64_t>> zero{{1, 0}};
    CHECK(store.acknowledge(1, zero) == errc::impossible_position);
    CHECK(Observed(store) == before);

    // A store that never wrote anything accepts no ack at all.
    MemoryStore empty;
    const std::vector<std::pair<ClientVersion, std::uint64_t>> one{{1, 1}};
    CHECK(empty.acknowledge(1, one) == errc::impossible_position);
    CHECK(empty.sync_state().upload_acked == 0);
}

// ------------------------------------------------------------------------------- integration

TEST_CASE("server changes are applied under local unsynced changes, in server order", "[store][memory][integrate]") {
    MemoryStore store = store_with_ident(1);
    put(store, "a", "x", S("local")); // v1, pending

    // Another client set the same field, and created an object the local change did not touch.
    const std::vector<Remote> first{remote(1, 2, 1, {create_op("a"), set_op("a", "x", S("remote")), set_op("a", "y", I(1))}),
                                    remote(2, 3, 1, {create_op("b"), set_op("b", "x", I(7))})};
    REQUIRE_FALSE(store.integrate(first));
    CHECK(store.get("c", "a", "x") == S("local")); // the pending local change is still on top
    CHECK(store.get("c", "a", "y") == I(1));
    CHECK(store.get("c", "b", "x") == I(7));
    CHECK(store.sync_state().download == first.back().position());
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{1});

    // The local change comes back, integrated after another client's change to the same field:
    // server order decides, and the change is no longer unsynced.
    const std::vector<Remote> second{remote(3, 1, 1, {create_op("a"), set_op("a", "x", S("local"))}),
                                     remote(4, 2, 2, {set_op("a", "x", S("later"))})};
    REQUIRE_FALSE(store.integrate(second));
    CHECK(store.get("c", "a", "x") == S("later"));
    CHECK(store.unsynced().empty());
    CHECK(store.sync_state().upload_acked == 1);
    CHECK(store.sync_state().download == ServerPosition{4, second.back().salt});
    const auto acked = store.acknowledged_after(0);
    REQUIRE(acked.size() == 1);
    CHECK(acked[0].server_version == 3);

    // An erase from the server under a pending local set: the set finds no object and does nothing.
    put(store, "b", "x", I(8)); // v2: create + set, so it survives the erase
    auto only_set = store.write([](doc::Writer& w) { w.set("c", "a", "z", I(5)); }); // v3
    REQUIRE(only_set);
    const std::vector<Remote> third{remote(5, 2, 3, {doc::EraseObject{"c", "b"}, doc::EraseObject{"c", "a"}})};
    REQUIRE_FALSE(store.integrate(third));
    CHECK(store.get("c", "b", "x") == I(8));
    CHECK(store.state().find("c", "a") == nullptr);
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{2, 3});

    // Integrating nothing changes nothing.
    const Observed before(store);
    REQUIRE_FALSE(store.integrate(std::span<const Remote>{}));
    CHECK(Observed(store) == before);
}

TEST_CASE("malformed integrate input is impossible_position and leaves everything untouched",
          "[store][memory][integrate][bad-input]") {
    MemoryStore store = store_with_ident(1);
    put(store, "a", "x", I(1)); // v1
    put(store, "b", "x", I(2)); // v2
    const std::vector<Remote> ok{remote(1, 2, 1, {create_op("r"), set_op("r", "x", I(3))}),
                                 remote(2, 1, 1, {create_op("a"), set_op("a", "x", I(1))})};
    REQUIRE_FALSE(store.integrate(ok));
    const Observed before(store);
    CHECK(versions_of(before.unsynced) == std::vector<ClientVersion>{2});

    auto rejected = [&](std::vector<Remote> entries) {
        CHECK(store.integrate(entries) == errc::impossible_position);
        CHECK(Observed(store) == before);
    };
    SECTION("an entry at or below the download cursor") {
        rejected({remote(2, 3, 1, {create_op("q")})});
        rejected({remote(1, 3, 1, {create_op("q")})});
    }
    SECTION("versions going backwards inside one download") {
        rejected({remote(3, 3, 1, {create_op("q")}), remote(5, 3, 2, {create_op("w")}), remote(4, 3, 3, {})});
    }
    SECTION("the same version twice") {
        rejected({remote(3, 3, 1, {create_op("q")}), remote(3, 3, 2, {create_op("w")})});
    }
    SECTION("an own entry that is not the next pending local changeset") {
        rejected({remote(3, 1, 3, {create_op("q")})});                                     // never written
        rejected({remote(3, 1, 1, {create_op("a")})});                                     // already came back
        rejected({remote(3, 1, 2, {create_op("b")}), remote(4, 1, 2, {create_op("b")})}); // the same one twice
    }
    SECTION("a valid prefix does not get applied when a later entry is bad") {
        rejected({remote(3, 3, 1, {create_op("q"), set_op("q", "x", I(1))}), remote(4, 1, 9, {create_op("z")})});
    }
}

namespace {

/// A random changeset over a small key space, so that changes conflict often.
doc::Changeset random_ops(std::mt19937_64& rng) {
    static const char* const keys[] = {"a", "b", "c"};
    static const char* const fields[] = {"x", "y"};
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    doc::Changeset ops;
    const std::size_t n = 1 + pick(3);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string coll = pick(5) == 0 ? "d" : "c";
        const std::string key = keys[pick(3)];
        const std::string field = fields[pick(2)];
        switch (pick(10)) {
        case 0:
        case 1: ops.push_back(doc::CreateObject{coll, key}); break;
        case 2: ops.push_back(doc::EraseObject{coll, key}); break;
        case 3:
        case 4: ops.push_back(doc::AddInteger{coll, key, field, static_cast<std::int64_t>(pick(21)) - 10}); break;
        default: {
            doc::Value v;
            switch (pick(5)) {
            case 0: v = doc::Null{}; break;
            case 1: v = static_cast<std::int64_t>(pick(100)); break;
            case 2: v = std::string(1, static_cast<char>('p' + pick(4))); break;
            case 3: v = pick(2) == 0; break;
            default: v = static_cast<double>(pick(8)) / 4; break;
            }
            ops.push_back(doc::SetField{coll, key, field, std::move(v)});
        }
        }
    }
    return ops;
}

/// The reference model: the server's log, how much of it the store has integrated, and the local
/// changesets; the expected state is recomputed from scratch as "server history in server order,
/// then the local changes the server has not sent back", in client-version order.
struct Reference {
    struct Mine {
        ClientVersion cv = 0;
        doc::Changeset ops;
        std::uint64_t server_version = 0; ///< set once the server integrated it
        bool acked = false;               ///< acknowledged by an ack or by coming back
        bool came_back = false;           ///< downloaded: part of the synced base
    };
    std::vector<Remote> log;
    std::size_t downloaded = 0;
    std::vector<Mine> mine;
    std::size_t uploaded = 0; ///< the server integrated mine[0, uploaded)
    ClientVersion upload_acked = 0;

    doc::State expected_state() const {
        doc::State s;
        for (std::size_t i = 0; i < downloaded; ++i) doc::apply(s, log[i].ops);
        for (const auto& m : mine)
            if (!m.came_back) doc::apply(s, m.ops);
        return s;
    }
    std::vector<Local> expected_unsynced() const {
        std::vector<Local> out;
        for (const auto& m : mine)
            if (!m.acked) out.push_back(Local{m.cv, 0, m.ops});
        return out;
    }
    std::vector<Local> expected_acknowledged() const {
        std::vector<Local> out;
        for (const auto& m : mine)
            if (m.acked) out.push_back(Local{m.cv, m.server_version, m.ops});
        return out;
    }
    ServerPosition cursor() const { return downloaded == 0 ? ServerPosition{} : log[downloaded - 1].position(); }
};

} // namespace

TEST_CASE("property: integrating random server histories under random local writes equals the server history "
          "followed by the pending local changes",
          "[store][memory][integrate][property]") {
    constexpr ClientIdent me = 1;
    std::size_t came_back = 0, steps_checked = 0, rejected = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        std::mt19937_64 rng(seed * 1000003);
        MemoryStore store = store_with_ident(me);
        Reference ref;
        auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
        for (int step = 0; step < 200; ++step) {
            CAPTURE(seed, step);
            const std::size_t what = pick(100);
            if (what < 28) { // a local write
                auto ops = random_ops(rng);
                auto v = store.write([&](doc::Writer& w) {
                    for (const auto& op : ops) w.apply(op);
                });
                REQUIRE(v);
                REQUIRE(*v == ref.mine.size() + 1);
                ref.mine.push_back({*v, std::move(ops)});
            } else if (what < 50) { // another client's change reaches the server
                Remote r;
                r.server_version = ref.log.size() + 1;
                r.salt = rng() | 1;
                r.origin = 2 + pick(2);
                r.client_version = 1 + pick(50);
                r.ops = random_ops(rng);
                ref.log.push_back(std::move(r));
            } else if (what < 65) { // the server integrates this client's oldest un-uploaded changesets
                const std::size_t n = std::min<std::size_t>(1 + pick(3), ref.mine.size() - ref.uploaded);
                for (std::size_t i = 0; i < n; ++i) {
                    auto& m = ref.mine[ref.uploaded++];
                    Remote r;
                    r.server_version = ref.log.size() + 1;
                    r.salt = rng() | 1;
                    r.origin = me;
                    r.client_version = m.cv;
                    r.ops = m.ops;
                    m.server_version = r.server_version;
                    ref.log.push_back(std::move(r));
                }
            } else if (what < 75) { // an ack for a batch of what the server integrated (maybe a repeat)
                if (ref.uploaded == 0) continue;
                const std::size_t upto = 1 + pick(ref.uploaded);
                const std::size_t from = pick(upto);
                std::vector<std::pair<ClientVersion, std::uint64_t>> integrated;
                for (std::size_t i = from; i < upto; ++i) integrated.emplace_back(ref.mine[i].cv, ref.mine[i].server_version);
                REQUIRE_FALSE(store.acknowledge(ref.mine[upto - 1].cv, integrated));
                for (std::size_t i = from; i < upto; ++i) ref.mine[i].acked = true;
                ref.upload_acked = std::max(ref.upload_acked, ref.mine[upto - 1].cv);
            } else if (what < 95) { // a download of the next few server entries
                if (ref.downloaded == ref.log.size()) continue;
                const std::size_t n = 1 + pick(std::min<std::size_t>(6, ref.log.size() - ref.downloaded));
                std::span<const Remote> entries(ref.log.data() + ref.downloaded, n);
                REQUIRE_FALSE(store.integrate(entries));
                for (const auto& e : entries) {
                    if (e.origin != me) continue;
                    auto& m = ref.mine[e.client_version - 1];
                    m.came_back = m.acked = true;
                    ref.upload_acked = std::max(ref.upload_acked, m.cv);
                    ++came_back;
                }
                ref.downloaded += n;
            } else { // a malformed download: rejected, nothing changes
                const Observed before(store);
                std::vector<Remote> bad;
                if (ref.downloaded < ref.log.size() && pick(2) == 0) {
                    // a valid next entry, then one going backwards
                    bad.push_back(ref.log[ref.downloaded]);
                    bad.push_back(ref.log[ref.downloaded]);
                } else {
                    // this client's entry for a changeset that is not the next pending one
                    std::size_t next = 0;
                    while (next < ref.mine.size() && ref.mine[next].came_back) ++next;
                    bad.push_back(remote(ref.log.size() + 1, me, next + 2, {create_op("bad")}));
                }
                REQUIRE(store.integrate(bad) == errc::impossible_position);
                REQUIRE(Observed(store) == before);
                ++rejected;
            }
            REQUIRE(store.state() == ref.expected_state());
            REQUIRE(store.unsynced() == ref.expected_unsynced());
            REQUIRE(store.has_unsynced() == !ref.expected_unsynced().empty());
            REQUIRE(store.acknowledged_after(0) == ref.expected_acknowledged());
            REQUIRE(store.sync_state().download == ref.cursor());
            REQUIRE(store.sync_state().upload_acked == ref.upload_acked);
            ++steps_checked;
        }
    }
    // The runs did exercise own changesets coming back and malformed input.
    CHECK(came_back > 60);
    CHECK(rejected > 12);
    CHECK(steps_checked > 8 * 150);
}

// ------------------------------------------------------------------------------------- resets

TEST_CASE("commit_reset replaces the state, installs the history as unsynced on top, replaces the sync state "
          "and returns the old state",
          "[store][memory][reset]") {
    MemoryStore store = store_with_ident(1);
    put(store, "old", "x", I(1)); // v1
    put(store, "a", "x", I(2));   // v2
    const std::vector<std::pair<ClientVersion, std::uint64_t>> acked{{1, 4}};
    REQUIRE_FALSE(store.acknowledge(1, acked));
    const doc::State old_state = store.state();

    doc::State fresh;
    doc::apply(fresh, doc::Changeset{create_op("a"), set_op("a", "x", I(10)), create_op("f"), set_op("f", "y", S("s"))});
    std::vector<Local> history{Local{7, 0, {set_op("a", "x", I(11))}},
                               Local{8, 99, {create_op("n"), set_op("n", "x", I(1))}}};
    SyncState next;
    next.client_ident = 42;
    next.download = {30, 0x30};
    next.epoch = 9;
    next.schema_version = 2;
    PendingReset record;
    record.reason = ResetReason::epoch_changed;
    next.pending_reset = record;

    auto before = store.commit_reset({fresh, history, next});
    REQUIRE(before);
    CHECK(*before == old_state);

    doc::State expected = fresh;
    doc::apply(expected, history[0].ops);
    doc::apply(expected, history[1].ops);
    CHECK(store.state() == expected);
    CHECK(store.get("c", "a", "x") == I(11));
    CHECK(store.state().find("c", "old") == nullptr);
    CHECK(store.sync_state() == next);

    // The installed history is unsynced, whatever server version it carried; the old one is gone.
    const auto un = store.unsynced();
    REQUIRE(un.size() == 2);
    CHECK(un[0] == Local{7, 0, history[0].ops});
    CHECK(un[1] == Local{8, 0, history[1].ops});
    CHECK(store.acknowledged_after(0).empty());
    // Client versions go on above the installed history.
    CHECK(put(store, "z", "x", I(0)) == 9);

    // The installed changes are real pending changes: server changes integrate under them.
    const std::vector<Remote> down{remote(31, 5, 1, {set_op("a", "x", I(50)), set_op("f", "y", S("server"))})};
    REQUIRE_FALSE(store.integrate(down));
    CHECK(store.get("c", "a", "x") == I(11));
    CHECK(store.get("c", "f", "y") == S("server"));
}

TEST_CASE("commit_reset with no history starts a new client version sequence and syncs from the new cursor",
          "[store][memory][reset]") {
    MemoryStore store = store_with_ident(1);
    put(store, "a", "x", I(1));
    put(store, "a", "x", I(2));
    doc::State fresh;
    doc::apply(fresh, doc::Changeset{create_op("s")});
    SyncState next;
    next.client_ident = 3;
    next.download = {5, 0x5};
    next.epoch = 2;
    REQUIRE(store.commit_reset({fresh, {}, next}));
    CHECK(store.state() == fresh);
    CHECK(store.unsynced().empty());
    CHECK(store.last_client_version() == 0);
    CHECK(put(store, "b", "x", I(1)) == 1);
    // The cursor moved: an entry at or below 5 is now impossible, 6 is next.
    const std::vector<Remote> stale{remote(5, 2, 1, {})};
    CHECK(store.integrate(stale) == errc::impossible_position);
    const std::vector<Remote> next_entry{remote(6, 2, 1, {create_op("t")})};
    CHECK_FALSE(store.integrate(next_entry));
    CHECK(store.state().find("c", "t") != nullptr);
}

TEST_CASE("commit_reset_diff writes exactly the objects that differ and keeps unchanged ones in place",
          "[store][memory][reset][diff]") {
    MemoryStore store = store_with_ident(1);
    auto w = store.write([](doc::Writer& wr) {
        wr.create("c", "k").set("c", "k", "x", I(1));         // unchanged
        wr.create("c", "u").set("c", "u", "x", I(1));         // updated (field value)
        wr.create("c", "v").set("c", "v", "x", I(1));         // updated (field added)
        wr.create("c", "e").set("c", "e", "x", I(1));         // erased
        wr.create("d", "gone");                               // erased, with its whole collection
        wr.create("c", "h").set("c", "h", "x", S("local"));   // unchanged after the history is applied
    });
    REQUIRE(w);
    const doc::Object* k_before = &store.state().collections.at("c").at("k");
    const doc::Object* h_before = &store.state().collections.at("c").at("h");

    doc::State fresh;
    doc::apply(fresh, doc::Changeset{create_op("k"), set_op("k", "x", I(1)),
                                     create_op("u"), set_op("u", "x", I(2)),
                                     create_op("v"), set_op("v", "x", I(1)), set_op("v", "y", I(1)),
                                     create_op("h"), set_op("h", "x", S("server")),
                                     create_op("n")});
    doc::apply(fresh, doc::Operation{doc::CreateObject{"e2", "m"}});
    // The recovered history sets h back to what the live store shows: h is unchanged overall.
    std::vector<Local> history{Local{4, 0, {set_op("h", "x", S("local"))}}};
    SyncState next;
    next.client_ident = 2;
    next.download = {12, 0x12};
    next.epoch = 3;

    doc::State target = fresh;
    doc::apply(target, history[0].ops);

    auto stats = store.commit_reset_diff({fresh, history, next});
    REQUIRE(stats);
    CHECK(stats->created == 2);   // c/n, e2/m
    CHECK(stats->updated == 2);   // c/u, c/v
    CHECK(stats->erased == 2);    // c/e, d/gone
    CHECK(stats->unchanged == 2); // c/k, c/h
    CHECK(stats->written() == 6);

    CHECK(store.state() == target);
    CHECK(&store.state().collections.at("c").at("k") == k_before);
    CHECK(&store.state().collections.at("c").at("h") == h_before);
    CHECK(store.sync_state() == next);
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{4});

    SECTION("a second identical commit writes nothing") {
        const doc::Object* u_before = &store.state().collections.at("c").at("u");
        auto again = store.commit_reset_diff({target, {}, next});
        REQUIRE(again);
        CHECK(*again == DiffStats{0, 0, 0, 6});
        CHECK(again->written() == 0);
        CHECK(&store.state().collections.at("c").at("u") == u_before);
        CHECK(store.unsynced().empty());
    }
}

namespace {

/// A small random state over few names, so that two of them share collections and keys.
doc::State random_state(std::mt19937_64& rng) {
    auto below = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    doc::State s;
    for (const char* name : {"a", "b", "c"}) {
        if (below(4) == 0) continue; // sometimes the collection is absent
        auto& c = s.collections[name];
        for (int key = 0; key < 8; ++key) {
            if (below(3) == 0) continue;
            auto& obj = c[std::to_string(key)];
            for (const char* field : {"x", "y"})
                if (below(2) == 0) obj.insert_or_assign(field, I(static_cast<std::int64_t>(below(3))));
        }
    }
    return s;
}

/// A store holding `state` as its synced base, with no local changes.
MemoryStore store_holding(const doc::State& state) {
    MemoryStore store(7);
    SyncState st;
    st.client_ident = 1;
    REQUIRE_FALSE(store.write_sync_state(st));
    REQUIRE(store.commit_reset({state, {}, st}));
    return store;
}

} // namespace

TEST_CASE("commit_reset_diff_keeping_before hands back exactly the old state, with commit_reset_diff's stats",
          "[store][memory][reset][diff]") {
    std::mt19937_64 rng(20261126);
    for (int round = 0; round < 300; ++round) {
        CAPTURE(round);
        const doc::State old_state = random_state(rng);
        const doc::State fresh = random_state(rng);
        SyncState next;
        next.client_ident = 2;
        next.download = {12, 0x12};

        MemoryStore plain = store_holding(old_state);
        MemoryStore keeping = store_holding(old_state);
        // Objects the fresh state leaves unchanged stay in place.
        struct Kept {
            std::string collection, key;
            const doc::Object* address;
        };
        std::vector<Kept> kept;
        for (const auto& [name, c] : keeping.state().collections)
            for (const auto& [key, obj] : c)
                if (const doc::Object* f = fresh.find(name, key); f && *f == obj) kept.push_back({name, key, &obj});

        auto stats = plain.commit_reset_diff({fresh, {}, next});
        auto done = keeping.commit_reset_diff_keeping_before({fresh, {}, next});
        REQUIRE(stats);
        REQUIRE(done);
        CHECK(done->stats == *stats);
        CHECK(done->before == old_state);
        CHECK(done->before.collections.size() == old_state.collections.size()); // empty ones too
        CHECK(keeping.state() == fresh);
        CHECK(Observed(keeping) == Observed(plain));
        CHECK(done->stats.unchanged == kept.size());
        for (const auto& k : kept) CHECK(keeping.state().find(k.collection, k.key) == k.address);
    }
}

TEST_CASE("commit_reset_diff_keeping_before keeps the unsynced history it is given, as commit_reset_diff does",
          "[store][memory][reset][diff]") {
    MemoryStore store = store_with_ident(1);
    put(store, "k", "x", I(1));
    put(store, "e", "x", I(1));
    const doc::State old_state = store.state();
    doc::State fresh;
    doc::apply(fresh, doc::Changeset{create_op("k"), set_op("k", "x", I(2))});
    std::vector<Local> history{Local{5, 0, {create_op("n"), set_op("n", "x", S("mine"))}}};
    SyncState next;
    next.client_ident = 2;

    auto done = store.commit_reset_diff_keeping_before({fresh, history, next});
    REQUIRE(done);
    CHECK(done->before == old_state);
    CHECK(done->stats == DiffStats{1, 1, 1, 0});
    CHECK(store.get("c", "n", "x") == S("mine"));
    CHECK(store.get("c", "k", "x") == I(2));
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{5});
    CHECK(store.sync_state() == next);
}

// ---------------------------------------------------------------------------------- retention

TEST_CASE("set_retention trims acknowledged history that came back, and never pending changes",
          "[store][memory][retention]") {
    constexpr ClientIdent me = 1;
    MemoryStore store = store_with_ident(me);
    for (int i = 0; i < 6; ++i) put(store, "k", "x", I(i)); // v1..v6

    // The server integrated v1..v4 at 1..4 and sent them back; v5 is acknowledged but not back yet.
    std::vector<Remote> back;
    for (ClientVersion v = 1; v <= 4; ++v) back.push_back(remote(v, me, v, {create_op("k"), set_op("k", "x", I(static_cast<std::int64_t>(v) - 1))}));
    REQUIRE_FALSE(store.integrate(back));
    const std::vector<std::pair<ClientVersion, std::uint64_t>> acked{{5, 5}};
    REQUIRE_FALSE(store.acknowledge(5, acked));
    CHECK(versions_of(store.acknowledged_after(0)) == std::vector<ClientVersion>{1, 2, 3, 4, 5});

    store.set_retention(2);
    CHECK(versions_of(store.acknowledged_after(0)) == std::vector<ClientVersion>{3, 4, 5});
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{6});

    store.set_retention(0);
    // v5 is acknowledged but still needed to rebase under server changes: kept.
    CHECK(versions_of(store.acknowledged_after(0)) == std::vector<ClientVersion>{5});
    CHECK(versions_of(store.unsynced()) == std::vector<ClientVersion>{6});
    CHECK(store.get("c", "k", "x") == I(5));

    // Once v5 comes back, it goes too; the trimmed history did not disturb the rebase.
    const std::vector<Remote> more{remote(5, 2, 1, {set_op("k", "y", I(1))}),
                                   remote(6, me, 5, {create_op("k"), set_op("k", "x", I(4))})};
    REQUIRE_FALSE(store.integrate(more));
    CHECK(store.acknowledged_after(0).empty());
    CHECK(store.get("c", "k", "x") == I(5)); // v6 is still on top
    CHECK(store.get("c", "k", "y") == I(1));

    // With retention, the window applies as changes come back.
    store.set_retention(1);
    const std::vector<Remote> last{remote(7, me, 6, {create_op("k"), set_op("k", "x", I(5))})};
    REQUIRE_FALSE(store.integrate(last));
    CHECK(versions_of(store.acknowledged_after(0)) == std::vector<ClientVersion>{6});
    CHECK(store.unsynced().empty());
}

} // namespace RESYNC_TEST_FILE
