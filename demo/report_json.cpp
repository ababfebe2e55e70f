#include "report_json.hpp"

#include "report_words.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace resync_demo {

namespace {

using nlohmann::json;

/// The schema's version: bumped on any change that is not an addition.
constexpr int format_version = 1;

/// A name of the library's (`to_string`) as a JSON value: spaces become underscores
/// ("lost on server" -> "lost_on_server").
std::string name(std::string_view words) {
    std::string s(words);
    for (char& c : s)
        if (c == ' ') c = '_';
    return s;
}

json position(const resync::ServerPosition& p) { return {{"version", p.version}, {"salt", p.salt}}; }

template <class T>
json optional_number(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json trigger(const resync::ResetTrigger& t) {
    json server_error = nullptr;
    if (t.server_error.code != 0)
        server_error = {{"code", t.server_error.code},
                        {"action", name(resync::to_string(t.server_error.action))},
                        {"message", t.server_error.message}};
    return {{"reason", name(resync::to_string(t.reason))},
            {"why", why(t)},
            {"recovery_allowed", t.recovery_allowed},
            {"server_error", server_error},
            {"client_position", position(t.client_position)},
            {"server_position", position(t.server_position)},
            {"client_epoch", t.client_epoch},
            {"server_epoch", t.server_epoch},
            {"client_schema", t.client_schema},
            {"server_schema", t.server_schema}};
}

json report(const resync::ResetReport& r) {
    json fates = json::object();
    for (auto f : all_fates) fates[name(resync::to_string(f))] = r.count(f);
    json operations = json::array();
    for (const auto& op : r.operations)
        operations.push_back({{"client_version", op.client_version},
                              {"index", op.index},
                              {"what", op.what},
                              {"fate", name(resync::to_string(op.fate))},
                              {"reason", op.reason}});
    json phase_ms = json::object();
    for (auto p : all_phases) phase_ms[name(resync::to_string(p))] = milliseconds(r.time_in(p));
    json error = nullptr;
    if (r.error) error = {{"category", r.error.category().name()}, {"code", r.error.value()}, {"message", r.error.message()}};
    json diff = nullptr;
    if (r.diff)
        diff = {{"created", r.diff->created}, {"updated", r.diff->updated}, {"erased", r.diff->erased},
                {"unchanged", r.diff->unchanged}};
    return {{"outcome", name(resync::to_string(r.outcome))},
            {"trigger", trigger(r.trigger)},
            {"mode_requested", name(resync::to_string(r.mode_requested))},
            {"mode_used", name(resync::to_string(r.mode_used))},
            {"attempt", r.attempt},
            {"resumed", r.resumed},
            {"backup", {{"location", r.backup_location}, {"keeping_location", r.keeping_location}, {"words", backup_words(r)}}},
            {"unsynced_changesets", r.unsynced_changesets},
            {"unsynced_operations", r.unsynced_operations},
            {"lost_acknowledged", r.lost_acknowledged},
            {"objects_before", optional_number(r.objects_before)},
            {"objects_after", optional_number(r.objects_after)},
            {"fresh_copy_bytes", r.fresh_copy_bytes},
            {"diff", diff},
            {"error", error},
            {"failed_phase", r.failed_phase ? json(name(resync::to_string(*r.failed_phase))) : json(nullptr)},
            {"detail", r.detail},
            {"fates", fates},
            {"operations", operations},
            {"phase_ms", phase_ms}};
}

json check_json(const Check& c) {
    return {{"nothing_lost", c.nothing_lost()},
            {"converged", c.converged},
            {"looked_for", c.looked_for},
            {"on_server", c.on_server},
            {"unsynced", c.unsynced},
            {"quarantined", c.quarantined},
            {"in_backup", c.in_backup},
            {"twice_on_server", c.twice},
            {"gone", c.gone},
            {"problems", c.problems},
            {"backup_files", c.backup_files},
            {"unreadable_backups", c.unreadable}};
}

} // namespace

void print_json(std::ostream& out, const World& w, const Run& run, const Check& check) {
    const Options& o = w.options;
    json resets = json::array();
    for (const auto& r : run.resets) resets.push_back(report(r));
    json doc = {{"format_version", format_version},
                {"scenario", to_string(o.scenario)},
                {"scenario_description", describe(o.scenario)},
                {"strategy", to_string(o.strategy)},
                {"strategy_type", type_name(o.strategy)},
                {"parameters",
                 {{"objects", o.objects}, {"offline_changes", o.offline_changes}, {"seed", o.seed},
                  {"backup_dir", o.backup_dir}, {"run_backup_dir", w.backup_dir.string()}}},
                {"story", w.story},
                {"session_errors", run.errors},
                {"final_state", name(resync::to_string(run.final_state))},
                {"timed_out", run.timed_out},
                {"resets", resets},
                {"check", check_json(check)}};
    out << doc.dump(2) << '\n';
}

} // namespace resync_demo
