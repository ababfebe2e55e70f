#pragma once
// Workloads shared by the reset benchmarks: states of N simple objects, a store that stands at a
// known server position, and a transport that answers a Hello with a server rollback and serves
// a pre-encoded fresh copy - so a benchmark measures the session, not a server.

#include <resync/concepts/transport.hpp>
#include <resync/memory_store.hpp>
#include <resync/doc/codec.hpp>
#include <resync/protocol.hpp>
#include <resync/reset_commit.hpp>
#include <resync/session_options.hpp>
#include <resync/sync_session.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace resync_bench {

inline const std::string collection = "items";

/// The primary key of object `i` (below 10^9): 10 characters, short enough for std::string's
/// inline buffer.
inline std::string key(std::size_t i) {
    std::string k = "o000000000";
    for (std::size_t at = k.size(); at-- > 1 && i != 0; i /= 10) k[at] = static_cast<char>('0' + i % 10);
    return k;
}

/// A simple object: three scalar fields (int, short string, double), like Realm's benchmark.
inline resync::doc::Object simple_object(std::size_t i, std::int64_t revision = 0) {
    resync::doc::Object o;
    o.emplace("n", resync::doc::Value{static_cast<std::int64_t>(i) + revision});
    o.emplace("name", resync::doc::Value{"name-" + std::to_string(i % 1000)});
    o.emplace("score", resync::doc::Value{static_cast<double>(i) * 0.5});
    return o;
}

/// `n` simple objects, keys 0 .. n-1, in one collection.
inline resync::doc::State make_state(std::size_t n) {
    resync::doc::State s;
    auto& c = s.collections[collection];
    c.reserve(n);
    for (std::size_t i = 0; i < n; ++i) c.emplace(key(i), simple_object(i));
    return s;
}

inline constexpr std::uint64_t salt_of(std::uint64_t version) noexcept {
    return version == 0 ? 0 : (version * 0x9E3779B97F4A7C15ull) | 1;
}

inline constexpr resync::Epoch epoch = 1;
inline constexpr resync::SchemaVersion schema = 1;
inline constexpr resync::ClientIdent old_ident = 1;
inline constexpr resync::ClientIdent new_ident = 2;
/// Where the client stands before the reset, and where the restored server stands.
inline constexpr resync::ServerPosition client_cursor{100, salt_of(100)};
inline constexpr resync::ServerPosition restored_at{50, salt_of(50)};

/// The sync state of a client that synced up to `client_cursor`.
inline resync::SyncState synced_state() {
    resync::SyncState s;
    s.client_ident = old_ident;
    s.download = client_cursor;
    s.epoch = epoch;
    s.schema_version = schema;
    return s;
}

/// Makes `state` the synced base of an empty `store`, with the sync state `sync`.
inline void install(resync::MemoryStore& store, resync::doc::State state, resync::SyncState sync) {
    auto old = store.commit_reset(resync::ResetCommit<resync::doc::State, resync::doc::Operation>{
        std::move(state), {}, std::move(sync), {}});
    (void)old;
}

/// A transport to a server that was restored from a backup: it answers the first Hello with a
/// Welcome below the client's cursor (a rollback), and every fresh-copy request with the next
/// piece of `fresh` (the encoded snapshot), as a real server would.
class RestoredServerLink {
public:
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;
    using ClientMessage = resync::protocol::ClientMessage<resync::doc::Operation>;
    using ServerMessage = resync::protocol::ServerMessage<resync::doc::Operation>;

    /// `fresh` must outlive the link.
    explicit RestoredServerLink(const std::string& fresh) : fresh_(&fresh) {}

    bool connected() const noexcept { return true; }
    std::uint64_t connection_id() const noexcept { return 1; }

    bool send(ClientMessage m) {
        std::visit([&](auto& msg) { on(msg); }, m);
        return true;
    }
    std::optional<ServerMessage> receive() {
        if (inbox_.empty()) return std::nullopt;
        ServerMessage m = std::move(inbox_.front());
        inbox_.pop_front();
        return m;
    }

private:
    void on(const resync::protocol::Hello& h) {
        resync::protocol::Welcome w;
        w.ident = h.ident;
        w.latest = restored_at;
        w.epoch = epoch;
        w.schema_version = schema;
        inbox_.emplace_back(w);
    }
    void on(const resync::protocol::FreshRequest& q) {
        resync::protocol::FreshChunk c;
        c.position = restored_at;
        c.epoch = epoch;
        c.schema_version = schema;
        c.new_ident = new_ident;
        c.total_bytes = fresh_->size();
        c.offset = std::min<std::uint64_t>(q.offset, fresh_->size());
        c.bytes = fresh_->substr(static_cast<std::size_t>(c.offset), q.max_bytes);
        inbox_.emplace_back(std::move(c));
    }
    void on(const resync::protocol::Pull& p) {
        resync::protocol::Download<resync::doc::Operation> d;
        d.ident = p.ident;
        d.base = p.from;
        d.latest = restored_at;
        inbox_.emplace_back(std::move(d));
    }
    void on(const resync::protocol::Upload<resync::doc::Operation>&) {}

    const std::string* fresh_;
    std::deque<ServerMessage> inbox_;
};

/// Polls `session` until it has committed one reset; false if it stopped or never got there.
template <class Session>
bool run_one_reset(Session& session, std::size_t max_polls = 10'000'000) {
    for (std::size_t i = 0; i < max_polls; ++i) {
        if (session.poll() == resync::SessionState::stopped) return false;
        if (session.resets_completed() > 0) return true;
    }
    return false;
}

} // namespace resync_bench
