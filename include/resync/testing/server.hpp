#pragma once
/// \file
/// `testing::Server`: the in-process reference sync server, with every fault a client reset
/// needs to be tested against: backups and restores, terminate-and-re-enable, destructive schema
/// changes, history compaction, forgotten clients and injected errors. Connect clients to it
/// with `testing::LoopbackTransport`.

#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/protocol.hpp>
#include <resync/server_error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace resync::testing {

/// Tunables of the reference server.
struct ServerOptions {
    std::uint64_t seed = 1;               ///< seeds salts and epochs, for reproducible tests
    std::uint32_t max_download_entries = 256;
    std::uint32_t max_fresh_chunk_bytes = 64 * 1024;
};

/// What the server knows about one connection (one Hello), kept by the link.
struct LinkSession {
    bool hello_seen = false;
    ClientIdent ident = 0;
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
    /// The last client version the server acknowledged to this client: as its Hello says, then
    /// as acknowledged on this link. Above what the server holds, the server lost acknowledged
    /// changes (a restore) though the client's download cursor may not show it.
    ClientVersion upload_acked = 0;
};

/// The in-process reference server for the model `M` (`testing::Server<doc::Model>` for the
/// document model; any `resync::Model` works: it needs the model's apply and snapshot encoding).
/// Its behaviour is the server contract, docs/server.md.
template <Model M>
class Server {
public:
    using model_type = M;
    using operation_type = typename M::operation_type;
    using snapshot_type = typename M::snapshot_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;

    struct ClientRecord {
        ClientVersion last_integrated = 0;
        std::map<ClientVersion, std::uint64_t> integrated_at; ///< client version -> server version
        friend bool operator==(const ClientRecord&, const ClientRecord&) = default;
    };

    /// Everything the server holds.
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

    /// A server backup: a copy of its `Data`.
    struct Backup {
        Data data;
    };

    explicit Server(ServerOptions options = {}) : options_(options), rng_(options.seed) {
        data_.epoch = draw();
    }

    // ------------------------------------------------------------------ inspection

    const snapshot_type& state() const noexcept { return data_.state; }
    ServerPosition latest() const noexcept { return data_.latest; }
    Epoch epoch() const noexcept { return data_.epoch; }
    SchemaVersion schema_version() const noexcept { return data_.schema_version; }
    const std::vector<RemoteChangeset<operation_type>>& history() const noexcept { return data_.history; }
    /// The lowest download cursor a client may have and still continue.
    std::uint64_t history_floor() const noexcept { return data_.floor.version; }
    bool knows_client(ClientIdent ident) const { return data_.clients.contains(ident); }
    /// How many changesets from `ident` the server integrated (0 if unknown).
    ClientVersion last_integrated(ClientIdent ident) const {
        auto it = data_.clients.find(ident);
        return it == data_.clients.end() ? 0 : it->second.last_integrated;
    }
    /// How many messages of each kind the server handled (uploads, pulls, fresh requests ...).
    std::size_t fresh_copies_started() const noexcept { return fresh_copies_started_; }

    // ------------------------------------------------------------------ writes and faults

    /// Integrates a changeset written on the server side (an admin or another service).
    ServerPosition write(std::vector<operation_type> ops) { return append(0, 0, std::move(ops)); }

    /// Takes a backup of everything the server holds (data, history, epoch, known clients), as
    /// a database backup would.
    Backup backup() const { return Backup{data_}; }

    /// Restores a backup: history, state, epoch and known clients go back to the backup's.
    /// Client idents are never reissued, so clients registered after the backup are unknown.
    void restore(const Backup& b) {
        const ClientIdent next = std::max(data_.next_ident, b.data.next_ident);
        data_ = b.data;
        data_.next_ident = next;
        fresh_cache_.reset();
    }

