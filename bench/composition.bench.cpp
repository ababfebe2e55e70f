// Zero-cost composition (DESIGN §6): steady-state handling of server changesets through
// `SyncSession<MemoryStore, T, RecoverOrDiscard>` vs. a hand-written loop that does the same
// checks (ident, ordering, cursor skip, gap) and the same `store.integrate(...)`.
//
// Both consume the same pre-built Downloads of K changesets from the same bench-only transport,
// which answers each Pull with the next one, so the figure is the session's own cost.
//
//   composition/session/K:<k>/R:<r>    the session, one poll per Download
//   composition/baseline/K:<k>/R:<r>   the hand-written loop, one Download per iteration
//
// K: changesets per Download. R: acknowledged local changesets the store retains (for
// rollback-aware recovery; MemoryStore keeps up to 10,000), as an active client has.

#include "support/bench.hpp"
#include "support/workload.hpp"

#include <resync/doc.hpp>
#include <resync/concepts/transport.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

using resync::doc::Operation;
using Download = resync::protocol::Download<Operation>;
using ServerMessage = resync::protocol::ServerMessage<Operation>;
using ClientMessage = resync::protocol::ClientMessage<Operation>;

constexpr resync::ClientIdent me = 1;
constexpr resync::ClientIdent other_client = 2;
constexpr std::size_t objects = 1000;
/// The server is always far ahead, so the client never catches up and pulls again at once.
constexpr resync::ServerPosition far_ahead{std::uint64_t{1} << 62, 12345};

/// Downloads of K changesets each (two field updates from another client per changeset),
/// continuing one another from server version 0; built ahead, in pools, outside the timing.
class Feed {
public:
    Feed(std::size_t k, const std::vector<std::string>& keys, std::uint64_t from_version)
        : k_(k), pool_(std::max<std::size_t>(4, 16384 / k)), keys_(keys), version_(from_version) {
        refill();
    }
    bool empty() const noexcept { return next_ == downloads_.size(); }
    Download take() { return std::move(downloads_[next_++]); }
    std::uint64_t built_up_to() const noexcept { return version_; }

    void refill() {
        downloads_.clear();
        downloads_.reserve(pool_);
        next_ = 0;
        for (std::size_t d = 0; d < pool_; ++d) {
            Download dl;
            dl.ident = me;
            dl.base = {version_, resync_bench::salt_of(version_)};
            dl.latest = far_ahead;
            dl.entries.reserve(k_);
            for (std::size_t j = 0; j < k_; ++j) {
                ++version_;
                const std::string& k = keys_[version_ % objects];
                resync::RemoteChangeset<Operation> e;
                e.server_version = version_;
                e.salt = resync_bench::salt_of(version_);
                e.origin = other_client;
                e.client_version = version_;
                e.ops.reserve(2);
                e.ops.emplace_back(resync::doc::SetField{resync_bench::collection, k, "n",
                                                         resync::doc::Value{static_cast<std::int64_t>(version_)}});
                e.ops.emplace_back(resync::doc::SetField{resync_bench::collection, k, "score",
                                                         resync::doc::Value{static_cast<double>(version_) * 0.25}});
                dl.entries.push_back(std::move(e));
            }
            downloads_.push_back(std::move(dl));
        }
    }

private:
    std::size_t k_;
    std::size_t pool_;
    const std::vector<std::string>& keys_;
    std::uint64_t version_;
    std::vector<Download> downloads_;
    std::size_t next_ = 0;
};

/// A bench-only transport: a Hello gets a Welcome, a Pull gets the feed's next Download. One
/// message is in flight at a time, as the session pulls only after integrating.
class FeedLink {
public:
    using transport_concept = resync::transport_t;
    using operation_type = Operation;

    explicit FeedLink(Feed& feed) : feed_(feed) {}

    bool connected() const noexcept { return true; }
    std::uint64_t connection_id() const noexcept { return 1; }

    bool send(ClientMessage m) {
        if (std::holds_alternative<resync::protocol::Pull>(m)) {
            if (feed_.empty())
                owed_ = true;
            else
                deliver(ServerMessage(feed_.take()));
        } else if (std::holds_alternative<resync::protocol::Hello>(m)) {
            resync::protocol::Welcome w;
            w.ident = me;
            w.latest = far_ahead;
            w.epoch = resync_bench::epoch;
            w.schema_version = resync_bench::schema;
            deliver(ServerMessage(w));
        }
        return true;
    }
    std::optional<ServerMessage> receive() { return std::exchange(inbox_, std::nullopt); }

    /// A pull that found the pool empty waits for this (called with the timing paused).
    bool owes() const noexcept { return owed_; }
    void refill() {
        feed_.refill();
        if (owed_) {
            owed_ = false;
            deliver(ServerMessage(feed_.take()));
        }
    }
    bool overran() const noexcept { return overran_; }

private:
    void deliver(ServerMessage m) {
        if (inbox_) overran_ = true; // never expected: the benchmark would be measuring something else
        inbox_.emplace(std::move(m));
    }

    Feed& feed_;
    std::optional<ServerMessage> inbox_;
    bool owed_ = false;
    bool overran_ = false;
};

std::vector<std::string> make_keys() {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < objects; ++i) keys.push_back(resync_bench::key(i));
    return keys;
}

