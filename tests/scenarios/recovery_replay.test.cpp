// Scenario: the replay of recovered changes (pipeline phase 8) under the replay policies Upload,
// Squash and Batched<2>, composed into recovering strategies. Whatever the link does meanwhile -
// acknowledgements lost after the server integrated the upload, messages duplicated or delayed -
// no change is ever applied twice on the server: every (origin, client version) appears once in
// its history and additions sum exactly once. Squash uploads one coalesced changeset; Batched<2>
// never more than two changesets per upload.

#include <support/recovery.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/snapshot.hpp>
#include <resync/execute.hpp>
#include <resync/recover/rebase.hpp>
#include <resync/replay/batched.hpp>
#include <resync/replay/squash.hpp>
#include <resync/replay/upload.hpp>
#include <resync/strategy.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <variant>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::OperationFate;
using resync::ResetMode;
using resync::ServerAction;
using resync::SessionState;
using resync_test::el;
using resync_test::list_values;
using resync_test::num;
using resync_test::Peer;
using resync_test::str;
using resync_test::TapTransport;

namespace {

namespace backup = resync::backup;
namespace recover = resync::recover;
namespace replay = resync::replay;
namespace fallback = resync::fallback;

using Upload = resync::Strategy<backup::Snapshot, recover::Rebase<resync::recover::DocumentRules>, replay::Upload, fallback::Discard>;
using Squash = resync::Strategy<replay::Squash, fallback::Discard, recover::Rebase<resync::recover::DocumentRules>, backup::Snapshot>;
using Batched2 = resync::Strategy<backup::Snapshot, recover::Rebase<resync::recover::DocumentRules>, replay::Batched<2>, fallback::Discard>;
using SquashAll = resync::Strategy<backup::Snapshot, recover::RebaseAll<resync::recover::DocumentRules>, replay::Squash, fallback::Discard>;
using Batched2All = resync::Strategy<backup::Snapshot, recover::RebaseAll<resync::recover::DocumentRules>, replay::Batched<2>, fallback::Discard>;

template <class P>
constexpr bool squashes = std::is_same_v<typename P::replay_type, replay::Squash>;
template <class P>
constexpr std::size_t batch = P::replay_type::max_changesets_per_upload();

/// What the link does to the replay.
enum class Faults { lost_acks, duplicates, lost_acks_and_duplicates, random };

const char* name(Faults f) {
    switch (f) {
    case Faults::lost_acks: return "lost acks";
    case Faults::duplicates: return "duplicated messages";
    case Faults::lost_acks_and_duplicates: return "lost acks and duplicated messages";
    case Faults::random: return "random duplicates, delays and disconnects";
    }
    return "?";
}

void apply(Faults f, resync::testing::LinkFaults& link) {
    switch (f) {
    case Faults::lost_acks: link.lose_acks = 3; break;
    case Faults::duplicates: link.duplicate_to_client = 20; break;
    case Faults::lost_acks_and_duplicates:
        link.lose_acks = 2;
        link.duplicate_to_client = 20;
        break;
    case Faults::random:
        link.duplicate_rate = 0.3;
        link.delay_rate = 0.2;
        link.disconnect_rate = 0.02;
        break;
    }
}

/// How many add-integer operations on the counter, and how many entries, the server has from `ident`.
struct FromClient {
    std::size_t entries = 0;
    std::size_t adds = 0;
    std::size_t sets = 0;
};
FromClient from_client(const resync::testing::Server<resync::doc::Model>& server, resync::ClientIdent ident) {
    FromClient f;
    for (const auto& e : server.history()) {
        if (e.origin != ident) continue;
        ++f.entries;
        for (const auto& op : e.ops) {
            f.adds += std::holds_alternative<resync::doc::AddInteger>(op);
            f.sets += std::holds_alternative<resync::doc::SetField>(op);
        }
    }
    return f;
}

} // namespace

using Replays = resync_test::OnEveryStore<Upload, Squash, Batched2, SquashAll, Batched2All>;

