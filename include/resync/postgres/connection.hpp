#pragma once
/// \file
/// A thin RAII layer over libpq for `postgres::Storage`: a connection, parameters and results in
/// libpq's *binary* format, and prepared statements. Every statement is a fixed SQL text with
/// `$n` parameters (`PQprepare` / `PQexecPrepared`, or `PQexecParams`): no value is ever put into
/// SQL text, so bytes of any kind - quotes, NULs, invalid UTF-8 - are stored and read back
/// byte-exact and never interpreted as SQL.
///
/// Errors keep libpq's words (which name the host, port, user and database, never a password)
/// and the SQLSTATE; a connection string is never written anywhere.

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resync::postgres {

/// libpq type OIDs of the parameters this library sends.
namespace oid {
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid int8 = 20;
inline constexpr Oid int4 = 23;
inline constexpr Oid int8_array = 1016;
} // namespace oid

/// Parameters of one statement, in libpq's binary format.
class Params {
public:
    /// A 64-bit unsigned value, stored as the bigint with the same bits (idents, versions and
    /// salts use all 64 bits).
    Params& u64(std::uint64_t v) {
        std::string b(8, '\0');
        for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<char>((v >> (56 - 8 * i)) & 0xFFU);
        return add(std::move(b), oid::int8);
    }
    Params& u32(std::uint32_t v) {
        std::string b(4, '\0');
        for (int i = 0; i < 4; ++i) b[static_cast<std::size_t>(i)] = static_cast<char>((v >> (24 - 8 * i)) & 0xFFU);
        return add(std::move(b), oid::int4);
    }
    Params& boolean(bool v) { return add(std::string(1, v ? '\1' : '\0'), oid::boolean); }
    /// A one-dimensional bigint[] of 64-bit unsigned values (for `= ANY($n)`), in the array
    /// binary format: dimensions, null flag, element type, length and lower bound, then each
    /// element as its length and its bytes.
    Params& u64_array(const std::vector<std::uint64_t>& v) {
        std::string b;
        b.reserve(20 + 12 * v.size());
        const auto put32 = [&](std::uint32_t x) {
            for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((x >> (24 - 8 * i)) & 0xFFU));
        };
        put32(1);
        put32(0);
        put32(oid::int8);
        put32(static_cast<std::uint32_t>(v.size()));
        put32(1);
        for (const auto x : v) {
            put32(8);
            for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((x >> (56 - 8 * i)) & 0xFFU));
        }
        return add(std::move(b), oid::int8_array);
    }
    /// Any bytes, as a bytea.
    Params& bytes(std::string_view v) { return add(std::string(v), oid::bytea); }

    int size() const noexcept { return static_cast<int>(values_.size()); }
    const Oid* types() const noexcept { return types_.data(); }
    /// Pointers into the values, valid while this object lives unchanged.
    std::vector<const char*> values() const {
        std::vector<const char*> v;
        v.reserve(values_.size());
        for (const auto& s : values_) v.push_back(s.data());
        return v;
    }
    std::vector<int> lengths() const {
        std::vector<int> v;
        v.reserve(values_.size());
        for (const auto& s : values_) v.push_back(static_cast<int>(s.size()));
        return v;
    }
    std::vector<int> formats() const { return std::vector<int>(values_.size(), 1); }

private:
    Params& add(std::string b, Oid type) {
        values_.push_back(std::move(b));
        types_.push_back(type);
        return *this;
    }
    std::vector<std::string> values_;
    std::vector<Oid> types_;
};

/// A result, its values in binary format; empty after an error.
class Rows {
public:
    Rows() = default;
    explicit Rows(PGresult* r) noexcept : r_(r) {}
    Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
    Rows& operator=(Rows&& o) noexcept {
        if (this != &o) {
            if (r_) PQclear(r_);
            r_ = std::exchange(o.r_, nullptr);
        }
        return *this;
    }
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;
    ~Rows() {
        if (r_) PQclear(r_);
    }