/// A store holding `objects` simple objects, synced with ident `me`, that wrote `retained` local
/// changesets which the server integrated at versions 1 .. retained and sent back (so the store
/// retains them as acknowledged history). Returns false if the store refused.
bool prepare(resync::MemoryStore& store, std::size_t retained) {
    resync::SyncState s;
    s.client_ident = me;
    s.epoch = resync_bench::epoch;
    s.schema_version = resync_bench::schema;
    resync_bench::install(store, resync_bench::make_state(objects), s);
    std::vector<resync::RemoteChangeset<Operation>> echo;
    for (std::size_t i = 1; i <= retained; ++i) {
        const std::string key = resync_bench::key(i % objects);
        auto v = store.write([&](resync::doc::Writer& w) {
            w.set(resync_bench::collection, key, "n", resync::doc::Value{static_cast<std::int64_t>(i)});
        });
        if (!v) return false;
        echo.push_back({i, resync_bench::salt_of(i), me, *v, {resync::doc::SetField{resync_bench::collection, key, "n",
                                                                          resync::doc::Value{static_cast<std::int64_t>(i)}}}});
    }
    return !store.integrate(echo) && store.unsynced().empty();
}

/// The same checks as the session's Download handler, then the same integrate, then the next pull.
/// Returns false on anything the session would have refused.
bool handle_by_hand(resync::MemoryStore& store, FeedLink& link, const Download& d) {
    const resync::SyncState& s = store.sync_state();
    if (d.ident != s.client_ident) return false;
    std::uint64_t prev = d.base.version;
    for (const auto& e : d.entries) {
        if (e.server_version <= prev || e.server_version > d.latest.version) return false;
        prev = e.server_version;
    }
    if (d.latest.version < d.base.version) return false;
    std::size_t first = 0;
    while (first < d.entries.size() && d.entries[first].server_version <= s.download.version) ++first;
    const std::uint64_t next = first < d.entries.size() ? d.entries[first].server_version : 0;
    if (next != 0 && next != s.download.version + 1) return true; // a gap: ask again later
    if (first == d.entries.size() && d.base != s.download) return true; // stale
    std::span<const resync::RemoteChangeset<Operation>> fresh(d.entries.data() + first, d.entries.size() - first);
    if (store.integrate(fresh)) return false;
    const resync::SyncState& now = store.sync_state();
    if (now.download.version < d.latest.version)
        link.send(ClientMessage(resync::protocol::Pull{now.client_ident, now.download, 256}));
    return true;
}

void check_integrated(benchmark::State& state, const resync::MemoryStore& store, std::size_t k, std::size_t retained,
                      std::uint64_t downloads) {
    const auto expected = retained + downloads * k;
    if (store.sync_state().download.version != expected)
        resync_bench::fail(state, "integrated up to v" + std::to_string(store.sync_state().download.version) +
                                      ", expected v" + std::to_string(expected));
    state.SetItemsProcessed(static_cast<std::int64_t>(downloads * k));
    state.counters["K"] = static_cast<double>(k);
}

void session(benchmark::State& state) {
    const auto k = static_cast<std::size_t>(state.range(0));
    const auto retained = static_cast<std::size_t>(state.range(1));
    const auto keys = make_keys();
    Feed feed(k, keys, retained);
    FeedLink link(feed);
    resync::MemoryStore store(42);
    if (!prepare(store, retained)) return resync_bench::fail(state, "the store refused the set-up");
    resync::SyncSession<resync::MemoryStore, FeedLink, resync::doc::RecoverOrDiscard> s(store, link);
    // Hello, Welcome, first Pull: the session is then in steady state with one Download waiting.
    for (int i = 0; i < 4 && s.state() != resync::SessionState::syncing; ++i) s.poll();
    if (s.state() != resync::SessionState::syncing) return resync_bench::fail(state, "the session never synced");

    const resync::Budget one{1};
    for (auto _ : state) {
        if (link.owes()) {
            state.PauseTiming();
            link.refill();
            state.ResumeTiming();
        }
        s.poll(one);
    }
    if (link.overran() || s.last_error()) return resync_bench::fail(state, "the session did not stay in steady state");
    check_integrated(state, store, k, retained, state.iterations());
}

void baseline(benchmark::State& state) {
    const auto k = static_cast<std::size_t>(state.range(0));
    const auto retained = static_cast<std::size_t>(state.range(1));
    const auto keys = make_keys();
    Feed feed(k, keys, retained);
    FeedLink link(feed);
    resync::MemoryStore store(42);
    if (!prepare(store, retained)) return resync_bench::fail(state, "the store refused the set-up");
    link.send(ClientMessage(resync::protocol::Pull{me, store.sync_state().download, 256}));

    bool ok = true;
    for (auto _ : state) {
        if (link.owes()) {
            state.PauseTiming();
            link.refill();
            state.ResumeTiming();
        }
        auto m = link.receive();
        const auto* d = m ? std::get_if<Download>(&*m) : nullptr;
        if (!d || !handle_by_hand(store, link, *d)) ok = false;
    }
    if (!ok || link.overran()) return resync_bench::fail(state, "the hand-written loop refused a download");
    check_integrated(state, store, k, retained, state.iterations());
}

void register_all() {
    const std::vector<std::int64_t> ks = resync_bench::short_mode ? std::vector<std::int64_t>{1, 16}
                                                                  : std::vector<std::int64_t>{1, 16, 256};
    // Each iteration is short, so many short repetitions (interleaved by bench/report) make the
    // best-of figure far steadier on a shared machine than a few long ones.
    const int repetitions = resync_bench::short_mode ? 1 : 15;
    const double min_time = resync_bench::short_mode ? 0.05 : 0.2;
    for (std::int64_t retained : {0, 10'000}) {
        for (auto k : ks) {
            for (auto [name, fn] : {std::pair{"composition/session", &session}, std::pair{"composition/baseline", &baseline}})
                benchmark::RegisterBenchmark(name, fn)
                    ->Args({k, retained})
                    ->ArgNames({"K", "R"})
                    ->Repetitions(repetitions)
                    ->MinTime(min_time);
        }
    }
}

} // namespace

RESYNC_BENCH_MAIN(register_all)
