#pragma once
/// \file
/// `server::Engine<M, Storage>`: the server's side of the sync protocol, written once and run
/// over any `server::Storage` - Hello and Welcome, the position checks and which error each
/// failure gets, idempotent uploads, pulls, fresh copies (resumed, started over, under a
/// reserved ident) and probes. The in-process `testing::Server` is this engine over
/// `server::MemoryStorage`; `resync-sync-server` is this engine over `postgres::Storage`, behind
/// `net::TcpServer`. Its behaviour is the server contract, docs/server.md.

#include <resync/concepts/model.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/protocol.hpp>
#include <resync/result.hpp>
#include <resync/server/storage.hpp>
#include <resync/server_error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace resync::server {

/// Tunables of the engine.
struct EngineOptions {
    std::uint32_t max_download_entries = 256;     ///< the most entries one Download carries
    std::uint32_t max_fresh_chunk_bytes = 64 * 1024; ///< the most bytes one FreshChunk carries
};

/// The server's side of the protocol for the model `M`, over the storage `S`.
///
/// `handle(link, message)` answers one client message on one connection. One engine is used
/// from one thread at a time; a server with several threads gives each its own engine (and its
/// own storage connection) - the storage's transactions keep them consistent.
template <Model M, class S>
    requires Storage<S, M>
class Engine {
public:
    using model_type = M;
    using storage_type = S;
    using operation_type = typename M::operation_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;
    using Txn = typename S::Txn;

    explicit Engine(S storage, EngineOptions options = {}) : storage_(std::move(storage)), options_(options) {}

    S& storage() noexcept { return storage_; }
    const S& storage() const noexcept { return storage_; }
    const EngineOptions& options() const noexcept { return options_; }

    /// Fresh copies started (answered from offset 0) by this engine.
    std::size_t fresh_copies_started() const noexcept { return fresh_copies_started_; }
    /// The last storage error met (the client was answered with a transient error); empty if none.
    std::error_code last_storage_error() const noexcept { return last_storage_error_; }

    /// Handles one client message on a connection and returns the replies: exactly one, the
    /// answer or a `ServerError` in its place (docs/server.md §3, §4). A storage failure is
    /// answered with `ServerError{201, transient}`: the storage rolled the transaction back
    /// whole, and the client sends the request again.
    std::vector<ServerMessage> handle(LinkSession& link, ClientMessage message) {
        std::vector<ServerMessage> out;
        std::visit([&](auto& m) { on(link, std::move(m), out); }, message);
        return out;
    }

    /// Integrates a changeset written on the server side (origin 0, client version 0).
    Result<ServerPosition> write(std::vector<operation_type> ops) {
        ServerPosition at;
        if (auto ec = storage_.write([&](Txn& t) { at = t.append(0, 0, std::move(ops)); })) return ec;
        return at;
    }

    /// The salt at `version`, if the server still has it: the floor keeps its salt, so a client
    /// whose cursor is exactly at the floor can continue; 0 at version 0 without compaction.
    static std::optional<std::uint64_t> salt_of(Txn& t, const Head& h, std::uint64_t version) {
        if (version == h.floor.version) return h.floor.salt;
        if (version < h.floor.version || version > h.latest.version) return std::nullopt;
        return t.salt_in_history(version);
    }

private:
    static ServerError error(int code, ServerAction action, std::string message) {
        return ServerError{code, action, std::move(message)};
    }

    ServerError storage_failure(std::error_code ec) {
        last_storage_error_ = ec;
        return error(server_code::other_session_error, ServerAction::transient,
                     "the server's storage failed; nothing of the request was applied: send it again");
    }

    static bool contains(const std::vector<ClientIdent>& v, ClientIdent x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    }

    /// Checks a client's identity and download cursor before serving it (docs/server.md §4, in
    /// that order); returns the error to send, if any.
    static std::optional<ServerError> check(Txn& t, const LinkSession& link, ClientIdent ident, ServerPosition cursor) {
        if (!link.hello_seen) return error(0, ServerAction::protocol_violation, "message before Hello");
        if (ident != link.ident) return error(0, ServerAction::protocol_violation, "ident differs from Hello");
        const Head h = t.head();
        const auto client = t.client(ident);
        if (!client)
            return error(server_code::bad_client_file_ident, ServerAction::reset,
                         "the server has forgotten about this client");
        if (link.schema_version != h.schema_version)
            return error(server_code::bad_client_file, ServerAction::reset_no_recovery,
                         "synchronization is no longer possible for this client: the schema changed");
        if (cursor.version > h.latest.version)
            return error(server_code::bad_server_version, ServerAction::reset,
                         "the client is ahead of the server (was the server restored from a backup?)");
        if (cursor.version < h.floor.version)
            return error(server_code::client_file_expired, ServerAction::reset,
                         "the client's history expired due to log compaction");
        if (cursor.version != 0 && salt_of(t, h, cursor.version) != cursor.salt)
            return error(server_code::diverging_histories, ServerAction::reset,
                         "the client's history diverges from the server's");
        if (link.upload_acked > client->last_integrated)
            return error(server_code::bad_client_version, ServerAction::reset,
                         "the server no longer has changes it acknowledged to this client (was it restored from a backup?)");
        return std::nullopt;
    }

