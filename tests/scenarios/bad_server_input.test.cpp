// Scenario: bad input from the server. A message with impossible positions (versions going
// backwards inside one download, entries past the announced latest, a latest below the base,
// acknowledgements of changes never made) or addressed to another client ident gets a typed
// error, leaves the store untouched (state, history, sync state) and the session goes on. A
// damaged fresh copy is fetched again (corrupt) or resumed (truncated) and the reset completes;
// a server that damages every copy gets the reset abandoned in the fetch phase, the local data
// and unsynced changes untouched.
// Run on every store (MemoryStore, SqliteStore).

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/strategy/discard_unsynced.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::SessionState;
using resync::errc;
using resync_test::num;
using resync_test::str;

namespace {

using Op = resync::doc::Operation;
using ServerMessage = resync::protocol::ServerMessage<Op>;

/// A replica on a store `S` and a link that lets the test forge server messages.
template <class S>
using Forged = resync_test::Replica<resync::DiscardUnsynced, resync_test::ForgingTransport, S>;

resync::RemoteChangeset<Op> entry(std::uint64_t version, resync::ClientIdent origin = 0, resync::ClientVersion cv = 0) {
    resync::RemoteChangeset<Op> e;
    e.server_version = version;
    e.salt = 0x5A17 + version;
    e.origin = origin;
    e.client_version = cv;
    e.ops = {resync::doc::CreateObject{"items", "forged" + std::to_string(version)},
             resync::doc::SetField{"items", "forged" + std::to_string(version), "v", num(666)}};
    return e;
}

/// A forged message, built from where the client stands, and the error it must get.
struct Forgery {
    const char* what;
    std::function<ServerMessage(const resync::SyncState&, resync::ClientVersion last_written)> make;
    errc expected;
};

std::vector<Forgery> forgeries() {
    using resync::protocol::Download;
    using resync::protocol::UploadAck;
    return {
        {"a download whose versions go backwards",
         [](const resync::SyncState& s, resync::ClientVersion) -> ServerMessage {
             const auto b = s.download.version;
             return Download<Op>{s.client_ident, s.download, {b + 2, 1}, {entry(b + 2), entry(b + 1)}};
         },
         errc::impossible_position},
        {"a download with a version repeated",
         [](const resync::SyncState& s, resync::ClientVersion) -> ServerMessage {
             const auto b = s.download.version;
             return Download<Op>{s.client_ident, s.download, {b + 2, 1}, {entry(b + 1), entry(b + 1), entry(b + 2)}};
         },
         errc::impossible_position},
        {"a download with an entry past its own latest version",
         [](const resync::SyncState& s, resync::ClientVersion) -> ServerMessage {
             const auto b = s.download.version;
             return Download<Op>{s.client_ident, s.download, {b + 1, 1}, {entry(b + 1), entry(b + 5)}};
         },
         errc::impossible_position},
        {"a download whose latest version is below its base (the client's cursor ahead of the server)",
         [](const resync::SyncState& s, resync::ClientVersion) -> ServerMessage {
             return Download<Op>{s.client_ident, s.download, {s.download.version - 1, 1}, {}};
         },
         errc::impossible_position},
        {"a download returning a change of this client's that it never wrote",
         [](const resync::SyncState& s, resync::ClientVersion last) -> ServerMessage {
             const auto b = s.download.version;
             return Download<Op>{s.client_ident, s.download, {b + 1, 1}, {entry(b + 1, s.client_ident, last + 7)}};
         },
         errc::impossible_position},
        {"a download for another client ident",
         [](const resync::SyncState& s, resync::ClientVersion) -> ServerMessage {
             const auto b = s.download.version;
             return Download<Op>{s.client_ident + 100, s.download, {b + 1, 1}, {entry(b + 1)}};
         },
         errc::unknown_client},
        {"an upload ack for a client version never written",
         [](const resync::SyncState& s, resync::ClientVersion last) -> ServerMessage {
             return UploadAck{s.client_ident, last + 5, {{last + 5, 99}}};
         },
         errc::impossible_position},
        {"an upload ack listing a changeset above the version it acknowledges",
         [](const resync::SyncState& s, resync::ClientVersion last) -> ServerMessage {
             return UploadAck{s.client_ident, last, {{last + 3, 99}}};
         },
         errc::impossible_position},
        {"an upload ack for another client ident",
         [](const resync::SyncState& s, resync::ClientVersion last) -> ServerMessage {
             return UploadAck{s.client_ident + 100, last, {{last, 99}}};
         },
         errc::unknown_client},
    };
}

} // namespace

