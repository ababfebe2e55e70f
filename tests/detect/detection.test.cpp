// Detection policies (include/resync/detect/): each is a pure function of (SyncState, Welcome)
// and (SyncState, ServerError). Positive and negative cases per policy, the AnyOf / Standard
// ordering, and laws run over every shipped detection model.
#include <resync/detect/any_of.hpp>
#include <resync/detect/divergence.hpp>
#include <resync/detect/epoch_change.hpp>
#include <resync/detect/expired.hpp>
#include <resync/detect/rollback.hpp>
#include <resync/detect/schema_change.hpp>
#include <resync/detect/server_errors.hpp>
#include <resync/detect/standard.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;

namespace {

constexpr Epoch client_epoch = 100;
constexpr SchemaVersion client_schema = 3;
constexpr std::uint64_t cursor_version = 10;
constexpr std::uint64_t cursor_salt = 0xA5A5;

/// A client that synced up to version 10 (salt 0xA5A5) of epoch 100, schema 3.
SyncState synced_client() {
    SyncState s;
    s.client_ident = 7;
    s.download = {cursor_version, cursor_salt};
    s.upload_acked = 4;
    s.epoch = client_epoch;
    s.schema_version = client_schema;
    return s;
}

/// A Welcome from a server that agrees with `synced_client()` exactly.
protocol::Welcome matching_welcome() {
    protocol::Welcome w;
    w.ident = 7;
    w.latest = {cursor_version, cursor_salt};
    w.salt_at_cursor = cursor_salt;
    w.oldest_available = 0;
    w.epoch = client_epoch;
    w.schema_version = client_schema;
    return w;
}

ServerError error_with(int code, ServerAction action) {
    return ServerError{code, action, "message for " + std::to_string(code)};
}

/// Checks the positions a Welcome-based trigger carries.
void check_positions(const ResetTrigger& t, const SyncState& c, const protocol::Welcome& w) {
    CHECK(t.server_error.code == 0);
    CHECK(t.client_position == c.download);
    CHECK(t.server_position == w.latest);
    CHECK(t.client_epoch == c.epoch);
    CHECK(t.server_epoch == w.epoch);
    CHECK(t.client_schema == c.schema_version);
    CHECK(t.server_schema == w.schema_version);
}

/// A test-only detection model that always finds `R` (or nothing), counting how often it is asked.
template <ResetReason R, bool Finds = true>
struct Fixed {
    using resync_role = role::detection;
    int* asked = nullptr;

    std::optional<ResetTrigger> on_welcome(const SyncState&, const protocol::Welcome&) const { return answer(); }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return answer(); }

private:
    std::optional<ResetTrigger> answer() const {
        if (asked) ++*asked;
        if (!Finds) return std::nullopt;
        ResetTrigger t;
        t.reason = R;
        return t;
    }
};
using Never = Fixed<ResetReason::server_requested, false>;

const std::vector<ServerAction> non_reset_actions{ServerAction::none, ServerAction::warning, ServerAction::transient,
                                                   ServerAction::protocol_violation};
const std::vector<int> known_codes{server_code::bad_client_file_ident, server_code::bad_server_version,
                                   server_code::bad_client_version,    server_code::diverging_histories,
                                   server_code::bad_client_file,       server_code::client_file_expired};

} // namespace

static_assert(DetectionPolicy<detect::Rollback>);
static_assert(DetectionPolicy<detect::Divergence>);
static_assert(DetectionPolicy<detect::EpochChange>);
static_assert(DetectionPolicy<detect::SchemaChange>);
static_assert(DetectionPolicy<detect::Expired>);
static_assert(DetectionPolicy<detect::ServerErrors>);
static_assert(DetectionPolicy<detect::Standard>);
static_assert(DetectionPolicy<Never>);

// ------------------------------------------------------------------------------------ Rollback

TEST_CASE("Rollback triggers when the server's latest version is below the client's cursor",
          "[detect][rollback]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version - 3, 0x1234};
    w.salt_at_cursor = std::nullopt;
    const auto t = detect::Rollback{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::server_rollback);
    CHECK(t->recovery_allowed);
    check_positions(*t, c, w);

    SECTION("even when the server is back at version 0") {
        w.latest = {0, 0};
        CHECK(detect::Rollback{}.on_welcome(c, w));
    }
}

