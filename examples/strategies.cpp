// Strategies: every ready-made reset strategy is a composition of role models, and so is your
// own. The static_asserts below say what each is made of. Then two clients go through the same
// server restore - one with RecoverAll, one with a strategy composed here - and the counter each
// ends with is checked against the one computed by hand. (docs/strategies.md quotes this file.)
#include <resync/doc.hpp>
#include <resync/resync.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstdint>
#include <iostream>
#include <type_traits>

using namespace resync;

using Link = testing::LoopbackTransport<doc::Model>;
using Rules = recover::DocumentRules; // the document model's recovery rules

// The five ready-made strategies, role by role (a role not named takes its default).
static_assert(std::is_same_v<Manual::backup_type, backup::File>);
static_assert(std::is_same_v<Manual::execution_type, execute::Manual>);
static_assert(std::is_same_v<DiscardUnsynced::backup_type, backup::Snapshot>);
static_assert(std::is_same_v<DiscardUnsynced::recovery_type, recover::None>);
static_assert(std::is_same_v<doc::Recover::recovery_type, recover::Rebase<Rules>>);
static_assert(std::is_same_v<doc::Recover::fallback_type, fallback::Manual>);
static_assert(std::is_same_v<doc::RecoverOrDiscard::recovery_type, recover::Rebase<Rules>>);
static_assert(std::is_same_v<doc::RecoverOrDiscard::fallback_type, fallback::Discard>);
static_assert(std::is_same_v<doc::RecoverAll::recovery_type, recover::RebaseAll<Rules>>);
static_assert(std::is_same_v<doc::RecoverAll::fallback_type, fallback::Discard>);

// Strategies of your own: name the roles you care about, in any order.
// Work the user cannot type again: recover; when that fails, keep a backup file and ask the user.
using Precious = Strategy<backup::File, recover::Rebase<Rules>, fallback::Manual>;
// A game session: recover what can be, discard the rest at once, upload in small messages.
using GameSession = Strategy<recover::Rebase<Rules>, fallback::Discard, replay::Batched<32>>;
// A cache the server can always rebuild: take the server's copy (see SessionOptions::discard_unkept).
using Cache = Strategy<>;
// Shared lists on screen: recover, and write only the objects that differ, so views update minimally.
using SharedLists = Strategy<discard::Diff, recover::Rebase<Rules>, fallback::Discard, backup::Snapshot>;

static_assert(ResetPolicy<Precious, MemoryStore> && Precious::requested_mode == ResetMode::recover);
static_assert(ResetPolicy<GameSession, MemoryStore> && GameSession::requested_mode == ResetMode::recover);
static_assert(ResetPolicy<Cache, MemoryStore> && Cache::requested_mode == ResetMode::discard);
static_assert(ResetPolicy<SharedLists, MemoryStore> && SharedLists::requested_mode == ResetMode::recover);
static_assert(std::is_empty_v<GameSession>); // stateless models take no space in a session

// The one run here besides RecoverAll: RecoverOrDiscard, plus a durable backup file before the
// reset and a commit that writes only the objects that differ.
using Mine = Strategy<backup::File, recover::Rebase<Rules>, fallback::Discard, discard::Diff>;

/// A client's counter, +2 acknowledged by the server, which is then restored from the backup it
/// took before the +2; meanwhile the client adds +3 offline. Returns the counter after the reset
/// (and -1 when client and server disagree).
template <class Policy>
std::int64_t after_a_restore(const char* name, Policy policy, const SessionOptions& options = {}) {
    testing::Server<doc::Model> server;
    Link link(server);
    MemoryStore store;
    SyncSession<MemoryStore, Link, Policy> session(store, link, std::move(policy), options);
    auto add = [&](std::int64_t n) { (void)store.write([&](doc::Writer& w) { w.add("players", "p1", "score", n); }); };

    (void)store.write([](doc::Writer& w) { w.create("players", "p1").set("players", "p1", "score", std::int64_t{0}); });
    session.run_until_idle();
    const auto nightly = server.backup();
    add(2);
    session.run_until_idle(); // the server acknowledges +2 ...
    link.go_offline();
    server.restore(nightly);  // ... and loses it in the restore
    add(3);                   // written offline
    link.go_online();

    // A game loop: each frame does a bounded slice of the reset, never the whole of it.
    for (int frame = 0; frame < 100000 && !session.idle(); ++frame)
        session.poll(Budget{.messages = 4, .work = 256});

    const ResetReport& report = *session.last_report();
    const doc::Value score = store.state().get("players", "p1", "score");
    std::cout << name << ": " << to_string(report.trigger.reason) << ", mode " << to_string(report.mode_used)
              << ", recovered " << report.count(OperationFate::recovered) << " operation(s), lost on server "
              << report.count(OperationFate::lost_on_server) << ", quarantined " << store.quarantined().size()
              << (report.backup_location.empty() ? std::string() : ", backup: " + report.backup_location)
              << "\n  score = " << std::get<std::int64_t>(score) << "\n";
    return store.state() == server.state() ? std::get<std::int64_t>(score) : -1;
}

int main() {
    constexpr std::int64_t acknowledged_then_lost = 2, offline = 3; // from a score of 0
    const std::int64_t all = after_a_restore("RecoverAll", doc::RecoverAll{});
    const std::int64_t mine = after_a_restore("Mine", Mine{backup::File{"strategies-backups"}});
    // RecoverAll heals the restore from the client; a Rebase recovers only the offline +3 and
    // keeps the lost +2 in the store's quarantine.
    return all == acknowledged_then_lost + offline && mine == offline ? 0 : 1;
}