    int size() const noexcept { return r_ ? PQntuples(r_) : 0; }
    bool empty() const noexcept { return size() == 0; }
    bool is_null(int row, int col) const noexcept { return !r_ || PQgetisnull(r_, row, col); }
    /// A bigint (or an int4, widened), as the unsigned value with the same bits; 0 for null.
    std::uint64_t u64(int row, int col) const noexcept {
        if (is_null(row, col)) return 0;
        const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col));
        const int n = PQgetlength(r_, row, col);
        std::uint64_t v = 0;
        for (int i = 0; i < n && i < 8; ++i) v = (v << 8) | p[i];
        // An int4 is sign-extended like the bigint it stands for.
        if (n == 4 && (p[0] & 0x80U)) v |= 0xFFFFFFFF00000000ULL;
        return v;
    }
    bool boolean(int row, int col) const noexcept {
        return !is_null(row, col) && PQgetlength(r_, row, col) == 1 && PQgetvalue(r_, row, col)[0] != 0;
    }
    /// A bytea's bytes, exactly.
    std::string_view bytes(int row, int col) const noexcept {
        if (is_null(row, col)) return {};
        return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
    }

private:
    PGresult* r_ = nullptr;
};

/// What went wrong with a statement or the connection.
struct Failure {
    std::string sqlstate; ///< five characters; empty when the connection itself failed
    std::string message;  ///< libpq's words, without the trailing newline
};

/// One connection to PostgreSQL, with the statements prepared on it.
class Connection {
public:
    Connection() = default;
    Connection(Connection&& o) noexcept : c_(std::exchange(o.c_, nullptr)), prepared_(std::move(o.prepared_)) {}
    Connection& operator=(Connection&& o) noexcept {
        if (this != &o) {
            close();
            c_ = std::exchange(o.c_, nullptr);
            prepared_ = std::move(o.prepared_);
        }
        return *this;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    /// Connects with a libpq connection string ("host=... dbname=...", or a URI); libpq takes
    /// what it leaves out - the password too - from the environment (PGHOST, PGPASSWORD, ...) or
    /// ~/.pgpass. Returns false, with `failure()` saying why, when it cannot.
    bool open(const std::string& conninfo) {
        close();
        c_ = PQconnectdb(conninfo.c_str());
        if (!c_ || PQstatus(c_) != CONNECTION_OK) {
            failure_ = {"", c_ ? trim(PQerrorMessage(c_)) : "out of memory"};
            close();
            return false;
        }
        // Notices (such as "relation already exists, skipping") are not the program's output.
        PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
        return true;
    }

    void close() noexcept {
        if (c_) PQfinish(c_);
        c_ = nullptr;
        prepared_.clear();
    }

    /// Whether the connection is up (as far as libpq knows: a broken socket shows on next use).
    bool ok() const noexcept { return c_ && PQstatus(c_) == CONNECTION_OK; }
    /// The last failure.
    const Failure& failure() const noexcept { return failure_; }
    PGconn* native() const noexcept { return c_; }

    /// Runs a statement with parameters (binary in, binary out). Returns its rows, or nothing
    /// with `failure()` set.
    std::optional<Rows> exec(std::string_view sql, const Params& p = {}) {
        if (!c_) return fail_connection();
        const std::string text(sql);
        const auto values = p.values();
        const auto lengths = p.lengths();
        const auto formats = p.formats();
        return check(PQexecParams(c_, text.c_str(), p.size(), p.types(), values.data(), lengths.data(),
                                  formats.data(), 1));
    }

    /// Runs a statement prepared once per connection under `name` (the SQL is fixed per name).
    std::optional<Rows> run(const char* name, std::string_view sql, const Params& p = {}) {
        if (!c_) return fail_connection();
        if (!prepared_.contains(name)) {
            const std::string text(sql);
            PGresult* r = PQprepare(c_, name, text.c_str(), p.size(), p.types());
            const bool prepared = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!prepared) fail(r);
            if (r) PQclear(r);
            if (!prepared) return std::nullopt;
            prepared_.emplace(name, true);
        }
        const auto values = p.values();
        const auto lengths = p.lengths();
        const auto formats = p.formats();
        return check(PQexecPrepared(c_, name, p.size(), values.data(), lengths.data(), formats.data(), 1));
    }

private:
    static std::string trim(const char* s) {
        std::string m = s ? s : "";
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        return m;
    }

    std::optional<Rows> fail_connection() {
        failure_ = {"", "not connected to the database"};
        return std::nullopt;
    }

    std::optional<Rows> fail(PGresult* r) {
        const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
        failure_ = {state ? state : "", trim(r ? PQresultErrorMessage(r) : PQerrorMessage(c_))};
        if (failure_.message.empty()) failure_.message = trim(PQerrorMessage(c_));
        return std::nullopt;
    }

    std::optional<Rows> check(PGresult* r) {
        Rows rows(r);
        const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return rows;
        return fail(r);
    }

    PGconn* c_ = nullptr;
    std::map<std::string, bool, std::less<>> prepared_;
    Failure failure_;
};

} // namespace resync::postgres