TEST_CASE("Rollback does not trigger when the server is at or past the client's cursor, in another epoch, "
          "or for errors",
          "[detect][rollback][no-false-positive]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    CHECK_FALSE(detect::Rollback{}.on_welcome(c, w));
    w.latest = {cursor_version + 5, 0x77};
    CHECK_FALSE(detect::Rollback{}.on_welcome(c, w));
    w.latest = {cursor_version - 1, 0x77};
    w.epoch = client_epoch + 1; // an unrelated history: versions cannot be compared
    CHECK_FALSE(detect::Rollback{}.on_welcome(c, w));
    CHECK_FALSE(detect::Rollback{}.on_error(c, error_with(server_code::bad_server_version, ServerAction::reset)));
}

// ---------------------------------------------------------------------------------- Divergence

TEST_CASE("Divergence triggers on a different salt at the client's version when the server is at that version",
          "[detect][divergence]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version, 0xBEEF};
    w.salt_at_cursor = 0xBEEF;
    const auto t = detect::Divergence{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::diverging_history);
    CHECK(t->recovery_allowed);
    check_positions(*t, c, w);
}

TEST_CASE("Divergence catches a server that was restored and then moved past the client's version with new "
          "history",
          "[detect][divergence]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version + 20, 0x4242}; // versions alone look fine: the server is ahead
    w.salt_at_cursor = 0xC0DE;                // ... but version 10 is another changeset now
    const auto t = detect::Divergence{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::diverging_history);
    check_positions(*t, c, w);
    // Standard catches it too (and calls it a divergence, not something else).
    const auto s = detect::Standard{}.on_welcome(c, w);
    REQUIRE(s);
    CHECK(s->reason == ResetReason::diverging_history);
}

TEST_CASE("Divergence does not trigger when the salt matches, is unknown, the cursor is at 0, the server "
          "rolled back, or the epoch differs",
          "[detect][divergence][no-false-positive]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version + 20, 0x4242};
    CHECK_FALSE(detect::Divergence{}.on_welcome(c, w)); // same salt: the server just moved on

    w.salt_at_cursor = std::nullopt; // compacted away: Expired's business
    CHECK_FALSE(detect::Divergence{}.on_welcome(c, w));

    auto at_zero = c;
    at_zero.download = {0, 0};
    w.salt_at_cursor = 0x999;
    CHECK_FALSE(detect::Divergence{}.on_welcome(at_zero, w));

    w = matching_welcome();
    w.latest = {cursor_version - 1, 0x1};
    w.salt_at_cursor = std::nullopt;
    CHECK_FALSE(detect::Divergence{}.on_welcome(c, w)); // a rollback, not a divergence

    w = matching_welcome();
    w.salt_at_cursor = 0x999;
    w.epoch = client_epoch + 1;
    CHECK_FALSE(detect::Divergence{}.on_welcome(c, w));
    CHECK_FALSE(detect::Divergence{}.on_error(c, error_with(server_code::diverging_histories, ServerAction::reset)));
}

// -------------------------------------------------------------------------------- EpochChange

TEST_CASE("EpochChange triggers when the server is in another epoch, with recovery allowed",
          "[detect][epoch]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.epoch = 555;
    w.latest = {0, 0};
    w.salt_at_cursor = std::nullopt;
    const auto t = detect::EpochChange{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::epoch_changed);
    CHECK(t->recovery_allowed);
    CHECK(t->client_epoch == client_epoch);
    CHECK(t->server_epoch == 555);
    check_positions(*t, c, w);
}

TEST_CASE("EpochChange does not trigger in the same epoch, whatever the positions", "[detect][epoch][no-false-positive]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    CHECK_FALSE(detect::EpochChange{}.on_welcome(c, w));
    w.latest = {1, 2};
    w.salt_at_cursor = 3;
    w.schema_version = client_schema + 1;
    CHECK_FALSE(detect::EpochChange{}.on_welcome(c, w));
    CHECK_FALSE(detect::EpochChange{}.on_error(c, error_with(999, ServerAction::reset)));
}

// ------------------------------------------------------------------------------- SchemaChange

TEST_CASE("SchemaChange triggers on another schema version and never allows recovery", "[detect][schema]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.schema_version = client_schema + 1;
    const auto t = detect::SchemaChange{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::schema_changed);
    CHECK_FALSE(t->recovery_allowed);
    CHECK(t->client_schema == client_schema);
    CHECK(t->server_schema == client_schema + 1);
    check_positions(*t, c, w);

    SECTION("a lower schema version is a change too") {
        w.schema_version = client_schema - 1;
        CHECK(detect::SchemaChange{}.on_welcome(c, w));
    }
}

