// Scenario: a budgeted reset for a game loop. A reset of 100,000 objects with 5,000 offline
// operations (on SqliteStore a tenth of it, in the same proportions), polled with a small
// budget, never does more in one poll than the budget allows: the download by messages,
// decoding and recovery by objects and operations - each a small fraction of the whole - and
// only the commit is one step. Progress is told for each long step.

#include <support/scenarios.hpp>

#include <resync/doc.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

namespace doc = resync::doc;
using resync::ProgressStep;
using resync::SessionState;
using Server = resync::testing::Server<doc::Model>;
using Link = resync::testing::LoopbackTransport<doc::Model>;

/// How large the reset is, and the budget it is polled with. On SqliteStore a tenth of it in the
/// same proportions - a poll may decode at most 2 % of the objects and recover at most a fifth of
/// the operations, the download comes in pieces of a tenth of the size - because at full size it
/// adds about 6 s of CPU to a Debug run of the suite (every slice is a transaction of its own),
/// a tenth under half a second.
template <class S>
struct Size {
    static constexpr std::size_t objects = 100'000;
    static constexpr std::size_t offline_ops = 5'000;
    static constexpr resync::Budget budget{4, 1000};
    static constexpr std::uint32_t chunk_bytes = 64 * 1024;
};
#if RESYNC_TEST_SQLITE
template <>
struct Size<resync::SqliteStore> {
    static constexpr std::size_t objects = 10'000;
    static constexpr std::size_t offline_ops = 500;
    static constexpr resync::Budget budget{4, 100};
    static constexpr std::uint32_t chunk_bytes = 64 * 1024 / 10;
};
#endif

} // namespace

TEMPLATE_LIST_TEST_CASE("a reset of 100,000 objects (10,000 on SqliteStore) polled with a small budget decodes and "
                        "recovers in slices no larger than the budget, and only the commit is one step",
                        "[scenario][budget][progress][slow]", resync_test::ScenarioStores) {
    using S = TestType;
    constexpr std::size_t objects = Size<S>::objects;
    constexpr std::size_t offline_ops = Size<S>::offline_ops;
    resync_test::ScratchDir dir;
    Server server;
    {
        doc::Changeset all;
        all.reserve(2 * objects);
        for (std::size_t i = 0; i < objects; ++i) {
            const std::string key = "k" + std::to_string(i);
            all.push_back(doc::CreateObject{"items", key});
            all.push_back(doc::SetField{"items", key, "n", std::int64_t(i)});
        }
        server.write(std::move(all));
    }
    resync_test::StoreBox<S> box(1);
    S& store = box.store;
    Link link(server, 3);
    auto options = resync_test::options_in(dir);
    options.fresh_chunk_bytes = Size<S>::chunk_bytes;
    resync::SyncSession<S, Link, resync::doc::RecoverOrDiscard> session(store, link, {}, options);
    REQUIRE(session.run_until_idle() == SessionState::syncing);
    REQUIRE(store.state().object_count() == objects);
    link.go_offline();
    server.terminate_and_reenable();
    for (std::size_t c = 0; c < 50; ++c)
        REQUIRE(store.write([&](doc::Writer& w) {
            for (std::size_t i = 0; i < offline_ops / 50; ++i) w.add("items", "k" + std::to_string(c * (offline_ops / 50) + i), "n", 1);
        }));
    link.go_online();

    const resync::Budget budget = Size<S>::budget;
    struct Poll {
        std::uint64_t downloaded = 0, decoded_objects = 0, recovered = 0;
    };
    std::vector<Poll> polls;
    std::uint64_t total_bytes = 0;
    Poll last;
    session.on_progress([&](const resync::Progress& p) {
        auto& now = polls.back();
        switch (p.step) {
        case ProgressStep::download:
            now.downloaded = p.done;
            total_bytes = p.total;
            break;
        case ProgressStep::decode: now.decoded_objects = p.objects; break;
        case ProgressStep::recover: now.recovered = p.done; break;
        }
    });
    std::size_t commit_poll = 0;
    for (std::size_t i = 0; i < 20000 && !session.idle(); ++i) {
        polls.push_back(last);
        session.poll(budget);
        last = polls.back();
        if (!commit_poll && session.resets_completed() == 1) commit_poll = polls.size();
    }
    REQUIRE(session.idle());
    REQUIRE(commit_poll > 0);
    CHECK(store.state() == server.state());
    CHECK(std::get<std::int64_t>(server.state().get("items", "k0", "n")) == 1);

    // Every poll before the commit: within the budget, and a small fraction of the whole.
    std::uint64_t most_bytes = 0, most_objects = 0, most_ops = 0;
    std::size_t decode_polls = 0, recover_polls = 0;
    for (std::size_t i = 1; i + 1 < commit_poll; ++i) {
        const auto bytes = polls[i].downloaded - std::min(polls[i].downloaded, polls[i - 1].downloaded);
        const auto decoded = polls[i].decoded_objects - std::min(polls[i].decoded_objects, polls[i - 1].decoded_objects);
        const auto ops = polls[i].recovered - std::min(polls[i].recovered, polls[i - 1].recovered);
        most_bytes = std::max(most_bytes, bytes);
        most_objects = std::max(most_objects, decoded);
        most_ops = std::max(most_ops, ops);
        decode_polls += decoded > 0;
        recover_polls += ops > 0;
    }
    INFO("most per poll: " << most_bytes << " bytes of " << total_bytes << ", " << most_objects << " objects, "
                           << most_ops << " operations; decoding took " << decode_polls << " polls, recovery "
                           << recover_polls);
    CHECK(most_bytes <= budget.messages * options.fresh_chunk_bytes);
    CHECK(most_bytes * 4 < total_bytes);
    CHECK(most_objects <= budget.work);
    CHECK(most_objects * 50 <= objects); // at most 2 % of the objects in any poll
    CHECK(most_ops <= budget.work);
    CHECK(most_ops * 5 <= offline_ops);
    CHECK(decode_polls >= objects / budget.work);
    CHECK(recover_polls >= offline_ops / budget.work);
}

} // namespace RESYNC_TEST_FILE
