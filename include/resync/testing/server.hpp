#pragma once
/// \file
/// `testing::Server`: the in-process reference sync server, with every fault a client reset
/// needs to be tested against: backups and restores, terminate-and-re-enable, destructive schema
/// changes, history compaction, forgotten clients and injected errors. Connect clients to it
/// with `testing::LoopbackTransport`. It is the protocol engine (`server::Engine`,
/// resync/server/engine.hpp) over `server::MemoryStorage`, plus the faults.

#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>
#include <resync/protocol.hpp>
#include <resync/server/engine.hpp>
#include <resync/server/memory_storage.hpp>
#include <resync/server/storage.hpp>
#include <resync/server_error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
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
using LinkSession = server::LinkSession;

/// The in-process reference server for the model `M` (`testing::Server<doc::Model>` for the
/// document model; any `resync::Model` works: it needs the model's apply and snapshot encoding).
/// Its behaviour is the server contract, docs/server.md.
template <Model M>
class Server {
    using Storage = server::MemoryStorage<M>;

public:
    using model_type = M;
    using operation_type = typename M::operation_type;
    using snapshot_type = typename M::snapshot_type;
    using ClientMessage = protocol::ClientMessage<operation_type>;
    using ServerMessage = protocol::ServerMessage<operation_type>;

    /// What the registry holds about one ident.
    using ClientRecord = typename Storage::ClientRecord;
    /// Everything the server holds.
    using Data = typename Storage::Data;

    /// A server backup: a copy of its `Data`.
    struct Backup {
        Data data;
    };

    explicit Server(ServerOptions options = {})
        : engine_(Storage(options.seed), server::EngineOptions{options.max_download_entries, options.max_fresh_chunk_bytes}) {}

    // ------------------------------------------------------------------ inspection

    const snapshot_type& state() const noexcept { return data().state; }
    ServerPosition latest() const noexcept { return data().latest; }
    Epoch epoch() const noexcept { return data().epoch; }
    SchemaVersion schema_version() const noexcept { return data().schema_version; }
    const std::vector<RemoteChangeset<operation_type>>& history() const noexcept { return data().history; }
    /// The lowest download cursor a client may have and still continue.
    std::uint64_t history_floor() const noexcept { return data().floor.version; }
    bool knows_client(ClientIdent ident) const { return data().clients.contains(ident); }
    /// How many changesets from `ident` the server integrated (0 if unknown).
    ClientVersion last_integrated(ClientIdent ident) const {
        auto it = data().clients.find(ident);
        return it == data().clients.end() ? 0 : it->second.last_integrated;
    }
    /// How many fresh copies the server started serving (answered from offset 0).
    std::size_t fresh_copies_started() const noexcept { return engine_.fresh_copies_started(); }
    /// Everything the server holds.
    const Data& data() const noexcept { return engine_.storage().data(); }

    // ------------------------------------------------------------------ writes and faults

    /// Integrates a changeset written on the server side (an admin or another service).
    ServerPosition write(std::vector<operation_type> ops) { return storage().append(0, 0, std::move(ops)); }

    /// Takes a backup of everything the server holds (data, history, epoch, known clients), as
    /// a database backup would.
    Backup backup() const { return Backup{data()}; }

    /// Restores a backup: history, state, epoch and known clients go back to the backup's.
    /// Client idents are never reissued, so clients registered after the backup are unknown.
    void restore(const Backup& b) { storage().restore(b.data); }

    /// Terminates and re-enables sync: a new epoch with empty history; the data is kept and every
    /// client is forgotten.
    void terminate_and_reenable() { storage().terminate_and_reenable(); }

    /// A destructive schema change: `migrate` rewrites the data (for example, changes a field's
    /// type), the schema version goes up, and the history before it is gone, so clients on the
    /// old schema can no longer continue.
    void change_schema(const std::function<void(snapshot_type&)>& migrate = {}) { storage().change_schema(migrate); }

    /// Compacts history: entries at or below `upto` are dropped, so clients whose cursor is below
    /// `upto` have expired.
    void compact(std::uint64_t upto) { storage().compact(upto); }

    /// Forgets a client: its ident becomes unknown (its next message gets error 208).
    void forget_client(ClientIdent ident) { storage().forget(ident); }

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
        out = engine_.handle(link, std::move(message));
        for (auto& reply : out)
            if (auto* chunk = std::get_if<protocol::FreshChunk>(&reply)) damage(*chunk);
        return out;
    }

private:
    struct Injected {
        ServerError error;
        ClientIdent ident = 0;
    };

    Storage& storage() noexcept { return engine_.storage(); }

    /// Applies the fresh-copy fault to a chunk of the intact copy. The damaged copy is served
    /// until the client has asked for all of it once: a corrupt copy up to its last byte, a
    /// truncated one up to the empty piece where it stops short (clearing it at its last byte
    /// would let the client resume into an intact copy).
    void damage(protocol::FreshChunk& c) {
        const std::uint64_t total = c.total_bytes;
        if (fresh_fault_ == FreshCopyFault::corrupt) {
            const std::uint64_t middle = total / 2;
            if (total != 0 && middle >= c.offset && middle - c.offset < c.bytes.size()) {
                auto& b = c.bytes[static_cast<std::size_t>(middle - c.offset)];
                b = static_cast<char>(b ^ 0x5A);
            }
            if (c.offset + c.bytes.size() >= total) fresh_fault_ = FreshCopyFault::none;
        } else if (fresh_fault_ == FreshCopyFault::truncate) {
            const std::uint64_t cut = total / 2;
            if (c.offset >= cut) c.bytes.clear();
            else if (c.bytes.size() > cut - c.offset) c.bytes.resize(static_cast<std::size_t>(cut - c.offset));
            if (c.bytes.empty()) fresh_fault_ = FreshCopyFault::none;
        }
    }

    server::Engine<M, Storage> engine_;
    std::vector<Injected> injected_;
    FreshCopyFault fresh_fault_ = FreshCopyFault::none;
};

} // namespace resync::testing
