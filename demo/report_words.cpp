#include "report_words.hpp"

namespace resync_demo {

namespace {

std::string at(const resync::ServerPosition& p) { return "version " + std::to_string(p.version); }

/// " (a -> b)" when the trigger holds the values (a reset executed from a durable manual request
/// knows only its reason), else nothing.
template <class T>
std::string change(T from, T to) {
    if (from == T{} && to == T{}) return {};
    return " (" + std::to_string(from) + " -> " + std::to_string(to) + ")";
}

} // namespace

std::string why(const resync::ResetTrigger& t) {
    using resync::ResetReason;
    switch (t.reason) {
    case ResetReason::server_rollback:
        if (t.client_position.version == 0) return "the server is behind the client's cursor: it was restored from a backup";
        return "the server is at " + at(t.server_position) + ", behind the client's cursor (" + at(t.client_position) +
               "): it was restored from a backup";
    case ResetReason::diverging_history:
        return "the server's history at the client's cursor is not the one the client integrated (another salt)";
    case ResetReason::epoch_changed:
        return "the server's epoch changed" + change(t.client_epoch, t.server_epoch) +
               ": sync was terminated and re-enabled";
    case ResetReason::schema_changed:
        return "the server's schema version changed" + change(t.client_schema, t.server_schema) +
               ": local changes no longer fit";
    case ResetReason::client_expired:
        if (t.client_position.version == 0) return "the server compacted its history past the client's cursor";
        return "the server compacted its history past the client's cursor (" + at(t.client_position) + ")";
    case ResetReason::client_unknown: return "the server no longer knows this client";
    case ResetReason::server_requested: return "the server asked for it, with an error whose action is a reset";
    }
    return "unknown";
}

std::string server_error_words(const resync::ResetTrigger& t) {
    if (t.server_error.code == 0) return {};
    std::string words = std::to_string(t.server_error.code);
    // A reset executed from a durable manual request knows the code and message, not the action.
    if (t.server_error.action != resync::ServerAction::none)
        words += " (action " + std::string(resync::to_string(t.server_error.action)) + ")";
    return words + ": " + t.server_error.message;
}

std::string backup_words(const resync::ResetReport& r) {
    if (r.backup_location.empty()) return "nothing";
    if (r.backup_location == "memory") return "the before-state, in memory, for the after-reset callback";
    if (r.backup_location == "callback") return "handed to the application's backup callback";
    return "a backup file (state, unsynced changes, sync state): " + r.backup_location;
}

std::string meaning(resync::OperationFate f) {
    using resync::OperationFate;
    switch (f) {
    case OperationFate::recovered: return "replayed onto the fresh copy as written";
    case OperationFate::transformed: return "replayed in a changed form";
    case OperationFate::dropped: return "not replayed, for the reason given";
    case OperationFate::quarantined: return "not replayed; kept in the store's quarantine";
    case OperationFate::discarded: return "not replayed; kept in a backup file";
    case OperationFate::lost_on_server: return "acknowledged, then lost by the server's restore; kept in the quarantine";
    }
    return "unknown";
}

} // namespace resync_demo
