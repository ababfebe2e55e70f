#pragma once
// Helpers for the recovery scenario tests (tests/scenarios/recovery_*.test.cpp): a replica with a
// chosen replica id (reproducible list element ids), a transport that counts what the session
// sends and can hold back acknowledgements and downloads, a backup policy whose callback can be
// swapped per test, and ways to read the server's history (who wrote what, how many times).

#include <resync/doc.hpp>
#include <resync/backup/callback.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/memory_store.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace resync_test {

/// A `Replica` whose store names its list elements after `replica_id` (unique per test), so that
/// list contents and orders are the same on every run.
template <class Policy, class Link = resync::testing::LoopbackTransport<resync::doc::Model>,
          class Store = resync::MemoryStore>
struct Peer : Replica<Policy, Link, Store> {
    Peer(resync::testing::Server<resync::doc::Model>& s, std::uint64_t replica_id, Policy p = {}, resync::SessionOptions o = {},
         std::uint64_t seed = 7)
        : Replica<Policy, Link, Store>(s, std::move(p), std::move(o), seed) {
        // The session holds a reference to `store`, which stays where it is: only its value changes.
        this->store = this->box.make(replica_id);
    }
};

/// A Transport around a LoopbackTransport that counts the messages the session sends (Hello,
/// Upload, Pull, FreshRequest; and the changesets of every upload) and, while told to, loses the
/// uploads on their way to the server, or the upload acknowledgements or downloads coming back.
class TapTransport {
public:
    using transport_concept = resync::transport_t;
    using operation_type = resync::doc::Operation;
    using ClientMessage = resync::protocol::ClientMessage<resync::doc::Operation>;
    using ServerMessage = resync::protocol::ServerMessage<resync::doc::Operation>;

    explicit TapTransport(resync::testing::Server<resync::doc::Model>& server, std::uint64_t seed = 7) : inner_(server, seed) {}

    bool connected() const noexcept { return inner_.connected(); }
    std::uint64_t connection_id() const noexcept { return inner_.connection_id(); }

    bool send(ClientMessage m) {
        if (std::holds_alternative<resync::protocol::Hello>(m)) ++hellos;
        if (std::holds_alternative<resync::protocol::Pull>(m)) ++pulls;
        if (std::holds_alternative<resync::protocol::FreshRequest>(m)) ++fresh_requests;
        if (auto* u = std::get_if<resync::protocol::Upload<resync::doc::Operation>>(&m)) {
            ++uploads;
            upload_sizes.push_back(u->changesets.size());
            if (drop_uploads) {
                ++uploads_dropped;
                return true; // lost on the way
            }
        }
        return inner_.send(std::move(m));
    }

    std::optional<ServerMessage> receive() {
        for (;;) {
            auto m = inner_.receive();
            if (!m) return m;
            if (drop_acks && std::holds_alternative<resync::protocol::UploadAck>(*m)) {
                ++acks_dropped;
                continue;
            }
            if (drop_downloads && std::holds_alternative<resync::protocol::Download<resync::doc::Operation>>(*m)) {
                ++downloads_dropped;
                continue;
            }
            return m;
        }
    }

    resync::testing::LoopbackTransport<resync::doc::Model>& inner() noexcept { return inner_; }
    resync::testing::LinkFaults& faults() noexcept { return inner_.faults(); }
    void go_offline() { inner_.go_offline(); }
    void go_online() { inner_.go_online(); }

    /// The largest number of changesets any upload carried.
    std::size_t largest_upload() const {
        std::size_t n = 0;
        for (auto s : upload_sizes) n = std::max(n, s);
        return n;
    }

    bool drop_uploads = false;
    bool drop_acks = false;
    bool drop_downloads = false;
    std::size_t hellos = 0, pulls = 0, uploads = 0, fresh_requests = 0;
    std::size_t uploads_dropped = 0, acks_dropped = 0, downloads_dropped = 0;
    std::vector<std::size_t> upload_sizes;

private:
    resync::testing::LoopbackTransport<resync::doc::Model> inner_;
};

static_assert(resync::Transport<TapTransport>);

/// A backup model that calls whatever `hook` holds at backup time (a test sets it to look at the
/// store as the reset sees it before anything is touched). Keeps no before-state.
struct HookBackup {
    using resync_role = resync::role::backup;
    static constexpr bool keeps_before_state = false;

    std::function<void(const resync::MemoryStore&, const resync::ResetTrigger&)>* hook = nullptr;

    template <class S>
    resync::Result<resync::BackupMade> backup(const S& store, const resync::ResetTrigger& t,
                                             const resync::BackupContext&) const {
        if (hook && *hook) (*hook)(store, t);
        return resync::BackupMade{std::string("hook"), false};
    }
};

/// How many entries of the server's history each (origin, client version) has: a change
/// uploaded twice shows as a count of 2. Server-side writes (origin 0) are left out.
inline std::map<std::pair<resync::ClientIdent, resync::ClientVersion>, std::size_t>
history_keys(const resync::testing::Server<resync::doc::Model>& server) {
    std::map<std::pair<resync::ClientIdent, resync::ClientVersion>, std::size_t> keys;
    for (const auto& e : server.history())
        if (e.origin != 0) ++keys[{e.origin, e.client_version}];
    return keys;
}

/// True when no (origin, client version) appears twice in the server's history.
inline bool no_duplicate_uploads(const resync::testing::Server<resync::doc::Model>& server) {
    for (const auto& [key, n] : history_keys(server))
        if (n != 1) return false;
    return true;
}

/// How many operations of the server's history match `pred`.
template <class Pred>
std::size_t ops_on_server(const resync::testing::Server<resync::doc::Model>& server, Pred pred) {
    std::size_t n = 0;
    for (const auto& e : server.history())
        for (const auto& op : e.ops) n += pred(op) ? 1 : 0;
    return n;
}

/// How many operations of the server's history set `collection/key.field`, or add to it.
inline std::size_t writes_on_server(const resync::testing::Server<resync::doc::Model>& server, const std::string& collection,
                                    const std::string& key, const std::string& field) {
    return ops_on_server(server, [&](const resync::doc::Operation& op) {
        return (std::holds_alternative<resync::doc::SetField>(op) ||
                std::holds_alternative<resync::doc::AddInteger>(op)) &&
               resync::doc::collection_of(op) == collection && resync::doc::key_of(op) == key &&
               resync::doc::field_of(op) == field;
    });
}

/// The values of a list field, in order (empty when the field is not a list).
inline std::vector<resync::doc::Scalar> list_values(const resync::doc::State& s, const std::string& collection,
                                                   const std::string& key, const std::string& field) {
    std::vector<resync::doc::Scalar> out;
    const resync::doc::Value v = s.get(collection, key, field);
    if (const auto* list = std::get_if<resync::doc::List>(&v))
        for (const auto& e : list->elements) out.push_back(e.value);
    return out;
}

/// A string list element value.
inline resync::doc::Scalar el(const char* s) { return resync::doc::Scalar{std::string(s)}; }

/// Polls `session` until `done()` or `max_polls`; returns whether `done()` held.
template <class Session, class F>
bool poll_until(Session& session, F&& done, std::size_t max_polls = 5000) {
    for (std::size_t i = 0; i < max_polls; ++i) {
        if (done()) return true;
        session.poll();
    }
    return done();
}

} // namespace resync_test
