#pragma once
/// \file
/// How `SqliteStore` reads and writes document-model objects as rows: an object's fields in one
/// canonical BLOB (equal objects, equal bytes - so a diff compares rows in SQL), a lookup view
/// over the live or the staged tables for recovery rules, and `TouchedObjects`, the objects a
/// transaction loads, changes in memory and writes back.

#include <resync/bytes.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/writer.hpp>
#include <resync/error.hpp>
#include <resync/sqlite/database.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace resync::sqlite {

/// An object's fields as stored: a count, then each field's name and value in name order.
inline std::string encode_fields(const doc::Object& object) {
    std::string out;
    ByteWriter w(out);
    w.u64(object.size());
    for (const auto& [field, value] : object) {
        w.str(field);
        doc::encode(w, value);
    }
    return out;
}

/// Decodes what `encode_fields` wrote; nullopt when damaged.
inline std::optional<doc::Object> decode_fields(std::string_view bytes) {
    ByteReader r(bytes);
    doc::Object object;
    if (!doc::detail::decode_object_fields(r, object) || !r.at_end()) return std::nullopt;
    return object;
}

/// Which set of tables a query reads: the live state, or the staged fresh copy.
enum class Tables : bool { live, staged };

/// A read-only view of the live or the staged state through lookups, as the recovery rules read
/// a state (`find`, `has_collection`, `collection_size`): nothing is loaded but what is asked.
/// Valid while its store is open.
class StateView {
public:
    StateView(Database& db, Tables tables) noexcept : db_(&db), tables_(tables) {}

    /// The object's fields, or nullopt when it does not exist (or its row is damaged).
    std::optional<doc::Object> find(std::string_view collection, std::string_view key) const {
        auto& q = (*db_)(tables_ == Tables::live ? "SELECT fields FROM objects WHERE collection = ? AND key = ?"
                                                 : "SELECT fields FROM staged_objects WHERE collection = ? AND key = ?");
        q.bind_blob(collection).bind_blob(key);
        std::optional<doc::Object> out;
        if (q.step()) out = decode_fields(q.blob(0));
        q.reset();
        return out;
    }
    /// Whether the state has the collection, empty or not.
    bool has_collection(std::string_view collection) const {
        auto& q = (*db_)(tables_ == Tables::live ? "SELECT 1 FROM collections WHERE name = ?"
                                                 : "SELECT 1 FROM staged_collections WHERE name = ?");
        q.bind_blob(collection);
        const bool found = q.step();
        q.reset();
        return found;
    }
    /// Objects in the collection.
    std::size_t collection_size(std::string_view collection) const {
        auto& q = (*db_)(tables_ == Tables::live ? "SELECT count(*) FROM objects WHERE collection = ?"
                                                 : "SELECT count(*) FROM staged_objects WHERE collection = ?");
        q.bind_blob(collection);
        std::size_t n = 0;
        if (q.step()) n = static_cast<std::size_t>(q.int64(0));
        q.reset();
        return n;
    }
    /// One field's value, or null.
    doc::Value get(std::string_view collection, std::string_view key, std::string_view field) const {
        const auto object = find(collection, key);
        if (!object) return doc::Null{};
        auto it = object->find(field);
        return it == object->end() ? doc::Value{doc::Null{}} : it->second;
    }

private:
    Database* db_;
    Tables tables_;
};

/// The objects one transaction touches: each loaded from the live (or staged) tables on first touch, changed
/// in memory by `doc::apply` (whose semantics depend on the target object only), and written back
/// by `flush()` - only those whose bytes changed. Also the `ObjectSource` of a `doc::Writer`.
class TouchedObjects final : public doc::ObjectSource {
public:
    explicit TouchedObjects(Database& db, Tables tables = Tables::live) : db_(db), tables_(tables) {}

    void load(std::string_view collection, std::string_view key) override {
        auto [it, inserted] = loaded_.try_emplace(Key{std::string(collection), std::string(key)});
        if (!inserted) return;
        auto& q = db_(live() ? "SELECT fields FROM objects WHERE collection = ? AND key = ?"
                             : "SELECT fields FROM staged_objects WHERE collection = ? AND key = ?");
        q.bind_blob(collection).bind_blob(key);
        if (q.step()) {
            std::string bytes(q.blob(0));
            auto object = decode_fields(bytes);
            if (!object) error_ = make_error_code(errc::store_corrupt);
            else state_.collections[it->first.first][it->first.second] = std::move(*object);
            it->second = std::move(bytes);
        }
        if (auto ec = q.take_error(); ec && !error_) error_ = ec;
        q.reset();
    }

    /// Applies `op` to the touched objects (loading its target first), recording its undo.
    doc::Applied apply(const doc::Operation& op, std::vector<doc::Operation>* undo = nullptr) {
        load(doc::collection_of(op), doc::key_of(op));
        return doc::apply(state_, op, undo);
    }
    /// Applies a changeset's undo log (in reverse order).
    void revert(const std::vector<doc::Operation>& undo) {
        for (auto it = undo.rbegin(); it != undo.rend(); ++it) apply(*it);
    }

    doc::State& state() noexcept { return state_; }

    /// Writes back every touched object whose bytes changed (deleting the erased ones), and adds
    /// the collections a create made. Call inside the transaction.
    std::error_code flush() {
        if (error_) return error_;
        for (const auto& [k, before] : loaded_) {
            const doc::Object* now = state_.find(k.first, k.second);
            if (!now) {
                if (!before) continue;
                auto& d = db_(live() ? "DELETE FROM objects WHERE collection = ? AND key = ?"
                                     : "DELETE FROM staged_objects WHERE collection = ? AND key = ?");
                d.bind_blob(k.first).bind_blob(k.second);
                if (auto ec = d.run()) return ec;
                continue;
            }
            std::string bytes = encode_fields(*now);
            if (before && *before == bytes) continue;
            auto& u = db_(live() ? "INSERT OR REPLACE INTO objects(collection, key, fields) VALUES (?, ?, ?)"
                                 : "INSERT OR REPLACE INTO staged_objects(collection, key, fields) VALUES (?, ?, ?)");
            u.bind_blob(k.first).bind_blob(k.second).bind_blob(bytes);
            if (auto ec = u.run()) return ec;
        }
        for (const auto& [name, objects] : state_.collections) {
            auto& c = db_(live() ? "INSERT OR IGNORE INTO collections(name) VALUES (?)"
                                 : "INSERT OR IGNORE INTO staged_collections(name) VALUES (?)");
            c.bind_blob(name);
            if (auto ec = c.run()) return ec;
        }
        return {};
    }

private:
    bool live() const noexcept { return tables_ == Tables::live; }
    using Key = std::pair<std::string, std::string>;
    Database& db_;
    Tables tables_;
    doc::State state_;
    std::map<Key, std::optional<std::string>> loaded_; ///< touched objects, with their bytes as loaded
    std::error_code error_;
};

} // namespace resync::sqlite
