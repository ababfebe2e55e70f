#pragma once
/// \file
/// `sqlite::Database`, `sqlite::Statement` and `sqlite::Transaction`: the few RAII pieces of
/// libsqlite3 that `SqliteStore` uses - a connection, cached prepared statements with parameter
/// binding only (never SQL built from values), and a transaction that rolls back unless committed.
/// Part of the `resync::sqlite` target (links libsqlite3).

#include <resync/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

namespace resync::sqlite {

/// A SQLite result code as a resync error: damage and "not a database" are `store_corrupt`,
/// everything else `store_failure`.
inline std::error_code error_from(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return {};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return make_error_code(errc::store_corrupt);
    default: return make_error_code(errc::store_failure);
    }
}

/// A prepared statement, reset (and its bindings cleared) when the next use starts. Values are
/// only ever bound, never spliced into SQL: quotes, NULs and megabyte values are stored as they are.
class Statement {
public:
    Statement() = default;
    explicit Statement(sqlite3_stmt* s) noexcept : s_(s) {}
    Statement(Statement&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Statement& operator=(Statement&& o) noexcept {
        if (this != &o) {
            sqlite3_finalize(s_);
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    ~Statement() { sqlite3_finalize(s_); }

    /// Starts a new use: previous results and bindings are dropped.
    Statement& reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        next_ = 1;
        return *this;
    }
    /// Binds the next parameter (1, 2, ... in order of the calls).
    Statement& bind(std::int64_t v) {
        note(sqlite3_bind_int64(s_, next_++, v));
        return *this;
    }
    Statement& bind(std::uint64_t v) { return bind(static_cast<std::int64_t>(v)); }
    /// Bytes, stored as a BLOB (byte-exact: a NUL is a byte like any other).
    Statement& bind_blob(std::string_view bytes) {
        // A zero-length blob must not be bound as NULL: point at a valid empty buffer.
        static const char empty = 0;
        note(sqlite3_bind_blob64(s_, next_++, bytes.empty() ? &empty : bytes.data(), bytes.size(), SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind_null() {
        note(sqlite3_bind_null(s_, next_++));
        return *this;
    }

    /// Steps once: true with a row, false when done; an error is kept in `error()`.
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc != SQLITE_DONE) note(rc);
        return false;
    }
    /// Runs a statement that returns no rows; the error, if any.
    std::error_code run() {
        while (step()) {
        }
        auto ec = take_error();
        sqlite3_reset(s_);
        return ec;
    }

    std::int64_t int64(int column) const { return sqlite3_column_int64(s_, column); }
    std::uint64_t uint64(int column) const { return static_cast<std::uint64_t>(int64(column)); }
    bool is_null(int column) const { return sqlite3_column_type(s_, column) == SQLITE_NULL; }
    /// A BLOB or TEXT column's bytes, valid until the next step or reset.
    std::string_view blob(int column) const {
        const void* p = sqlite3_column_blob(s_, column);
        const int n = sqlite3_column_bytes(s_, column);
        return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string_view();
    }

    /// The first error met since the last `take_error()`, cleared.
    std::error_code take_error() { return std::exchange(error_, std::error_code{}); }
    int raw_error() const noexcept { return raw_; }

private:
    void note(int rc) {
        if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE && !error_) {
            error_ = error_from(rc);
            raw_ = rc;
        }
    }
    sqlite3_stmt* s_ = nullptr;
    int next_ = 1;
    std::error_code error_;
    int raw_ = 0;
};

/// A connection, with a cache of prepared statements keyed by their SQL text.
class Database {
public:
    Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database() { close(); }

    /// Opens `path` with `flags` (SQLITE_OPEN_*). Nothing is read or written yet.
    std::error_code open(const std::string& path, int flags) {
        close();
        const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
        if (rc != SQLITE_OK) {
            close();
            return rc == SQLITE_CANTOPEN ? std::make_error_code(std::errc::no_such_file_or_directory) : error_from(rc);
        }
        sqlite3_extended_result_codes(db_, 1);
        // Another connection (a backup, a reader) holding a lock briefly must not fail a write.
        sqlite3_busy_timeout(db_, 5000);
        return {};
    }

    void close() {
        cache_.clear();
        if (db_) sqlite3_close_v2(db_);
        db_ = nullptr;
    }

    sqlite3* handle() const noexcept { return db_; }

    /// Runs SQL without parameters (schema, pragmas, transaction control).
    std::error_code exec(const char* sql) {
        return error_from(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr));
    }

    /// The statement for `sql`, prepared once and reset for this use. `sql` is a string literal:
    /// its address is the cache key.
    Statement& operator()(const char* sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            sqlite3_stmt* s = nullptr;
            const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
            it = cache_.emplace(sql, Statement(s)).first;
            if (rc != SQLITE_OK) {
                // A statement that failed to prepare fails every use, with the reason kept.
                failed_.emplace(sql, rc);
            }
        }
        it->second.reset();
        if (auto f = failed_.find(sql); f != failed_.end()) broken_ = error_from(f->second);
        return it->second;
    }

    /// An error from a statement that could not be prepared, once.
    std::error_code take_prepare_error() { return std::exchange(broken_, std::error_code{}); }

    /// Rows changed by the last statement.
    std::int64_t changes() const { return sqlite3_changes64(db_); }
    /// Words from SQLite on the last error, for reports.
    std::string last_message() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, Statement> cache_;
    std::unordered_map<const char*, int> failed_;
    std::error_code broken_;
};

/// A write transaction: BEGIN IMMEDIATE on construction, ROLLBACK unless `commit()` succeeded.
class Transaction {
public:
    explicit Transaction(Database& db) : db_(db) { error_ = db_.exec("BEGIN IMMEDIATE"); }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (!done_ && !error_) db_.exec("ROLLBACK");
    }
    /// Whether BEGIN failed (then nothing runs).
    std::error_code begin_error() const noexcept { return error_; }
    std::error_code commit() {
        if (error_) return error_;
        done_ = true;
        auto ec = db_.exec("COMMIT");
        if (ec) db_.exec("ROLLBACK");
        return ec;
    }

private:
    Database& db_;
    std::error_code error_;
    bool done_ = false;
};

} // namespace resync::sqlite
