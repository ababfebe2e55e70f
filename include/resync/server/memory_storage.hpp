#pragma once
/// \file
/// `server::MemoryStorage<M>`: a `server::Storage` that keeps everything in this process - the
/// history, the state, the client registry - with the operations a test needs on a server's
/// data (backups and restores, terminate-and-re-enable, destructive schema changes, compaction,
/// forgetting a client). Its transactions never fail. `testing::Server` is the protocol engine
/// over it.

#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/server/storage.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

namespace resync::server {

/// Server state held in memory, for the model `M`.
template <Model M>
class MemoryStorage {
public:
    using model_type = M;
    using operation_type = typename M::operation_type;
    using snapshot_type = typename M::snapshot_type;

    /// What the registry holds about one ident.
    struct ClientRecord {
        ClientVersion last_integrated = 0;
        std::map<ClientVersion, std::uint64_t> integrated_at; ///< client version -> server version
        bool bound = true;             ///< see `ClientEntry::bound`
        ClientIdent reserved_for = 0;  ///< see `ClientEntry::reserved_for`
        friend bool operator==(const ClientRecord&, const ClientRecord&) = default;
    };

    /// Everything the server holds (docs/server.md §2.1).
    struct Data {
        Epoch epoch = 0;
        SchemaVersion schema_version = 1;
        ServerPosition latest{};
        ServerPosition floor{};
        snapshot_type state;
        std::vector<RemoteChangeset<operation_type>> history;
        std::map<ClientIdent, ClientRecord> clients;
        ClientIdent next_ident = 1;
    };

    /// A storage with a new random epoch; `seed` seeds salts and epochs, for reproducible tests.
    explicit MemoryStorage(std::uint64_t seed = 1) : rng_(seed) { data_.epoch = draw(); }

    const Data& data() const noexcept { return data_; }

    /// A transaction on the data. Never fails.
    class Txn {
    public:
        explicit Txn(MemoryStorage& s) noexcept : s_(&s) {}

        bool failed() const noexcept { return false; }

        Head head() const { return {d().epoch, d().schema_version, d().latest, d().floor}; }
        std::optional<std::uint64_t> salt_in_history(std::uint64_t version) const {
            const auto* e = s_->find(version);
            return e ? std::optional<std::uint64_t>(e->salt) : std::nullopt;
        }
        std::optional<ClientEntry> client(ClientIdent ident) const {
            auto it = d().clients.find(ident);
            if (it == d().clients.end()) return std::nullopt;
            return ClientEntry{it->second.last_integrated, it->second.bound, it->second.reserved_for};
        }
        std::optional<std::uint64_t> integrated_at(ClientIdent ident, ClientVersion cv) const {
            auto it = d().clients.find(ident);
            if (it == d().clients.end()) return std::nullopt;
            auto at = it->second.integrated_at.find(cv);
            if (at == it->second.integrated_at.end()) return std::nullopt;
            return at->second;
        }
        void history_after(std::uint64_t version, std::size_t max, std::vector<RemoteChangeset<operation_type>>& out) const {
            auto it = std::upper_bound(d().history.begin(), d().history.end(), version,
                                       [](std::uint64_t v, const auto& e) { return v < e.server_version; });
            for (; it != d().history.end() && out.size() < max; ++it) out.push_back(*it);
        }
        ClientVersion last_from_history(ClientIdent origin) const {
            ClientVersion last = 0;
            for (const auto& e : d().history)
                if (e.origin == origin) last = std::max(last, e.client_version);
            return last;
        }
        std::optional<EntryOrigin> entry_at(std::uint64_t version) const {
            const auto* e = s_->find(version);
            return e ? std::optional<EntryOrigin>(EntryOrigin{e->origin, e->client_version}) : std::nullopt;
        }
        EncodedCopy encode_copy() const { return {head(), M::encode_snapshot(d().state)}; }