TEMPLATE_LIST_TEST_CASE("a server message with impossible positions or for another client gets a typed error, "
                        "leaves the store untouched, and the session goes on",
                        "[scenario][bad-input]", resync_test::ScenarioStores) {
    using S = TestType;
    const auto all = forgeries();
    const std::size_t which = GENERATE(range<std::size_t>(0, 9));
    REQUIRE(all.size() == 9);
    const Forgery& forgery = all[which];
    INFO(forgery.what);

    resync::testing::Server<resync::doc::Model> server;
    Forged<S> a(server);
    resync_test::Replica<resync::DiscardUnsynced, resync_test::Loopback, S> b(server, {}, {}, 11);
    REQUIRE(a.put("items", "mine", "v", num(1)));
    REQUIRE(a.sync() == SessionState::syncing);
    b.put("items", "theirs", "v", num(2));
    REQUIRE(b.sync() == SessionState::syncing);
    REQUIRE(a.put("items", "mine", "v", num(3)));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.sync_state().download.version == 3);
    REQUIRE_FALSE(a.session().last_error());

    // An unsynced change, so there is local history to keep safe; the real server is held off.
    a.link().hold_real_traffic = true;
    REQUIRE(a.put("items", "pending", "v", str("unsynced")));
    const auto before = resync_test::image_of(a.store);
    REQUIRE(before.unsynced.size() == 1);

    a.link().forge(forgery.make(a.store.sync_state(), a.store.last_client_version()));
    CHECK(a.session().poll() == SessionState::syncing);
    CHECK_FALSE(a.link().forged_pending());
    CHECK(a.session().last_error() == forgery.expected);
    CHECK(resync_test::image_of(a.store) == before);
    CHECK(a.store.state().find("items", "forged4") == nullptr);

    // The session goes on: the real server's traffic flows again and everything syncs.
    a.link().hold_real_traffic = false;
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(a.session().idle());
    CHECK(a.session().resets_completed() == 0);
    CHECK_FALSE(a.session().last_report().has_value());
    CHECK(a.store.unsynced().empty());
    CHECK(server.state().get("items", "pending", "v") == str("unsynced"));
    CHECK(a.store.state() == server.state());
    CHECK(server.state().find("items", "forged4") == nullptr);
}

TEMPLATE_LIST_TEST_CASE("a Welcome for another client ident gets a typed error, leaves the store untouched, and the "
                        "session binds once the real Welcome comes",
                        "[scenario][bad-input]", resync_test::ScenarioStores) {
    resync::testing::Server<resync::doc::Model> server;
    Forged<TestType> a(server);
    REQUIRE(a.put("items", "mine", "v", num(1)));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.put("items", "pending", "v", str("unsynced")));
    const auto before = resync_test::image_of(a.store);
    const resync::SyncState s = a.store.sync_state();

    a.link().inner().go_offline();
    a.link().inner().go_online();
    a.link().hold_real_traffic = true;
    resync::protocol::Welcome w;
    w.ident = s.client_ident + 100;
    w.latest = server.latest();
    w.salt_at_cursor = server.latest().salt;
    w.epoch = server.epoch();
    w.schema_version = server.schema_version();
    a.link().forge(w);
    CHECK(a.session().poll() == SessionState::connecting);
    CHECK(a.session().last_error() == errc::unknown_client);
    CHECK(resync_test::image_of(a.store) == before);

    a.link().hold_real_traffic = false;
    REQUIRE(a.sync() == SessionState::syncing);
    CHECK(a.session().idle());
    CHECK(a.store.sync_state().client_ident == s.client_ident);
    CHECK(a.session().resets_completed() == 0);
    CHECK(a.store.state() == server.state());
    CHECK(server.state().get("items", "pending", "v") == str("unsynced"));
}

namespace {

/// A client on a store `S` with synced data and one unsynced change, whose next request the
/// server answers with a demand for a reset.
template <class S>
struct Damaged {
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Forged<S> a;
    resync_test::StoreImage before;
    std::vector<resync::Progress> progress;

    Damaged() : a(server, {}, small_chunks(resync_test::options_in(dir))) {
        for (int i = 0; i < 40; ++i) a.put("items", "k" + std::to_string(i), "v", str("some text to make the copy longer"));
        REQUIRE(a.sync() == SessionState::syncing);
        a.put("items", "local", "note", str("unsynced"));
        before = resync_test::image_of(a.store);
        server.inject_error({resync::server_code::diverging_histories, resync::ServerAction::reset, "diverged"}, a.ident());
        // The download's progress (decoding and recovery report their own steps).
        a.session().on_progress([this](const resync::Progress& p) {
            if (p.step == resync::ProgressStep::download) progress.push_back(p);
        });
    }

    static resync::SessionOptions small_chunks(resync::SessionOptions o) {
        o.fresh_chunk_bytes = 256;
        return o;
    }
};

} // namespace

