#pragma once
// Helpers for the end-to-end scenario tests (tests/scenarios/): a replica whose session can be
// destroyed and built again on the same store (a restart), a scratch folder for backup files,
// an image of everything a store holds (to prove a failure left it untouched), a transport that
// lets a test forge server messages, and the policies the scenarios run under.

#include <resync/doc.hpp>
#include <resync/backup/file.hpp>
#include <resync/memory_store.hpp>
#include <resync/quarantine.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <support/temp_dir.hpp>

#if RESYNC_TEST_SQLITE
#include <resync/sqlite/store.hpp>
#endif

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace resync_test {

/// A scratch folder for backup files, removed with everything in it at the end of the test.
using ScratchDir = TempDir;

/// How many regular files `dir` holds, at any depth (backups written into it).
inline std::size_t file_count(const ScratchDir& dir) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) n += e.is_regular_file();
    return n;
}

/// A wall clock for tests: each reading is 10 ms after the one before, so a session's backoff
/// between reset attempts passes in a few hundred polls, the same in every run.
inline std::function<std::int64_t()> stepping_clock(std::int64_t start_ms = 1'800'000'000'000) {
    auto now = std::make_shared<std::int64_t>(start_ms);
    return [now] { return *now += 10; };
}

/// Session options for scenarios: backup and staging files go into `dir`'s "backups" folder
/// (never a shared temporary folder), and time is a stepping clock.
inline resync::SessionOptions options_in(const ScratchDir& dir) {
    resync::SessionOptions o;
    o.backup_directory = (dir.path() / "backups").string();
    o.clock = stepping_clock();
    o.seed = 1;
    return o;
}

/// Builds the policy a scenario runs under, with its backup files (if any) in `dir`.
template <class P>
P make_policy(const ScratchDir& dir) {
    if constexpr (std::is_same_v<P, resync::Manual>)
        return resync::Manual{resync::backup::File{dir.path() / "manual"}};
    else
        return P{};
}

// ------------------------------------------------------------------------- stores under test

/// The stores every scenario built on `Replica<Policy, Link, Store>` runs on, as one test list
/// (`TEMPLATE_LIST_TEST_CASE(..., resync_test::ScenarioStores)`): MemoryStore, and SqliteStore
/// when the build has SQLite.
#if RESYNC_TEST_SQLITE
using ScenarioStores = std::tuple<resync::MemoryStore, resync::SqliteStore>;
#else
using ScenarioStores = std::tuple<resync::MemoryStore>;
#endif

/// The link scenarios use unless they name another.
using Loopback = resync::testing::LoopbackTransport<resync::doc::Model>;

/// A scenario's test case parameters: the store it runs on, and the policy.
template <class S, class P>
struct On {
    using store = S;
    using policy = P;
};
/// Every policy given, on every store under test (a test list for TEMPLATE_LIST_TEST_CASE).
#if RESYNC_TEST_SQLITE
template <class... Ps>
using OnEveryStore = std::tuple<On<resync::MemoryStore, Ps>..., On<resync::SqliteStore, Ps>...>;
#else
template <class... Ps>
using OnEveryStore = std::tuple<On<resync::MemoryStore, Ps>...>;
#endif

/// Reads a backup file back, the way its store wrote it: a store that backs itself up has its
/// own reader (a SqliteStore backup is a database), the others write `resync::restore_backup`'s format.
template <class Store>
auto read_backup(const std::string& path) {
    if constexpr (resync::store_requirements::backs_itself_up<Store>) return Store::restore_backup(path);
    else return resync::restore_backup<typename Store::model_type>(path);
}

/// Owns a replica's store and makes a new one (for MemoryStore: in memory; replica id 0 means a
/// random one).
template <class S>
struct StoreBox;