TEST_CASE("SchemaChange does not trigger on the same schema version", "[detect][schema][no-false-positive]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version - 1, 1}; // a rollback is not a schema change
    CHECK_FALSE(detect::SchemaChange{}.on_welcome(c, w));
    CHECK_FALSE(detect::SchemaChange{}.on_error(c, error_with(server_code::bad_client_file, ServerAction::reset)));
}

// ------------------------------------------------------------------------------------ Expired

TEST_CASE("Expired triggers when the client's cursor is below the oldest version the server keeps",
          "[detect][expired]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version + 50, 0x50};
    w.salt_at_cursor = std::nullopt;
    w.oldest_available = cursor_version + 1;
    const auto t = detect::Expired{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::client_expired);
    CHECK(t->recovery_allowed);
    check_positions(*t, c, w);
}

TEST_CASE("Expired does not trigger for a cursor at or above the oldest available version, a rollback, or "
          "another epoch",
          "[detect][expired][no-false-positive]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.latest = {cursor_version + 50, 0x50};
    w.oldest_available = cursor_version; // exactly at the floor: still continuable
    CHECK_FALSE(detect::Expired{}.on_welcome(c, w));
    w.oldest_available = cursor_version - 1;
    CHECK_FALSE(detect::Expired{}.on_welcome(c, w));

    w.latest = {cursor_version - 2, 0x50}; // restored below the cursor: a rollback
    w.oldest_available = cursor_version + 1;
    CHECK_FALSE(detect::Expired{}.on_welcome(c, w));

    w = matching_welcome();
    w.oldest_available = cursor_version + 1;
    w.latest = {cursor_version + 5, 1};
    w.epoch = client_epoch + 1;
    CHECK_FALSE(detect::Expired{}.on_welcome(c, w));
    CHECK_FALSE(detect::Expired{}.on_error(c, error_with(server_code::client_file_expired, ServerAction::reset)));
}

// ------------------------------------------------------------------------------- ServerErrors

TEST_CASE("ServerErrors maps each known code to its documented reason, for both reset actions",
          "[detect][server-errors]") {
    struct Row {
        int code;
        ResetReason reason;
    };
    const std::vector<Row> table{
        {server_code::bad_client_file_ident, ResetReason::client_unknown},
        {server_code::bad_server_version, ResetReason::server_rollback},
        {server_code::bad_client_version, ResetReason::diverging_history},
        {server_code::diverging_histories, ResetReason::diverging_history},
        {server_code::bad_client_file, ResetReason::schema_changed},
        {server_code::client_file_expired, ResetReason::client_expired},
    };
    CHECK(table.size() == known_codes.size());
    const auto c = synced_client();
    for (const auto& row : table) {
        for (auto action : {ServerAction::reset, ServerAction::reset_no_recovery}) {
            CAPTURE(row.code, to_string(action));
            const auto e = error_with(row.code, action);
            const auto t = detect::ServerErrors{}.on_error(c, e);
            REQUIRE(t);
            CHECK(t->reason == row.reason);
            CHECK(detect::ServerErrors::reason_for(row.code) == row.reason);
            // recovery: allowed only for `reset`, and never for a schema change (217)
            const bool allowed = action == ServerAction::reset && row.code != server_code::bad_client_file;
            CHECK(t->recovery_allowed == allowed);
            CHECK(t->server_error == e);
            CHECK(t->client_position == c.download);
            CHECK(t->client_epoch == c.epoch);
            CHECK(t->client_schema == c.schema_version);
        }
    }
}

TEST_CASE("ServerErrors maps an unknown code with a reset action to server_requested", "[detect][server-errors][bad-input]") {
    const auto c = synced_client();
    for (int code : {0, 1, 100, 207, 212, 4321, -5}) {
        CAPTURE(code);
        const auto t = detect::ServerErrors{}.on_error(c, error_with(code, ServerAction::reset));
        REQUIRE(t);
        CHECK(t->reason == ResetReason::server_requested);
        CHECK(t->recovery_allowed);
        CHECK(t->server_error.code == code);
        const auto n = detect::ServerErrors{}.on_error(c, error_with(code, ServerAction::reset_no_recovery));
        REQUIRE(n);
        CHECK(n->reason == ResetReason::server_requested);
        CHECK_FALSE(n->recovery_allowed);
    }
}

TEST_CASE("ServerErrors never resets for the actions none, warning, transient and protocol_violation, "
          "known code or not",
          "[detect][server-errors][no-false-positive]") {
    const auto c = synced_client();
    auto codes = known_codes;
    codes.push_back(0);
    codes.push_back(4321);
    for (int code : codes)
        for (auto action : non_reset_actions) {
            CAPTURE(code, to_string(action));
            CHECK_FALSE(detect::ServerErrors{}.on_error(c, error_with(code, action)));
            CHECK_FALSE(detect::Standard{}.on_error(c, error_with(code, action)));
        }
    // and a Welcome is never a server error
    auto w = matching_welcome();
    w.epoch = 1;
    w.schema_version = 99;
    CHECK_FALSE(detect::ServerErrors{}.on_welcome(c, w));
}