    /// Terminates and re-enables sync: a new epoch with empty history; the data is kept and every
    /// client is forgotten.
    void terminate_and_reenable() {
        data_.epoch = draw();
        data_.history.clear();
        data_.latest = {};
        data_.floor = {};
        data_.clients.clear();
        fresh_cache_.reset();
        // The kept data is not in the new epoch's history: a client must start from a fresh copy.
        if (M::object_count(data_.state) != 0) {
            append(0, 0, {});
            compact(data_.latest.version);
        }
    }

    /// A destructive schema change: `migrate` rewrites the data (for example, changes a field's
    /// type), the schema version goes up, and the history before it is gone, so clients on the
    /// old schema can no longer continue.
    void change_schema(const std::function<void(snapshot_type&)>& migrate = {}) {
        if (migrate) migrate(data_.state);
        ++data_.schema_version;
        append(0, 0, {});
        compact(data_.latest.version);
    }

    /// Compacts history: entries at or below `upto` are dropped, so clients whose cursor is below
    /// `upto` have expired.
    void compact(std::uint64_t upto) {
        upto = std::min(upto, data_.latest.version);
        if (upto <= data_.floor.version) return;
        const auto salt = salt_of(upto);
        std::erase_if(data_.history, [&](const auto& e) { return e.server_version <= upto; });
        data_.floor = {upto, salt.value_or(0)};
    }

    /// Forgets a client: its ident becomes unknown (its next message gets error 208).
    void forget_client(ClientIdent ident) { data_.clients.erase(ident); }

    /// The next message from any client (or only from `ident`, if non-zero) is answered with
    /// `error` instead of being handled.
    void inject_error(ServerError error, ClientIdent ident = 0) {
        injected_.push_back({std::move(error), ident});
    }

    /// The next fresh copy served is damaged: one byte flipped (`corrupt`), or cut short
    /// (`truncate`: the server announces the full size but stops half way).
    enum class FreshCopyFault { none, corrupt, truncate };
    void damage_next_fresh_copy(FreshCopyFault f) { fresh_fault_ = f; }

    // ------------------------------------------------------------------ the protocol

    /// Handles one client message on a connection and returns the replies.
    std::vector<ServerMessage> handle(LinkSession& link, ClientMessage message) {
        std::vector<ServerMessage> out;
        const ClientIdent sender = std::visit([](const auto& m) { return m.ident; }, message);
        for (auto it = injected_.begin(); it != injected_.end(); ++it) {
            if (it->ident == 0 || it->ident == sender) {
                out.push_back(it->error);
                injected_.erase(it);
                return out;
            }
        }
        std::visit([&](auto& m) { on(link, std::move(m), out); }, message);
        return out;
    }

private:
    struct Injected {
        ServerError error;
        ClientIdent ident = 0;
    };

