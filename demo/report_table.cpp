#include "report_table.hpp"

#include "report_words.hpp"
#include "text_table.hpp"

#include <cstdio>
#include <ostream>
#include <string>

namespace resync_demo {

namespace {

/// Operations listed one by one, per fate; beyond that, counts only.
constexpr std::size_t listed_per_fate = 3;

std::string counted(std::size_t n, const std::string& thing) {
    return std::to_string(n) + " " + thing + (n == 1 ? "" : "s");
}

std::string fixed(double v, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    return buffer;
}

std::string count_of(const std::optional<std::size_t>& n) { return n ? std::to_string(*n) : std::string("?"); }

void print_reset(std::ostream& out, const resync::ResetReport& r, std::size_t number, std::size_t of) {
    out << "\nReset " << number << " of " << of << ": " << resync::to_string(r.outcome) << "\n";
    TextTable t;
    t.row({"detected", std::string(resync::to_string(r.trigger.reason))});
    t.row({"why", why(r.trigger)});
    if (auto e = server_error_words(r.trigger); !e.empty()) t.row({"server error", e});
    t.row({"recovery", r.trigger.recovery_allowed ? "allowed by the server" : "not allowed by the server"});
    std::string mode = std::string(resync::to_string(r.mode_requested));
    if (r.mode_used != r.mode_requested) mode += " -> " + std::string(resync::to_string(r.mode_used));
    t.row({"mode", mode + " (attempt " + std::to_string(r.attempt) + ")"});
    t.row({"backed up", backup_words(r)});
    if (!r.keeping_location.empty()) t.row({"also kept in", r.keeping_location});
    t.row({"unsynced", counted(r.unsynced_changesets, "changeset") + ", " + counted(r.unsynced_operations, "operation")});
    if (r.lost_acknowledged)
        t.row({"lost by the server", counted(r.lost_acknowledged, "acknowledged changeset")});
    t.row({"objects", count_of(r.objects_before) + " before, " + count_of(r.objects_after) + " after"});
    if (r.fresh_copy_bytes) t.row({"fresh copy", std::to_string(r.fresh_copy_bytes) + " bytes"});
    if (r.diff)
        t.row({"written", std::to_string(r.diff->created) + " created, " + std::to_string(r.diff->updated) +
                              " updated, " + std::to_string(r.diff->erased) + " erased"});
    if (r.error) t.row({"error", r.error.message()});
    if (r.failed_phase) t.row({"failed in", std::string(resync::to_string(*r.failed_phase))});
    if (!r.detail.empty()) t.row({"detail", r.detail});
    t.print(out);

    if (!r.operations.empty()) {
        out << "\n  Operations (" << r.operations.size() << ")\n";
        TextTable fates({"fate", "count", "meaning"});
        for (auto f : all_fates)
            if (auto n = r.count(f)) fates.row({std::string(resync::to_string(f)), std::to_string(n), meaning(f)});
        fates.print(out, 4);
        // The first few of each fate but `recovered`, with their reasons.
        std::size_t listed = 0, others = 0;
        TextTable ops({"changeset#op", "operation", "fate", "reason"});
        for (auto f : all_fates) {
            if (f == resync::OperationFate::recovered) continue;
            std::size_t of_this_fate = 0;
            for (const auto& op : r.operations) {
                if (op.fate != f) continue;
                if (of_this_fate++ == listed_per_fate) {
                    others += r.count(f) - listed_per_fate;
                    break;
                }
                ++listed;
                ops.row({"v" + std::to_string(op.client_version) + "#" + std::to_string(op.index), op.what,
                         std::string(resync::to_string(f)), op.reason});
            }
        }
        if (listed) {
            out << "\n    " << (others ? "the first few of each fate " : std::string("those ")) << "not replayed as written:\n";
            ops.print(out, 4);
            if (others) out << "    ... and " << others << " more (--json lists every one)\n";
        } else {
            out << "    every operation was replayed as written\n";
        }
    }

    out << "\n  Time per phase\n";
    TextTable times({"phase", "ms"});
    for (auto p : all_phases) times.row({std::string(resync::to_string(p)), fixed(milliseconds(r.time_in(p)), 3)});
    times.print(out, 4);
}

void print_check(std::ostream& out, const Check& c) {
    out << "\nCheck (the demo looked for every change it wrote, without the report)\n";
    TextTable t;
    t.row({"looked for", std::to_string(c.looked_for) + " operations (written offline, or acknowledged and lost by a restore)"});
    t.row({"on the server", std::to_string(c.on_server) + " (once each)"});
    t.row({"still unsynced", std::to_string(c.unsynced)});
    t.row({"in the quarantine", std::to_string(c.quarantined)});
    t.row({"only in a backup file", std::to_string(c.in_backup)});
    if (c.twice) t.row({"on the server twice", std::to_string(c.twice)});
    t.row({"gone", std::to_string(c.gone)});
    t.row({"backup files read back", std::to_string(c.backup_files.size())});
    t.row({"client equals server", c.converged ? "yes" : "no"});
    t.print(out);
    for (const auto& u : c.unreadable) out << "  unreadable backup: " << u << "\n";
    for (const auto& p : c.problems) out << "  " << p << "\n";
    if (c.nothing_lost()) out << "\nnothing was lost\n";
    else out << "\nSOMETHING WAS LOST\n";
    if (!c.converged) out << "the client did not end equal to the server\n";
}

} // namespace

void print_table(std::ostream& out, const World& w, const Run& run, const Check& check) {
    const Options& o = w.options;
    out << "resync-demo: scenario " << to_string(o.scenario) << ", strategy " << to_string(o.strategy) << " ("
        << type_name(o.strategy) << "), " << o.objects << " objects, " << o.offline_changes
        << " offline changes, seed " << o.seed << "\n"
        << "  " << describe(o.scenario) << "\n\nWhat happened\n";
    for (const auto& line : w.story) out << "  " << line << "\n";
    for (const auto& e : run.errors) out << "  the session reported: " << e << "\n";
    if (run.timed_out) out << "  the demo gave up waiting for the session\n";

    for (std::size_t i = 0; i < run.resets.size(); ++i) {
        // A storm's earlier resets in one line each; the last one in full.
        if (i + 1 < run.resets.size() && run.resets.size() > 2) {
            if (i == 0) out << "\nResets before the last one\n";
            const auto& r = run.resets[i];
            out << "  " << i + 1 << ". attempt " << r.attempt << ", " << resync::to_string(r.mode_used) << ", "
                << resync::to_string(r.outcome) << " (" << resync::to_string(r.trigger.reason) << ")\n";
            continue;
        }
        print_reset(out, run.resets[i], i + 1, run.resets.size());
    }
    if (run.resets.empty()) out << "\nNo reset happened.\n";
    print_check(out, check);
}

} // namespace resync_demo