    /// A request names one of the idents this connection's ident-0 Hellos handed out: the
    /// connection is bound to it, and the others - answers to retried Hellos the client never
    /// adopted - are released, so a retried Hello neither breaks the connection nor leaks idents.
    /// Returns the storage error, if releasing them failed.
    std::error_code settle_assigned(LinkSession& link, ClientIdent ident) {
        if (link.assigned.empty() || !link.hello_seen || !contains(link.assigned, ident)) return {};
        if (link.assigned.size() > 1) {
            if (auto ec = storage_.write([&](Txn& t) {
                    for (const auto other : link.assigned)
                        if (other != ident) t.forget(other);
                }))
                return ec;
        }
        link.ident = ident;
        link.assigned.clear();
        return {};
    }

    void on(LinkSession& link, protocol::Hello&& m, std::vector<ServerMessage>& out) {
        LinkSession next = link;
        next.hello_seen = true;
        next.upload_acked = m.upload_acked;
        next.epoch = m.epoch;
        protocol::Welcome w;
        std::optional<ServerError> refused;
        const auto ec = storage_.write([&](Txn& t) {
            const Head h = t.head();
            // A client that never synced (epoch 0) is on the server's current schema, whatever
            // its ident says: it has no data of an older one.
            next.schema_version = m.epoch == 0 ? h.schema_version : m.schema_version;
            if (m.ident == 0) {
                next.ident = t.register_client(ClientEntry{});
                next.assigned.push_back(next.ident);
            } else {
                const bool same_epoch = m.epoch == 0 || m.epoch == h.epoch;
                const auto entry = t.client(m.ident);
                if (same_epoch && !entry) {
                    refused = error(server_code::bad_client_file_ident, ServerAction::reset,
                                    "the server has forgotten about this client");
                    return;
                }
                next.ident = m.ident;
                // The ident-0 answers this connection handed out are not this client's any more.
                for (const auto other : next.assigned)
                    if (other != m.ident) t.forget(other);
                next.assigned.clear();
                // A client adopting the ident reserved with its fresh copy: the reservation is
                // bound, and that client's other reservations (copies started over) released.
                if (entry && !entry->bound) {
                    t.bind(m.ident);
                    if (entry->reserved_for != 0) t.release_reservations(entry->reserved_for, m.ident);
                }
            }
            w.ident = next.ident;
            w.latest = h.latest;
            w.salt_at_cursor = salt_of(t, h, m.download.version);
            w.oldest_available = h.floor.version;
            w.epoch = h.epoch;
            w.schema_version = h.schema_version;
        });
        if (ec) {
            out.push_back(storage_failure(ec));
            return;
        }
        if (refused) {
            // The connection counts as greeted (the client can fetch a fresh copy on it); the
            // ident it was bound to, if any, stays.
            link.hello_seen = true;
            link.upload_acked = next.upload_acked;
            link.epoch = next.epoch;
            link.schema_version = next.schema_version;
            out.push_back(std::move(*refused));
            return;
        }
        link = std::move(next);
        out.push_back(w);
    }

    void on(LinkSession& link, protocol::Pull&& m, std::vector<ServerMessage>& out) {
        if (auto ec = settle_assigned(link, m.ident)) {
            out.push_back(storage_failure(ec));
            return;
        }
        protocol::Download<operation_type> d;
        std::optional<ServerError> refused;
        const auto ec = storage_.read([&](Txn& t) {
            if ((refused = check(t, link, m.ident, m.from))) return;
            d.ident = m.ident;
            d.base = m.from;
            d.latest = t.head().latest;
            const std::size_t max =
                std::min<std::size_t>(m.max_entries ? m.max_entries : 1, options_.max_download_entries);
            t.history_after(m.from.version, max, d.entries);
        });
        if (ec) out.push_back(storage_failure(ec));
        else if (refused) out.push_back(std::move(*refused));
        else out.push_back(std::move(d));
    }