TEMPLATE_LIST_TEST_CASE("a corrupted fresh copy is fetched again and the reset completes equal to the server",
                        "[scenario][bad-input][fresh-copy]", resync_test::ScenarioStores) {
    Damaged<TestType> d;
    d.server.damage_next_fresh_copy(resync::testing::Server<resync::doc::Model>::FreshCopyFault::corrupt);
    REQUIRE(d.a.sync() == SessionState::syncing);

    CHECK(d.a.session().last_error() == errc::fresh_copy_corrupt); // seen, and got past
    CHECK(d.server.fresh_copies_started() == 2);
    REQUIRE(d.a.session().last_report().has_value());
    CHECK(d.a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(d.a.session().resets_completed() == 1);
    CHECK(d.a.store.state() == d.server.state());
    CHECK(d.a.store.state().find("items", "local") == nullptr);
    CHECK(d.a.store.get("items", "k39", "v") == str("some text to make the copy longer"));
    CHECK_FALSE(d.a.store.sync_state().pending_reset.has_value());
    REQUIRE_FALSE(d.progress.empty());
    CHECK(d.progress.back().done == d.progress.back().total);
    CHECK(d.a.session().last_report()->fresh_copy_bytes == d.progress.back().total);
}

TEMPLATE_LIST_TEST_CASE("a truncated fresh copy is resumed where it stopped and the reset completes equal to the "
                        "server",
                        "[scenario][bad-input][fresh-copy]", resync_test::ScenarioStores) {
    Damaged<TestType> d;
    d.server.damage_next_fresh_copy(resync::testing::Server<resync::doc::Model>::FreshCopyFault::truncate);
    REQUIRE(d.a.sync() == SessionState::syncing);

    CHECK(d.a.link().empty_fresh_chunks() >= 1); // the server did stop short
    CHECK(d.server.fresh_copies_started() == 1);   // and the copy was resumed, not started over
    REQUIRE(d.a.session().last_report().has_value());
    CHECK(d.a.session().last_report()->outcome == resync::ResetOutcome::completed);
    CHECK(d.a.session().resets_completed() == 1);
    CHECK(d.a.store.state() == d.server.state());
    CHECK(d.a.store.state().find("items", "local") == nullptr);
    CHECK_FALSE(d.a.store.sync_state().pending_reset.has_value());
    // Several chunks, never going backwards, up to the whole copy.
    REQUIRE(d.progress.size() > 2);
    for (std::size_t i = 1; i < d.progress.size(); ++i) CHECK(d.progress[i].done > d.progress[i - 1].done);
    CHECK(d.progress.back().done == d.progress.back().total);
}

TEMPLATE_LIST_TEST_CASE("a server that damages every fresh copy gets the reset abandoned in the fetch phase with "
                        "the local data and unsynced changes untouched, retried, then manual",
                        "[scenario][bad-input][fresh-copy]", resync_test::ScenarioStores) {
    using Fault = resync::testing::Server<resync::doc::Model>::FreshCopyFault;
    const Fault fault = GENERATE(Fault::corrupt, Fault::truncate);
    const errc expected = fault == Fault::corrupt ? errc::fresh_copy_corrupt : errc::fresh_copy_truncated;
    INFO((fault == Fault::corrupt ? "every copy corrupt" : "every copy truncated"));

    Damaged<TestType> d;
    const auto copies_before = d.server.fresh_copies_started();
    int polls = 0;
    while (polls < 2000 && !(d.a.session().last_report() &&
                             d.a.session().last_report()->outcome == resync::ResetOutcome::abandoned)) {
        d.server.damage_next_fresh_copy(fault);
        d.a.session().poll();
        ++polls;
    }
    REQUIRE(d.a.session().last_report().has_value());
    const resync::ResetReport report = *d.a.session().last_report();
    CHECK(report.outcome == resync::ResetOutcome::abandoned);
    CHECK(report.error == expected);
    REQUIRE(report.failed_phase.has_value());
    CHECK(*report.failed_phase == resync::ResetPhase::fetch);
    CHECK(d.a.session().last_error() == expected);
    CHECK(d.a.session().resets_completed() == 0);
    CHECK(resync_test::image_of(d.a.store, false) == d.before);
    CHECK(d.a.store.state().find("items", "local") != nullptr);
    if (fault == Fault::corrupt) {
        CHECK(d.server.fresh_copies_started() - copies_before == 3);
    } else {
        CHECK(d.server.fresh_copies_started() - copies_before == 1);
        CHECK(d.a.link().empty_fresh_chunks() == 3);
    }

    // The server keeps damaging copies: the attempt is retried after a backoff, and after
    // SessionOptions::max_abandoned_tries the application decides - never a loop, still without
    // touching the local data.
    for (int i = 0; i < 20000 && d.a.session().state() != SessionState::awaiting_user; ++i) {
        d.server.damage_next_fresh_copy(fault);
        d.a.session().poll();
    }
    CHECK(d.a.session().state() == SessionState::awaiting_user);
    REQUIRE(d.a.session().last_report().has_value());
    CHECK(d.a.session().last_report()->attempt == 1);
    CHECK(d.a.store.sync_state().pending_reset->failures == resync::SessionOptions{}.max_abandoned_tries);
    CHECK(d.a.session().last_report()->mode_used == resync::ResetMode::manual);
    CHECK(resync_test::image_of(d.a.store, false) == d.before);
    CHECK(d.a.session().resets_completed() == 0);
}

} // namespace RESYNC_TEST_FILE