template <>
struct StoreBox<resync::MemoryStore> {
    resync::MemoryStore store;
    explicit StoreBox(std::uint64_t replica_id = 0) : store(make(replica_id)) {}
    resync::MemoryStore make(std::uint64_t replica_id) {
        return replica_id ? resync::MemoryStore(replica_id) : resync::MemoryStore();
    }
};

#if RESYNC_TEST_SQLITE
/// `PRAGMA integrity_check` on a store's file: "ok", or what SQLite found.
inline std::string integrity_of(const resync::SqliteStore& s) {
    auto& q = s.database()("PRAGMA integrity_check");
    std::string out;
    while (q.step()) out += std::string(q.blob(0));
    q.reset();
    return out;
}

/// A SqliteStore in a file of its own (in a scratch folder removed afterwards); when the box
/// goes away, at the end of the test, the file must pass `PRAGMA integrity_check`.
template <>
struct StoreBox<resync::SqliteStore> {
    TempDir dir;
    std::size_t files = 0;
    resync::SqliteStore store;
    explicit StoreBox(std::uint64_t replica_id = 0) : store(make(replica_id)) {}
    ~StoreBox() { CHECK(integrity_of(store) == "ok"); }
    resync::SqliteStore make(std::uint64_t replica_id) {
        resync::SqliteOptions o;
        o.replica_id = replica_id;
        auto s = resync::SqliteStore::open((dir / ("replica-" + std::to_string(files++) + ".db")).string(), o);
        REQUIRE(s);
        return std::move(*s);
    }
};
#endif

/// Everything a store holds, to compare a store before and after something that must not
/// touch it.
struct StoreImage {
    resync::doc::State state;
    std::vector<resync::LocalChangeset<resync::doc::Operation>> unsynced;
    std::vector<resync::LocalChangeset<resync::doc::Operation>> acknowledged;
    resync::SyncState sync;
    resync::ClientVersion last_client_version = 0;

    friend bool operator==(const StoreImage&, const StoreImage&) = default;
};

/// An image of `store`; with `with_pending_record = false` the pending-reset record is left out
/// (a reset attempt writes it before any other work, by design).
template <class Store>
StoreImage image_of(const Store& store, bool with_pending_record = true) {
    StoreImage i{store.state(), store.unsynced(), store.acknowledged_after(0), store.sync_state(),
                 store.last_client_version()};
    if (!with_pending_record) i.sync.pending_reset.reset();
    return i;
}

/// A short text rendering of a state, for failure messages.
inline std::string to_text(const resync::doc::State& s) {
    std::string out;
    for (const auto& [name, c] : s.collections) {
        std::vector<std::string> lines;
        for (const auto& [key, obj] : c) {
            std::string line = name + "/" + key + " {";
            for (const auto& [field, value] : obj) {
                line += " " + field + "=";
                std::visit(
                    [&](const auto& v) {
                        using T = std::decay_t<decltype(v)>;
                        if constexpr (std::is_same_v<T, resync::doc::Null>) line += "null";
                        else if constexpr (std::is_same_v<T, bool>) line += v ? "true" : "false";
                        else if constexpr (std::is_same_v<T, std::string>) line += "\"" + v + "\"";
                        else if constexpr (std::is_same_v<T, resync::doc::List>) {
                            line += "[";
                            for (const auto& e : v.elements) {
                                line += " " + std::to_string(e.id.replica) + ":" + std::to_string(e.id.seq) + "=";
                                std::visit(
                                    [&](const auto& x) {
                                        using X = std::decay_t<decltype(x)>;
                                        if constexpr (std::is_same_v<X, resync::doc::Null>) line += "null";
                                        else if constexpr (std::is_same_v<X, bool>) line += x ? "true" : "false";
                                        else if constexpr (std::is_same_v<X, std::string>) line += "\"" + x + "\"";
                                        else line += std::to_string(x);
                                    },
                                    e.value);
                            }
                            line += " ]";
                        } else line += std::to_string(v);
                    },
                    value);
            }
            lines.push_back(line + " }");
        }
        std::sort(lines.begin(), lines.end());
        for (const auto& l : lines) out += l + "\n";
    }
    return out.empty() ? std::string("(empty)\n") : out;
}