    void on(LinkSession& link, protocol::Upload<operation_type>&& m, std::vector<ServerMessage>& out) {
        if (auto ec = settle_assigned(link, m.ident)) {
            out.push_back(storage_failure(ec));
            return;
        }
        protocol::UploadAck ack;
        std::optional<ServerError> refused;
        const auto ec = storage_.write([&](Txn& t) {
            if ((refused = check(t, link, m.ident, m.download))) return;
            ClientVersion last = t.client(m.ident)->last_integrated;
            ack.ident = m.ident;
            for (auto& cs : m.changesets) {
                if (t.failed()) return;
                // The idempotency key is (ident, client version): a retried upload is never
                // applied twice.
                if (cs.client_version > last) {
                    const ServerPosition at = t.append(m.ident, cs.client_version, std::move(cs.ops));
                    t.record_integrated(m.ident, cs.client_version, at.version);
                    last = cs.client_version;
                    ack.integrated.emplace_back(cs.client_version, at.version);
                } else if (auto at = t.integrated_at(m.ident, cs.client_version)) {
                    ack.integrated.emplace_back(cs.client_version, *at);
                }
            }
            ack.client_version = last;
        });
        if (ec) {
            out.push_back(storage_failure(ec));
            return;
        }
        if (refused) {
            out.push_back(std::move(*refused));
            return;
        }
        link.upload_acked = std::max(link.upload_acked, ack.client_version);
        out.push_back(std::move(ack));
    }

    void on(LinkSession& link, protocol::FreshRequest&& m, std::vector<ServerMessage>& out) {
        if (!link.hello_seen) {
            out.push_back(error(0, ServerAction::protocol_violation, "message before Hello"));
            return;
        }
        // The copy: encoded once per head, from one consistent snapshot of the storage.
        if (auto ec = storage_.read([&](Txn& t) {
                const Head h = t.head();
                if (copy_ && copy_->head == h) return;
                auto fresh = t.encode_copy();
                if (!t.failed()) copy_ = std::move(fresh);
            })) {
            copy_.reset();
            out.push_back(storage_failure(ec));
            return;
        }
        const EncodedCopy& copy = *copy_;

        // Resume, or start over (docs/server.md §6.1, §6.2): a request resumes only the copy the
        // server would serve now, from an offset within it, under a reservation made for this
        // very requester - never an ident another client holds.
        std::uint64_t offset = m.offset;
        ClientIdent ident = m.reserved_ident;
        bool resume = m.expected == copy.head.latest && offset <= copy.bytes.size() && ident != 0;
        protocol::FreshChunk c;
        const auto answer = [&](Txn& t) {
            if (resume) {
                const auto entry = t.client(ident);
                resume = entry && !entry->bound && entry->reserved_for == m.ident &&
                         (m.ident != 0 || contains(link.reserved_here, ident));
            }
            c.probes = probe(t, t.head(), m.probe_versions);
            c.integrated_from_requester = 0;
            if (m.ident != 0) {
                // A forgotten client's record is gone, but its changesets are still in the history.
                const auto requester = t.client(m.ident);
                c.integrated_from_requester =
                    std::max(requester ? requester->last_integrated : 0, t.last_from_history(m.ident));
            }
        };
        if (auto ec = storage_.read(answer)) {
            out.push_back(storage_failure(ec));
            return;
        }
        if (!resume) {
            offset = 0;
            if (auto ec = storage_.write([&](Txn& t) { ident = t.register_client(ClientEntry{0, false, m.ident}); })) {
                out.push_back(storage_failure(ec));
                return;
            }
            if (m.ident == 0) link.reserved_here.push_back(ident);
        }
        if (offset == 0) ++fresh_copies_started_;
        c.position = copy.head.latest;
        c.epoch = copy.head.epoch;
        c.schema_version = copy.head.schema_version;
        c.new_ident = ident;
        c.total_bytes = copy.bytes.size();
        c.offset = offset;
        const std::uint64_t max =
            std::min<std::uint64_t>(m.max_bytes ? m.max_bytes : 1, options_.max_fresh_chunk_bytes);
        if (offset < copy.bytes.size()) c.bytes = copy.bytes.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(max));
        out.push_back(std::move(c));
    }

    /// What the server holds at each version: compacted versions count as present, marked as
    /// compacted (of unknown origin).
    static std::vector<protocol::Probe> probe(Txn& t, const Head& h, const std::vector<std::uint64_t>& versions) {
        std::vector<protocol::Probe> out;
        out.reserve(versions.size());
        // A storage that looks many versions up at once (`entries_at`) is asked once.
        std::vector<std::optional<EntryOrigin>> batch;
        if constexpr (storage_requirements::looks_up_entries_at_once<Txn>) batch = t.entries_at(versions);
        for (std::size_t i = 0; i < versions.size(); ++i) {
            const auto v = versions[i];
            protocol::Probe p{v, false, 0, 0};
            if (v != 0 && v <= h.floor.version) {
                p.present = true;
                p.compacted = true;
            } else if (v != 0 && v <= h.latest.version) {
                std::optional<EntryOrigin> e;
                if constexpr (storage_requirements::looks_up_entries_at_once<Txn>) e = batch[i];
                else e = t.entry_at(v);
                if (e) {
                    p.present = true;
                    p.origin = e->origin;
                    p.client_version = e->client_version;
                }
            }
            out.push_back(p);
        }
        return out;
    }

    S storage_;
    EngineOptions options_;
    std::optional<EncodedCopy> copy_;
    std::size_t fresh_copies_started_ = 0;
    std::error_code last_storage_error_;
};

} // namespace resync::server