    std::uint64_t draw() {
        std::uint64_t v = 0;
        while (v == 0) v = rng_();
        return v;
    }

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
        fresh_cache_.reset();
        return data_.latest;
    }

    /// The salt at `version`, if the server still has it.
    std::optional<std::uint64_t> salt_of(std::uint64_t version) const {
        if (version == data_.floor.version) return data_.floor.salt;
        if (version < data_.floor.version || version > data_.latest.version) return std::nullopt;
        auto it = std::lower_bound(data_.history.begin(), data_.history.end(), version,
                                   [](const auto& e, std::uint64_t v) { return e.server_version < v; });
        if (it == data_.history.end() || it->server_version != version) return std::nullopt;
        return it->salt;
    }

    ServerError error(int code, ServerAction action, std::string message) const {
        return ServerError{code, action, std::move(message)};
    }

    /// Checks a client's identity and download cursor the way a real server checks them before
    /// serving it; returns the error to send, if any.
    std::optional<ServerError> check(const LinkSession& link, ClientIdent ident, ServerPosition cursor) const {
        if (!link.hello_seen) return error(0, ServerAction::protocol_violation, "message before Hello");
        if (ident != link.ident) return error(0, ServerAction::protocol_violation, "ident differs from Hello");
        if (!data_.clients.contains(ident))
            return error(server_code::bad_client_file_ident, ServerAction::reset,
                         "the server has forgotten about this client");
        if (link.schema_version != data_.schema_version)
            return error(server_code::bad_client_file, ServerAction::reset_no_recovery,
                         "synchronization is no longer possible for this client: the schema changed");
        if (cursor.version > data_.latest.version)
            return error(server_code::bad_server_version, ServerAction::reset,
                         "the client is ahead of the server (was the server restored from a backup?)");
        if (cursor.version < data_.floor.version)
            return error(server_code::client_file_expired, ServerAction::reset,
                         "the client's history expired due to log compaction");
        if (salt_of(cursor.version) != cursor.salt && cursor.version != 0)
            return error(server_code::diverging_histories, ServerAction::reset,
                         "the client's history diverges from the server's");
        if (link.upload_acked > data_.clients.at(ident).last_integrated)
            return error(server_code::bad_client_version, ServerAction::reset,
                         "the server no longer has changes it acknowledged to this client (was it restored from a backup?)");
        return std::nullopt;
    }

    void on(LinkSession& link, protocol::Hello&& m, std::vector<ServerMessage>& out) {
        protocol::Welcome w;
        link.hello_seen = true;
        link.upload_acked = m.upload_acked;
        link.epoch = m.epoch;
        link.schema_version = m.schema_version;
        const bool same_epoch = m.epoch == 0 || m.epoch == data_.epoch;
        if (m.ident == 0) {
            link.ident = data_.next_ident++;
            data_.clients[link.ident];
            link.schema_version = m.epoch == 0 ? data_.schema_version : m.schema_version;
        } else if (same_epoch && !data_.clients.contains(m.ident)) {
            out.push_back(error(server_code::bad_client_file_ident, ServerAction::reset,
                                "the server has forgotten about this client"));
            return;
        } else {
            link.ident = m.ident;
        }
        w.ident = link.ident;
        w.latest = data_.latest;
        w.salt_at_cursor = salt_of(m.download.version);
        w.oldest_available = data_.floor.version;
        w.epoch = data_.epoch;
        w.schema_version = data_.schema_version;
        out.push_back(w);
    }

    void on(LinkSession& link, protocol::Pull&& m, std::vector<ServerMessage>& out) {
        if (auto e = check(link, m.ident, m.from)) { out.push_back(std::move(*e)); return; }
        protocol::Download<operation_type> d;
        d.ident = m.ident;
        d.base = m.from;
        d.latest = data_.latest;
        const std::size_t max = std::min<std::size_t>(m.max_entries ? m.max_entries : 1, options_.max_download_entries);
        for (const auto& e : data_.history) {
            if (e.server_version <= m.from.version) continue;
            if (d.entries.size() >= max) break;
            d.entries.push_back(e);
        }
        out.push_back(std::move(d));
    }

    void on(LinkSession& link, protocol::Upload<operation_type>&& m, std::vector<ServerMessage>& out) {
        if (auto e = check(link, m.ident, m.download)) { out.push_back(std::move(*e)); return; }
        auto& client = data_.clients[m.ident];
        protocol::UploadAck ack;
        ack.ident = m.ident;
        for (auto& cs : m.changesets) {
            // The idempotency key is (ident, client version): a retried upload is never applied twice.
            if (cs.client_version > client.last_integrated) {
                append(m.ident, cs.client_version, std::move(cs.ops));
                client.last_integrated = cs.client_version;
                client.integrated_at[cs.client_version] = data_.latest.version;
            }
            if (auto at = client.integrated_at.find(cs.client_version); at != client.integrated_at.end())
                ack.integrated.emplace_back(at->first, at->second);
        }
        ack.client_version = client.last_integrated;
        link.upload_acked = std::max(link.upload_acked, ack.client_version);
        out.push_back(std::move(ack));
    }

    void on(LinkSession& link, protocol::FreshRequest&& m, std::vector<ServerMessage>& out) {
        if (!link.hello_seen) {
            out.push_back(error(0, ServerAction::protocol_violation, "message before Hello"));
            return;
        }
        if (!fresh_cache_ || fresh_cache_->position != data_.latest) {
            fresh_cache_ = FreshCache{data_.latest, M::encode_snapshot(data_.state)};
        }
        std::uint64_t offset = m.offset;
        ClientIdent ident = m.reserved_ident;
        // A resumed copy of another position starts over (the server moved on in between).
        if (m.expected != fresh_cache_->position || offset > fresh_cache_->bytes.size()) {
            offset = 0;
            ident = 0;
        }
        if (offset == 0) ++fresh_copies_started_;
        if (ident == 0 || !data_.clients.contains(ident)) {
            ident = data_.next_ident++;
            data_.clients[ident];
        }
        std::string bytes = fresh_cache_->bytes;
        if (fresh_fault_ == FreshCopyFault::corrupt && !bytes.empty()) {
            bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5A);
        }
        const std::uint64_t total = bytes.size();
        if (fresh_fault_ == FreshCopyFault::truncate) bytes.resize(bytes.size() / 2);
        protocol::FreshChunk c;
        c.position = fresh_cache_->position;
        c.epoch = data_.epoch;
        c.schema_version = data_.schema_version;
        c.new_ident = ident;
        c.total_bytes = total;
        c.offset = offset;
        const std::uint64_t max = std::min<std::uint64_t>(m.max_bytes ? m.max_bytes : 1, options_.max_fresh_chunk_bytes);
        if (offset < bytes.size()) c.bytes = bytes.substr(offset, max);
        // The damaged copy is served until the client has asked for all of it once: a corrupt
        // copy up to its last byte, a truncated one up to the empty piece where it stops short
        // (clearing it at its last byte would let the client resume into an intact copy).
        if (fresh_fault_ == FreshCopyFault::corrupt && offset + c.bytes.size() >= bytes.size())
            fresh_fault_ = FreshCopyFault::none;
        if (fresh_fault_ == FreshCopyFault::truncate && c.bytes.empty()) fresh_fault_ = FreshCopyFault::none;
        c.probes = probe(m.probe_versions);
        c.integrated_from_requester = last_integrated(m.ident);
        // A forgotten client's record is gone, but its changesets are still in the history.
        for (const auto& e : data_.history)
            if (e.origin == m.ident && m.ident != 0)
                c.integrated_from_requester = std::max(c.integrated_from_requester, e.client_version);
        out.push_back(std::move(c));
    }

    /// What the server holds at each version: compacted versions count as present, marked as
    /// compacted (of unknown origin).
    std::vector<protocol::Probe> probe(const std::vector<std::uint64_t>& versions) const {
        std::vector<protocol::Probe> out;
        out.reserve(versions.size());
        for (const auto v : versions) {
            protocol::Probe p{v, false, 0, 0};
            if (v != 0 && v <= data_.floor.version) {
                p.present = true;
                p.compacted = true;
            } else if (v <= data_.latest.version) {
                auto it = std::lower_bound(data_.history.begin(), data_.history.end(), v,
                                           [](const auto& e, std::uint64_t x) { return e.server_version < x; });
                if (it != data_.history.end() && it->server_version == v) {
                    p.present = true;
                    p.origin = it->origin;
                    p.client_version = it->client_version;
                }
            }
            out.push_back(p);
        }
        return out;
    }

    struct FreshCache {
        ServerPosition position;
        std::string bytes;
    };

    ServerOptions options_;
    std::mt19937_64 rng_;
    Data data_;
    std::vector<Injected> injected_;
    std::optional<FreshCache> fresh_cache_;
    FreshCopyFault fresh_fault_ = FreshCopyFault::none;
    std::size_t fresh_copies_started_ = 0;
};

} // namespace resync::testing