/// One client replica: a store (a MemoryStore unless named) that outlives its sessions, and a
/// link (a LoopbackTransport, or any transport constructible from `(Server&, seed)`) and session
/// that `restart()` destroys and builds again, as an application restart would.
template <class Policy, class Link = resync::testing::LoopbackTransport<resync::doc::Model>,
          class Store = resync::MemoryStore>
struct Replica {
    using Session = resync::SyncSession<Store, Link, Policy>;
    using store_type = Store;

    resync::testing::Server<resync::doc::Model>* server;
    Policy policy;
    resync::SessionOptions options;
    std::uint64_t link_seed;
    StoreBox<Store> box;
    Store& store = box.store;
    std::optional<Link> link_;
    std::optional<Session> session_;

    explicit Replica(resync::testing::Server<resync::doc::Model>& s, Policy p = {}, resync::SessionOptions o = {},
                     std::uint64_t seed = 7)
        : server(&s), policy(std::move(p)), options(std::move(o)), link_seed(seed) {
        link_.emplace(*server, link_seed);
        session_.emplace(store, *link_, policy, options);
    }

    Session& session() { return *session_; }
    Link& link() { return *link_; }

    /// The application stops (session and connection gone) and starts again on the same store.
    void restart() {
        session_.reset();
        link_.reset();
        link_.emplace(*server, link_seed);
        session_.emplace(store, *link_, policy, options);
    }

    /// Creates (or updates) `collection/key` with `field` = `value` in one local transaction.
    resync::ClientVersion put(const std::string& collection, const std::string& key, const std::string& field,
                              resync::doc::Value value) {
        auto v = store.write([&](resync::doc::Writer& w) { w.create(collection, key).set(collection, key, field, value); });
        return v ? *v : 0;
    }

    resync::SessionState sync(std::size_t max_polls = 20000) { return session().run_until_idle(max_polls); }
    resync::ClientIdent ident() const { return store.sync_state().client_ident; }
};

/// A Transport around a LoopbackTransport that lets a test slip forged server messages into what
/// the session receives. While `hold_real_traffic` is set, only forged messages are delivered
/// (what the session sends still queues up for the server).
class ForgingTransport {
public:
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;
    using ClientMessage = resync::protocol::ClientMessage<resync::doc::Operation>;
    using ServerMessage = resync::protocol::ServerMessage<resync::doc::Operation>;

    explicit ForgingTransport(resync::testing::Server<resync::doc::Model>& server, std::uint64_t seed = 7) : inner_(server, seed) {}

    bool connected() const noexcept { return inner_.connected(); }
    std::uint64_t connection_id() const noexcept { return inner_.connection_id(); }
    bool send(ClientMessage m) { return inner_.send(std::move(m)); }
    std::optional<ServerMessage> receive() {
        if (!forged_.empty() && inner_.connected()) {
            ServerMessage m = std::move(forged_.front());
            forged_.pop_front();
            return m;
        }
        if (hold_real_traffic) return std::nullopt;
        auto m = inner_.receive();
        if (m)
            if (auto* c = std::get_if<resync::protocol::FreshChunk>(&*m); c && c->bytes.empty()) ++empty_fresh_chunks_;
        return m;
    }

    /// Queues a forged message; it is delivered before anything from the real server.
    void forge(ServerMessage m) { forged_.push_back(std::move(m)); }
    bool forged_pending() const noexcept { return !forged_.empty(); }

    resync::testing::LoopbackTransport<resync::doc::Model>& inner() noexcept { return inner_; }
    /// How many fresh-copy pieces from the real server came with no bytes (a copy stopping short).
    std::size_t empty_fresh_chunks() const noexcept { return empty_fresh_chunks_; }
    bool hold_real_traffic = false;

private:
    resync::testing::LoopbackTransport<resync::doc::Model> inner_;
    std::deque<ServerMessage> forged_;
    std::size_t empty_fresh_chunks_ = 0;
};

