#pragma once
// The keeping rule as a test oracle, independent of what the session reports: a local operation
// ends on the server exactly once, or - not on the server - still unsynced in the store, in the
// store's quarantine, or in a backup file the user can read back. Never gone, never twice.
//
// Operations are found by a mark that survives recovery's transformations (a list insert is its
// element's identity, whatever it was inserted after); tests write operations that are unique by
// their marks (distinct values, deltas, keys), so a count is a count of that operation.

#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/history.hpp>
#include <resync/memory_store.hpp>
#include <resync/testing/server.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace resync_test {

/// What identifies `op` wherever it ends up.
inline std::string mark_of(const resync::doc::Operation& op) {
    if (const auto* i = std::get_if<resync::doc::ListInsert>(&op))
        return "insert " + i->collection + "/" + i->key + "." + i->field + " " + std::to_string(i->id.replica) + ":" +
               std::to_string(i->id.seq);
    if (const auto* m = std::get_if<resync::doc::ListMove>(&op))
        return "move " + m->collection + "/" + m->key + "." + m->field + " " + std::to_string(m->id.replica) + ":" +
               std::to_string(m->id.seq);
    std::string bytes;
    resync::ByteWriter w(bytes);
    resync::doc::encode(w, op);
    return bytes;
}

/// Where one operation is.
struct Whereabouts {
    std::size_t on_server = 0; ///< entries of the server's history holding it
    bool unsynced = false;     ///< still unsynced in the store
    bool quarantined = false;  ///< in the store's quarantine
    bool in_backup = false;    ///< in a backup file under the scratch folder
};

/// Whether `path` names a backup file a `Store` writes: `backup::File`'s `.rsbk` for any store,
/// and a store's own (a SqliteStore's `.rsdb` database) for one that backs itself up.
template <class Store>
bool is_backup_file(const std::filesystem::path& path) {
    if (path.extension() == ".rsbk") return true;
    if constexpr (resync::store_requirements::backs_itself_up<Store>) return path.extension() == Store::backup_extension;
    else return false;
}

/// Reads back a backup file a `Store` wrote (see `is_backup_file`) with the reader of its format.
template <class Store>
resync::Result<resync::BackupContents<resync::doc::Model>> read_any_backup(const std::filesystem::path& path) {
    if constexpr (resync::store_requirements::backs_itself_up<Store>)
        if (path.extension() == Store::backup_extension) return Store::restore_backup(path.string());
    return resync::restore_backup(path.string());
}

/// Every backup file a `Store` wrote under `dir`, read back (damaged ones left out).
template <class Store = resync::MemoryStore>
std::vector<resync::BackupContents<resync::doc::Model>> backups_under(const std::filesystem::path& dir) {
    std::vector<resync::BackupContents<resync::doc::Model>> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file() && is_backup_file<Store>(e.path()))
            if (auto b = read_any_backup<Store>(e.path())) out.push_back(std::move(*b));
    return out;
}

/// Finds each of `ops` in the client changesets of `server`'s history, in `store` (unsynced,
/// quarantine) and in the backups under `dir`. Any store of the document model.
template <class Store>
std::map<std::string, Whereabouts> locate(const std::vector<resync::doc::Operation>& ops,
                                          const resync::testing::Server<resync::doc::Model>& server, const Store& store,
                                          const std::filesystem::path& dir) {
    std::map<std::string, Whereabouts> where;
    for (const auto& op : ops) where[mark_of(op)];
    auto seen = [&](const resync::doc::Operation& op) -> Whereabouts* {
        auto it = where.find(mark_of(op));
        return it == where.end() ? nullptr : &it->second;
    };
    // The client's own changesets; the server's own writes (origin 0) may repeat its bytes.
    for (const auto& e : server.history())
        if (e.origin != 0)
            for (const auto& op : e.ops)
                if (auto* w = seen(op)) ++w->on_server;
    for (const auto& cs : store.unsynced())
        for (const auto& op : cs.ops)
            if (auto* w = seen(op)) w->unsynced = true;
    for (const auto& q : store.quarantined())
        if (auto* w = seen(q.operation)) w->quarantined = true;
    for (const auto& b : backups_under<Store>(dir))
        for (const auto& cs : b.unsynced)
            for (const auto& op : cs.ops)
                if (auto* w = seen(op)) w->in_backup = true;
    return where;
}

/// The keeping rule's violations for `ops`, in words (empty when it holds). Any store of the
/// document model.
template <class Store>
std::vector<std::string> keeping_violations(const std::vector<resync::doc::Operation>& ops,
                                            const resync::testing::Server<resync::doc::Model>& server, const Store& store,
                                            const std::filesystem::path& dir) {
    std::vector<std::string> out;
    const auto where = locate(ops, server, store, dir);
    for (const auto& op : ops) {
        const Whereabouts& w = where.at(mark_of(op));
        const std::string what = resync::doc::describe(op);
        if (w.on_server > 1) out.push_back(what + " is on the server " + std::to_string(w.on_server) + " times");
        if (w.on_server == 0 && !w.unsynced && !w.quarantined && !w.in_backup)
            out.push_back(what + " is gone: not on the server, not unsynced, not quarantined, in no backup file");
    }
    return out;
}

/// The operations of `changesets`, in order.
inline std::vector<resync::doc::Operation> operations_of(const std::vector<resync::LocalChangeset<resync::doc::Operation>>& changesets) {
    std::vector<resync::doc::Operation> ops;
    for (const auto& cs : changesets) ops.insert(ops.end(), cs.ops.begin(), cs.ops.end());
    return ops;
}

} // namespace resync_test
