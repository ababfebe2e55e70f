#pragma once
/// \file
/// What the server's protocol engine (`server::Engine`, resync/server/engine.hpp) needs from the
/// place it keeps its state: the `Storage` concept, its transactions, and the vocabulary they
/// share - where the history stands (`Head`), what the registry holds about an ident
/// (`ClientEntry`), an encoded fresh copy - and what a server keeps per connection
/// (`LinkSession`). Two storages ship: `server::MemoryStorage` (in process; behind
/// `testing::Server`) and `postgres::Storage` (PostgreSQL tables; resync/postgres/storage.hpp).
/// Contract in prose: docs/server.md, "State" and "A storage of your own".

#include <resync/concepts/model.hpp>
#include <resync/history.hpp>
#include <resync/position.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace resync::server {

/// Where the server's history stands: the durable scalars of docs/server.md §2.1.
struct Head {
    Epoch epoch = 0;                 ///< this lineage of history (never 0 once initialised)
    SchemaVersion schema_version = 1;
    ServerPosition latest{};         ///< the newest history entry; {0, 0} before the first
    ServerPosition floor{};          ///< the newest entry compacted away; {0, 0} if none
    friend bool operator==(const Head&, const Head&) = default;
};

/// What the client registry holds about one ident.
struct ClientEntry {
    /// The highest client version integrated from this ident: the idempotency mark.
    ClientVersion last_integrated = 0;
    /// Whether a client has said Hello with this ident (an ident handed out by Hello is bound at
    /// once). An unbound ident is a *reservation*: the new ident of a fresh copy, not yet adopted.
    bool bound = true;
    /// For a reservation: the ident of the client that reserved it (`FreshRequest::ident`), so
    /// that only that client can resume the copy with it, and its other reservations are
    /// released once it adopts one. 0 for idents handed out by Hello.
    ClientIdent reserved_for = 0;
    friend bool operator==(const ClientEntry&, const ClientEntry&) = default;
};

/// Origin of one history entry, for probes.
struct EntryOrigin {
    ClientIdent origin = 0;
    ClientVersion client_version = 0;
};

/// The state encoded as a fresh copy (`M::encode_snapshot`'s bytes), with the head it was read
/// at - both from one consistent snapshot of the storage.
struct EncodedCopy {
    Head head;
    std::string bytes;
};

/// What a server keeps about one connection (docs/server.md §2.2), from its Hello on.
struct LinkSession {
    bool hello_seen = false;
    ClientIdent ident = 0;
    Epoch epoch = 0;
    SchemaVersion schema_version = 0;
    /// The last client version the server acknowledged to this client: as its Hello says, then
    /// as acknowledged on this link. Above what the server holds, the server lost acknowledged
    /// changes (a restore) though the client's download cursor may not show it.
    ClientVersion upload_acked = 0;
    /// Idents this connection's ident-0 Hellos handed out that no request has used yet. A Hello
    /// retried before its Welcome arrived hands out another; the client adopts one of them, and
    /// its first request names which: the connection binds to it and the others are released.
    std::vector<ClientIdent> assigned;
    /// Reservations made on this connection for a client without an ident (`FreshRequest::ident`
    /// 0): only this connection may resume them.
    std::vector<ClientIdent> reserved_here;
};

namespace storage_requirements {

/// `t.failed()`: a storage error happened in this transaction; it will be rolled back, and every
/// later call on it returns empty values.
template <class T>
concept reports_failure = requires(const T& t) {
    { t.failed() } -> std::same_as<bool>;
};

/// Reading what the engine's checks and answers need.
template <class T, class Op>
concept reads_history = requires(T& t, std::uint64_t version, ClientIdent ident, ClientVersion cv, std::size_t max,
                                 std::vector<RemoteChangeset<Op>>& out) {
    { t.head() } -> std::same_as<Head>;
    { t.salt_in_history(version) } -> std::same_as<std::optional<std::uint64_t>>;
    { t.client(ident) } -> std::same_as<std::optional<ClientEntry>>;
    { t.integrated_at(ident, cv) } -> std::same_as<std::optional<std::uint64_t>>;
    t.history_after(version, max, out);
    { t.last_from_history(ident) } -> std::same_as<ClientVersion>;
    { t.entry_at(version) } -> std::same_as<std::optional<EntryOrigin>>;
};

/// Changing the registry and the history.
template <class T, class Op>
concept writes_history = requires(T& t, ClientIdent ident, ClientVersion cv, std::uint64_t sv, ClientEntry entry,
                                  std::vector<Op> ops) {
    { t.register_client(entry) } -> std::same_as<ClientIdent>;
    t.forget(ident);
    t.bind(ident);
    t.release_reservations(ident, ident);
    { t.append(ident, cv, std::move(ops)) } -> std::same_as<ServerPosition>;
    t.record_integrated(ident, cv, sv);
};

/// Optional: `t.entries_at(versions)` looks up the origins of many history entries at once (the
/// probes of a fresh-copy request), one result per version, in order. Without it the engine asks
/// `entry_at` once per version.
template <class T>
concept looks_up_entries_at_once = requires(T& t, const std::vector<std::uint64_t>& versions) {
    { t.entries_at(versions) } -> std::same_as<std::vector<std::optional<EntryOrigin>>>;
};

} // namespace storage_requirements

/// A place the server keeps its state in, for the model `M`.
///
/// `s.read(f)` calls `f(typename S::Txn&)` in one consistent snapshot; `s.write(f)` calls it in
/// one atomic transaction, committed if nothing failed and rolled back whole otherwise. Both
/// return the storage error, if any (then nothing of the transaction happened). A transaction
/// offers `failed()`, the reads of `storage_requirements::reads_history` and the writes of
/// `writes_history`, and `encode_copy() -> EncodedCopy`.
template <class S, class M>
concept Storage = resync::Model<M> && requires { typename S::Txn; } &&
    storage_requirements::reports_failure<typename S::Txn> &&
    storage_requirements::reads_history<typename S::Txn, typename M::operation_type> &&
    storage_requirements::writes_history<typename S::Txn, typename M::operation_type> &&
    requires(S& s, typename S::Txn& t) {
        { t.encode_copy() } -> std::same_as<EncodedCopy>;
        { s.read([](typename S::Txn&) {}) } -> std::same_as<std::error_code>;
        { s.write([](typename S::Txn&) {}) } -> std::same_as<std::error_code>;
    };

} // namespace resync::server