static_assert(resync::Transport<ForgingTransport>);

/// Applies every changeset of the server's history, in order, to an empty state: what the
/// server's state must be if it is self-consistent (valid only while nothing was compacted).
inline resync::doc::State replay_history(const resync::testing::Server<resync::doc::Model>& server) {
    resync::doc::State s;
    for (const auto& e : server.history()) resync::doc::apply(s, e.ops);
    return s;
}

// ------------------------------------------------------------- stores under test: more helpers
// (added with the second half of issue 12's conversions; kept together to merge cleanly)

/// A copy of `store` as another process would load it from disk, independent of the original:
/// a MemoryStore saved to a file in `dir` and loaded back; a SqliteStore's database copied
/// whole (`VACUUM INTO`, a consistent copy) into `dir` and opened.
template <class S>
S durable_copy(const S& store, const ScratchDir& dir) {
    static int copies = 0;
    const std::string path = (dir / ("copy-" + std::to_string(++copies))).string();
    if constexpr (std::is_same_v<S, resync::MemoryStore>) {
        REQUIRE_FALSE(store.save(path));
        auto loaded = resync::MemoryStore::load(path);
        REQUIRE(loaded);
        return std::move(*loaded);
    }
#if RESYNC_TEST_SQLITE
    else if constexpr (std::is_same_v<S, resync::SqliteStore>) {
        auto& q = store.database()("VACUUM INTO CAST(? AS TEXT)");
        q.bind_blob(path);
        REQUIRE_FALSE(q.run());
        auto opened = resync::SqliteStore::open(path);
        REQUIRE(opened);
        return std::move(*opened);
    }
#endif
    else static_assert(sizeof(S) == 0, "durable_copy: a store this helper does not know");
}

/// Empties `store`'s quarantine and returns what it held (a SqliteStore's can fail: required
/// to succeed here).
template <class S>
std::vector<resync::QuarantinedOperation<resync::doc::Operation>> take_quarantine(S& store) {
    auto taken = store.take_quarantined();
    if constexpr (std::is_same_v<decltype(taken), std::vector<resync::QuarantinedOperation<resync::doc::Operation>>>)
        return taken;
    else {
        REQUIRE(taken);
        return std::move(*taken);
    }
}

// ================================================================================= scen1 block
// Added for issue 12 (the scenario suite on both stores, part 1): a box for the test-double
// stores and a restart that reopens the store from its storage.

/// A test-double store made by its constructor from a replica id (RequiredMembersStore and the
/// like, which forward to a MemoryStore); replica id 0 means its default.
template <class S>
    requires std::is_constructible_v<S, std::uint64_t> && std::is_default_constructible_v<S>
struct StoreBox<S> {
    S store;
    explicit StoreBox(std::uint64_t replica_id = 0) : store(replica_id ? S(replica_id) : S()) {}
};

/// The process ends and starts again: the store is opened anew from what reached its storage.
/// A MemoryStore (or a test double) is its own storage, so nothing changes; a SqliteStore's file
/// is opened again, so nothing its old object held in memory (a half-decoded staged copy,
/// cached counters, the sync state) survives into the restart.
template <class S>
void reopen(StoreBox<S>&) {}
#if RESYNC_TEST_SQLITE
inline void reopen(StoreBox<resync::SqliteStore>& box) {
    auto again = resync::SqliteStore::open(box.store.path());
    REQUIRE(again);
    box.store = std::move(*again);
}
#endif

/// An application restart (`Replica::restart`) that also reopens the store (`reopen`).
template <class Policy, class Link, class Store>
void restart_reopened(Replica<Policy, Link, Store>& r) {
    r.session_.reset();
    r.link_.reset();
    reopen(r.box);
    r.restart();
}

// ============================================================================ end of scen1 block

} // namespace resync_test