// ----------------------------------------------------------------------- never synced, AnyOf

TEST_CASE("a client that never synced (epoch 0) never triggers a position-based detection", "[detect][never-synced]") {
    SyncState fresh; // epoch 0, cursor {0,0}, no ident
    // Whatever the server says about itself, a client with no positions has nothing to compare.
    protocol::Welcome w;
    w.ident = 12;
    w.latest = {40, 0x40};
    w.salt_at_cursor = 0;
    w.oldest_available = 30;
    w.epoch = 9;
    w.schema_version = 5;
    CHECK_FALSE(detect::Rollback{}.on_welcome(fresh, w));
    CHECK_FALSE(detect::Divergence{}.on_welcome(fresh, w));
    CHECK_FALSE(detect::EpochChange{}.on_welcome(fresh, w));
    CHECK_FALSE(detect::SchemaChange{}.on_welcome(fresh, w));
    CHECK_FALSE(detect::Expired{}.on_welcome(fresh, w));
    CHECK_FALSE(detect::Standard{}.on_welcome(fresh, w));

    // Even with stale-looking positions (a replica imported without an epoch).
    SyncState odd = fresh;
    odd.download = {100, 0x1};
    odd.schema_version = 1;
    CHECK_FALSE(detect::Standard{}.on_welcome(odd, w));
}

TEST_CASE("AnyOf returns the first trigger in its argument order and asks no further", "[detect][any-of]") {
    const auto c = synced_client();
    const auto w = matching_welcome();
    int asked_never = 0, asked_a = 0, asked_b = 0;
    using A = Fixed<ResetReason::client_expired>;
    using B = Fixed<ResetReason::epoch_changed>;

    detect::AnyOf<Never, A, B> ab{Never{&asked_never}, A{&asked_a}, B{&asked_b}};
    auto t = ab.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::client_expired);
    CHECK(asked_never == 1);
    CHECK(asked_a == 1);
    CHECK(asked_b == 0);

    detect::AnyOf<B, A> ba{B{&asked_b}, A{&asked_a}};
    t = ba.on_error(c, error_with(1, ServerAction::none));
    REQUIRE(t);
    CHECK(t->reason == ResetReason::epoch_changed);
    CHECK(asked_b == 1);
    CHECK(asked_a == 1);

    CHECK_FALSE(detect::AnyOf<Never, Never>{}.on_welcome(c, w));

    SECTION("with shipped models: schema and epoch both changed, the first listed wins") {
        auto both = matching_welcome();
        both.epoch = client_epoch + 1;
        both.schema_version = client_schema + 1;
        const auto se = detect::AnyOf<detect::SchemaChange, detect::EpochChange>{}.on_welcome(c, both);
        const auto es = detect::AnyOf<detect::EpochChange, detect::SchemaChange>{}.on_welcome(c, both);
        REQUIRE(se);
        REQUIRE(es);
        CHECK(se->reason == ResetReason::schema_changed);
        CHECK(es->reason == ResetReason::epoch_changed);
    }
}

TEST_CASE("Standard puts a schema change before an epoch change, and an epoch change before positions",
          "[detect][standard]") {
    const auto c = synced_client();
    auto w = matching_welcome();
    w.epoch = client_epoch + 1;
    w.schema_version = client_schema + 1;
    w.latest = {2, 0x2}; // also looks like a rollback
    w.salt_at_cursor = std::nullopt;
    auto t = detect::Standard{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::schema_changed);
    CHECK_FALSE(t->recovery_allowed);

    w.schema_version = client_schema;
    t = detect::Standard{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::epoch_changed);
    CHECK(t->recovery_allowed);

    w.epoch = client_epoch;
    t = detect::Standard{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::server_rollback);

    // Expired and a diverging salt at once: expiry comes first.
    w = matching_welcome();
    w.latest = {cursor_version + 30, 0x30};
    w.oldest_available = cursor_version + 1;
    w.salt_at_cursor = std::nullopt;
    t = detect::Standard{}.on_welcome(c, w);
    REQUIRE(t);
    CHECK(t->reason == ResetReason::client_expired);

    // Server errors go through ServerErrors.
    t = detect::Standard{}.on_error(c, error_with(server_code::bad_client_file_ident, ServerAction::reset));
    REQUIRE(t);
    CHECK(t->reason == ResetReason::client_unknown);
}