        ClientIdent register_client(const ClientEntry& entry) {
            const ClientIdent ident = s_->data_.next_ident++;
            auto& r = s_->data_.clients[ident];
            r.last_integrated = entry.last_integrated;
            r.bound = entry.bound;
            r.reserved_for = entry.reserved_for;
            return ident;
        }
        void forget(ClientIdent ident) { s_->data_.clients.erase(ident); }
        void bind(ClientIdent ident) {
            if (auto it = s_->data_.clients.find(ident); it != s_->data_.clients.end()) it->second.bound = true;
        }
        void release_reservations(ClientIdent reserved_for, ClientIdent except) {
            std::erase_if(s_->data_.clients, [&](const auto& kv) {
                return kv.first != except && !kv.second.bound && kv.second.reserved_for == reserved_for;
            });
        }
        ServerPosition append(ClientIdent origin, ClientVersion cv, std::vector<operation_type> ops) {
            return s_->append(origin, cv, std::move(ops));
        }
        void record_integrated(ClientIdent ident, ClientVersion cv, std::uint64_t server_version) {
            auto& r = s_->data_.clients[ident];
            r.last_integrated = std::max(r.last_integrated, cv);
            r.integrated_at[cv] = server_version;
        }

    private:
        const Data& d() const noexcept { return s_->data_; }
        MemoryStorage* s_;
    };

    template <class F>
    std::error_code read(F&& f) {
        Txn t(*this);
        std::forward<F>(f)(t);
        return {};
    }
    template <class F>
    std::error_code write(F&& f) {
        Txn t(*this);
        std::forward<F>(f)(t);
        return {};
    }

    // ------------------------------------------------------------------ operations on the data

    /// Applies a changeset to the state and appends it to the history at the next version, with a
    /// new salt. Returns its position.
    ServerPosition append(ClientIdent origin, ClientVersion cv, std::vector<operation_type> ops) {
        for (const auto& op : ops) M::apply(data_.state, op);
        RemoteChangeset<operation_type> e;
        e.server_version = data_.latest.version + 1;
        e.salt = draw();
        e.origin = origin;
        e.client_version = cv;
        e.ops = std::move(ops);
        data_.latest = e.position();
        data_.history.push_back(std::move(e));
        return data_.latest;
    }

    /// Puts back a copy of the data taken earlier (a restore from a backup). Client idents are
    /// never reissued: the ident counter keeps the larger of the two.
    void restore(const Data& backup) {
        const ClientIdent next = std::max(data_.next_ident, backup.next_ident);
        data_ = backup;
        data_.next_ident = next;
    }

    /// A new random epoch with empty history; the data is kept and every client forgotten. Kept
    /// data is in no history entry of the new epoch, so the history starts compacted past an
    /// empty entry: every client must start from a fresh copy.
    void terminate_and_reenable() {
        data_.epoch = draw();
        data_.history.clear();
        data_.latest = {};
        data_.floor = {};
        data_.clients.clear();
        if (M::object_count(data_.state) != 0) {
            append(0, 0, {});
            compact(data_.latest.version);
        }
    }

    /// A destructive schema change: `migrate` rewrites the data, the schema version goes up, and
    /// the history up to an empty entry appended now is compacted away.
    void change_schema(const std::function<void(snapshot_type&)>& migrate) {
        if (migrate) migrate(data_.state);
        ++data_.schema_version;
        append(0, 0, {});
        compact(data_.latest.version);
    }

    /// Drops the entries at or below `upto` (clamped to the latest); the floor keeps the salt.
    void compact(std::uint64_t upto) {
        upto = std::min(upto, data_.latest.version);
        if (upto <= data_.floor.version) return;
        const auto* at = find(upto);
        const std::uint64_t salt = at ? at->salt : 0;
        std::erase_if(data_.history, [&](const auto& e) { return e.server_version <= upto; });
        data_.floor = {upto, salt};
    }

    /// Removes an ident from the registry (its entries stay in the history).
    void forget(ClientIdent ident) { data_.clients.erase(ident); }

private:
    std::uint64_t draw() {
        std::uint64_t v = 0;
        while (v == 0) v = rng_();
        return v;
    }

    const RemoteChangeset<operation_type>* find(std::uint64_t version) const {
        auto it = std::lower_bound(data_.history.begin(), data_.history.end(), version,
                                   [](const auto& e, std::uint64_t v) { return e.server_version < v; });
        if (it == data_.history.end() || it->server_version != version) return nullptr;
        return &*it;
    }

    std::mt19937_64 rng_;
    Data data_;
};

} // namespace resync::server