TEMPLATE_LIST_TEST_CASE("replayed changes reach the server exactly once whatever the link does to the replay: lost "
                        "acknowledgements, duplicated and delayed messages",
                        "[scenario][recovery][replay]", Replays) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    const Faults faults =
        GENERATE(Faults::lost_acks, Faults::duplicates, Faults::lost_acks_and_duplicates, Faults::random);
    INFO(name(faults));
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, TapTransport, S> a(server, 1, {}, resync_test::options_in(dir));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.create("items", "counter").set("items", "counter", "c", num(100));
        w.create("items", "x").set("items", "x", "n", num(0));
        w.create("lists", "l");
    }));
    REQUIRE(a.sync() == SessionState::syncing);

    // Five offline changesets: additions on one counter, two sets of one field, a list insert.
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 1); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 2); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.set("items", "x", "n", num(1)); }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) {
        w.set("items", "x", "n", num(2));
        w.list_push_back("lists", "l", "tags", el("t"));
    }));
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 4); }));
    REQUIRE(a.store.unsynced().size() == 5);
    const auto last_version = a.store.last_client_version();

    // The server asks for a reset; the faults start with the replay.
    std::size_t uploads_at_commit = 0;
    a.session().on_after_reset([&](const resync::doc::State*, const S&, const resync::ResetReport&) {
        uploads_at_commit = a.link().upload_sizes.size();
        apply(faults, a.link().faults());
    });
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    for (int round = 0; round < 20 && !(a.session().idle() && a.session().resets_completed() == 1); ++round) {
        a.link().go_online(); // after a random disconnect the link comes back by itself; be sure
        a.sync();
    }
    a.link().faults() = {};
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);
    INFO("client:\n" << resync_test::to_text(a.store.state()) << "server:\n" << resync_test::to_text(server.state()));
    CHECK(a.session().last_report()->mode_used == ResetMode::recover);
    CHECK(a.session().last_report()->count(OperationFate::recovered) == 6);
    if (faults == Faults::lost_acks || faults == Faults::lost_acks_and_duplicates) {
        // The lost acknowledgements were used up by the replay, which was therefore sent again.
        CHECK(a.link().faults().lose_acks == 0);
    }

    // Exactly once: the sum, the last set, one list element, no (origin, client version) twice.
    CHECK(server.state().get("items", "counter", "c") == num(107));
    CHECK(server.state().get("items", "x", "n") == num(2));
    CHECK(list_values(server.state(), "lists", "l", "tags") == std::vector<resync::doc::Scalar>{el("t")});
    CHECK(resync_test::no_duplicate_uploads(server));
    CHECK(resync_test::replay_history(server) == server.state());
    CHECK(a.store.state() == server.state());
    CHECK(a.store.unsynced().empty());
    CHECK_FALSE(a.store.sync_state().pending_reset.has_value());

    const FromClient mine = from_client(server, a.ident());
    if constexpr (squashes<P>) {
        // One coalesced changeset under the newest client version: one sum, one set.
        CHECK(mine.entries == 1);
        CHECK(mine.adds == 1);
        CHECK(mine.sets == 1);
        const auto keys = resync_test::history_keys(server);
        CHECK(keys.count({a.ident(), last_version}) == 1);
    } else {
        CHECK(mine.entries == 5);
        CHECK(mine.adds == 3);
        CHECK(mine.sets == 2);
    }
    // No upload after the commit carried more changesets than the policy allows.
    REQUIRE(a.link().upload_sizes.size() > uploads_at_commit);
    std::size_t largest = 0;
    for (std::size_t i = uploads_at_commit; i < a.link().upload_sizes.size(); ++i)
        largest = std::max(largest, a.link().upload_sizes[i]);
    CHECK(largest <= batch<P>);
    if constexpr (batch<P> == 2) CHECK(largest == 2);
    if constexpr (std::is_same_v<P, Upload>) CHECK(largest == 5);
    if constexpr (squashes<P>) CHECK(largest == 1);
}

TEMPLATE_LIST_TEST_CASE("Batched<2> replays five recovered changesets in at least three uploads of at most two, in "
                        "order",
                        "[scenario][recovery][replay][batched]", resync_test::ScenarioStores) {
    using S = TestType;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<Batched2, TapTransport, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "counter", "c", num(0));
    REQUIRE(a.sync() == SessionState::syncing);
    for (int i = 1; i <= 5; ++i)
        REQUIRE(a.store.write([&](resync::doc::Writer& w) { w.set("items", "counter", "c", num(i)); }));
    std::size_t uploads_at_commit = 0;
    a.session().on_after_reset([&](const resync::doc::State*, const S&, const resync::ResetReport&) {
        uploads_at_commit = a.link().upload_sizes.size();
    });
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);

    std::vector<std::size_t> after(a.link().upload_sizes.begin() + static_cast<std::ptrdiff_t>(uploads_at_commit),
                                   a.link().upload_sizes.end());
    std::size_t carried = 0;
    for (auto n : after) {
        CHECK(n <= 2);
        carried += n;
    }
    CHECK(after.size() >= 3);
    CHECK(carried >= 5);
    // Integrated in client-version order, so the last set wins.
    CHECK(server.state().get("items", "counter", "c") == num(5));
    std::vector<resync::ClientVersion> order;
    for (const auto& e : server.history())
        if (e.origin == a.ident()) order.push_back(e.client_version);
    CHECK(order == std::vector<resync::ClientVersion>{2, 3, 4, 5, 6});
    CHECK(a.store.state() == server.state());
}

using LostAck = resync_test::OnEveryStore<Upload, Squash, Batched2>;

TEMPLATE_LIST_TEST_CASE("a change the server integrated before the reset, whose acknowledgement was lost, is not "
                        "applied a second time by the recovery",
                        "[scenario][recovery][replay][lost-ack]", LostAck) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync_test::ScratchDir dir;
    resync::testing::Server<resync::doc::Model> server;
    Peer<P, TapTransport, S> a(server, 1, {}, resync_test::options_in(dir));
    a.put("items", "counter", "c", num(100));
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.store.write([](resync::doc::Writer& w) { w.add("items", "counter", "c", 5); }));

    // The upload is integrated, its acknowledgement lost, and no download brings it back
    // before the server demands a reset (its history expired meanwhile).
    a.link().drop_acks = true;
    a.link().drop_downloads = true;
    for (int i = 0; i < 20; ++i) a.session().poll();
    REQUIRE(server.state().get("items", "counter", "c") == num(105));
    REQUIRE(a.store.unsynced().size() == 1);
    a.link().drop_acks = false;
    a.link().drop_downloads = false;
    server.inject_error({resync::server_code::client_file_expired, ServerAction::reset, "expired"});
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().resets_completed() == 1);

    INFO(resync::to_string(*a.session().last_report()));
    CHECK(server.state().get("items", "counter", "c") == num(105));
    CHECK(resync_test::writes_on_server(server, "items", "counter", "c") == 2);
    CHECK(a.store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