// ------------------------------------------------------------------------------------- laws

namespace {

using ShippedDetection =
    std::tuple<detect::ServerErrors, detect::Rollback, detect::Divergence, detect::EpochChange, detect::SchemaChange,
               detect::Expired, detect::Standard, detect::AnyOf<detect::Rollback, detect::Divergence>>;

/// Random client positions, and a Welcome from a server that agrees with them (it may have moved on
/// with more history, and may have compacted below the client's cursor, but not past it).
struct AgreeingPair {
    SyncState client;
    protocol::Welcome welcome;
};

AgreeingPair agreeing(std::mt19937_64& rng) {
    auto pick = [&](std::uint64_t lo, std::uint64_t hi) {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
    };
    AgreeingPair p;
    p.client.client_ident = pick(1, 50);
    p.client.epoch = pick(1, ~std::uint64_t{0});
    p.client.schema_version = static_cast<SchemaVersion>(pick(0, 10));
    const std::uint64_t v = pick(0, 1000);
    p.client.download = {v, v == 0 ? 0 : pick(1, ~std::uint64_t{0})};
    p.client.upload_acked = pick(0, 100);
    p.welcome.ident = p.client.client_ident;
    p.welcome.epoch = p.client.epoch;
    p.welcome.schema_version = p.client.schema_version;
    const std::uint64_t latest = v + pick(0, 3) * pick(0, 500);
    p.welcome.latest = {latest, latest == v ? p.client.download.salt : pick(1, ~std::uint64_t{0})};
    p.welcome.salt_at_cursor = p.client.download.salt;
    p.welcome.oldest_available = pick(0, v);
    return p;
}

/// Anything at all: random positions on both sides, often disagreeing.
AgreeingPair arbitrary(std::mt19937_64& rng) {
    auto p = agreeing(rng);
    auto coin = [&] { return (rng() & 3) == 0; };
    if (coin()) p.welcome.epoch = rng() % 3;
    if (coin()) p.welcome.schema_version = static_cast<SchemaVersion>(rng() % 3);
    if (coin()) p.welcome.latest = {rng() % 1200, rng()};
    if (coin()) p.welcome.salt_at_cursor = coin() ? std::nullopt : std::optional<std::uint64_t>(rng() % 4);
    if (coin()) p.welcome.oldest_available = rng() % 1200;
    if (coin()) p.client.epoch = rng() % 2;
    return p;
}

} // namespace

TEMPLATE_LIST_TEST_CASE("law: a client whose positions match the server's never triggers a reset (no false positive)",
                        "[detect][law][no-false-positive]", ShippedDetection) {
    const TestType policy{};
    std::mt19937_64 rng(20240611);
    for (int i = 0; i < 2000; ++i) {
        const auto p = agreeing(rng);
        CAPTURE(i, p.client.download.version, p.welcome.latest.version, p.welcome.oldest_available);
        REQUIRE_FALSE(policy.on_welcome(p.client, p.welcome));
        // Errors that do not ask for a reset never trigger either.
        const auto action = non_reset_actions[static_cast<std::size_t>(rng() % non_reset_actions.size())];
        const int code = rng() % 2 ? known_codes[static_cast<std::size_t>(rng() % known_codes.size())]
                                   : static_cast<int>(rng() % 1000);
        REQUIRE_FALSE(policy.on_error(p.client, error_with(code, action)));
    }
}

TEMPLATE_LIST_TEST_CASE("law: a detection policy is a pure function: the same input gives the same output",
                        "[detect][law]", ShippedDetection) {
    std::mt19937_64 rng(77);
    int triggered = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto p = arbitrary(rng);
        const auto e = error_with(static_cast<int>(205 + rng() % 20),
                                  static_cast<ServerAction>(rng() % 6));
        const TestType first{};
        const TestType second{}; // a separate instance: no state shared through the object either
        const auto w1 = first.on_welcome(p.client, p.welcome);
        const auto e1 = first.on_error(p.client, e);
        CAPTURE(i);
        REQUIRE(first.on_welcome(p.client, p.welcome) == w1);
        REQUIRE(second.on_welcome(p.client, p.welcome) == w1);
        REQUIRE(first.on_error(p.client, e) == e1);
        REQUIRE(second.on_error(p.client, e) == e1);
        triggered += w1.has_value() + e1.has_value();
    }
    // The inputs are not all harmless: every model found something in them.
    CHECK(triggered > 0);
}

} // namespace RESYNC_TEST_FILE
