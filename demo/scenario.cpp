#include "scenario.hpp"

#include <resync/server_error.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace resync_demo {

namespace doc = resync::doc;

namespace {

constexpr std::size_t objects_per_changeset = 500;
constexpr const char* collection = "items";
/// Not a code the library knows by name: the server's own reason; the action says "reset".
constexpr int operator_reset_code = 4001;

doc::Operation set_title(const std::string& key, std::string title) {
    return doc::SetField{collection, key, "title", doc::Value{std::move(title)}};
}

/// Server-side writes by other clients: a few objects erased, a few edited.
void others_write(World& w) {
    const std::size_t n = w.options.objects;
    const std::size_t erase = std::min<std::size_t>(3, n / 4);
    std::vector<doc::Operation> ops;
    std::set<std::size_t> chosen;
    while (chosen.size() < erase) chosen.insert(w.rng() % n);
    for (auto i : chosen) {
        ops.push_back(doc::EraseObject{collection, World::key(i)});
        w.erased_on_server.push_back(i);
    }
    const std::size_t edits = std::min<std::size_t>(5, n);
    for (std::size_t j = 0; j < edits; ++j) {
        const std::size_t i = w.rng() % n;
        if (!chosen.contains(i)) ops.push_back(set_title(World::key(i), "edited by another client"));
    }
    if (ops.empty()) return;
    w.server.write(std::move(ops));
    w.tell("meanwhile other clients erase " + std::to_string(erase) + " objects on the server and edit a few others");
}

/// The client's offline changes: edits, additions, new objects and erasures, each unique (the
/// check finds each by its bytes). The first edits go to objects another client erased, so
/// that a recovering strategy has something it must not resurrect.
class OfflineWriter {
public:
    explicit OfflineWriter(World& w) : w_(w), gone_(w.unavailable) {
        gone_.insert(w.erased_on_server.begin(), w.erased_on_server.end());
    }

    void write(std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) one(w_.offline_changes_written++);
    }

private:
    void one(std::size_t i) {
        std::vector<doc::Operation> ops;
        const std::string unique = "offline change " + std::to_string(i + 1);
        if (i < w_.erased_on_server.size() && i < 2) {
            ops.push_back(set_title(World::key(w_.erased_on_server[i]), unique));
        } else {
            switch (i % 5) {
            case 0: ops.push_back(set_title(live_key(), unique)); break;
            case 1: ops.push_back(doc::AddInteger{collection, live_key(), "n", static_cast<std::int64_t>(i + 1)}); break;
            case 2: {
                const std::string key = "new-" + std::to_string(i + 1);
                ops.push_back(doc::CreateObject{collection, key});
                ops.push_back(set_title(key, unique));
                break;
            }
            case 3: {
                const std::string key = live_key();
                ops.push_back(set_title(key, unique));
                ops.push_back(doc::AddInteger{collection, key, "n", static_cast<std::int64_t>(i + 1)});
                break;
            }
            default:
                if (auto k = erasable()) ops.push_back(doc::EraseObject{collection, *k});
                else ops.push_back(set_title(live_key(), unique));
            }
        }
        auto written = w_.write(std::move(ops));
        w_.offline.insert(w_.offline.end(), written.begin(), written.end());
    }

    /// A shared object this client still has and nobody erased.
    std::string live_key() {
        const std::size_t n = w_.options.objects;
        for (int tries = 0; tries < 64; ++tries) {
            const std::size_t i = w_.rng() % n;
            if (!gone_.contains(i)) return World::key(i);
        }
        return "new-1"; // everything erased: edit an object this client created (or nothing)
    }
    /// A shared object to erase locally, keeping at least half of them.
    std::optional<std::string> erasable() {
        if (gone_.size() * 2 >= w_.options.objects) return std::nullopt;
        const std::string k = live_key();
        gone_.insert(static_cast<std::size_t>(std::stoul(k.substr(5))));
        return k;
    }

    World& w_;
    std::set<std::size_t>& gone_;
};

/// The migration of the schema scenario: every integer field "n" becomes a string.
void n_becomes_a_string(doc::State& s) {
    for (auto& [key, object] : s.collections[collection]) {
        auto it = object.find("n");
        if (it != object.end() && std::holds_alternative<std::int64_t>(it->second))
            it->second = std::to_string(std::get<std::int64_t>(it->second));
    }
}

} // namespace

void prepare(World& w, const std::function<void()>& sync) {
    const std::size_t n = w.options.objects;
    for (std::size_t first = 0; first < n; first += objects_per_changeset) {
        std::vector<doc::Operation> ops;
        for (std::size_t i = first; i < std::min(n, first + objects_per_changeset); ++i) {
            ops.push_back(doc::CreateObject{collection, World::key(i)});
            ops.push_back(doc::SetField{collection, World::key(i), "n", doc::Value{static_cast<std::int64_t>(i)}});
            ops.push_back(set_title(World::key(i), "object " + std::to_string(i)));
        }
        w.server.write(std::move(ops));
    }
    sync();
    w.tell("the client syncs " + std::to_string(w.store.object_count()) + " objects from the server (version " +
           std::to_string(w.server.latest().version) + ")");
    if (w.options.scenario != Scenario::restore) return;

    w.server_backup = w.server.backup();
    w.tell("the server takes a backup at version " + std::to_string(w.server.latest().version));
    const std::size_t acknowledged = std::max<std::size_t>(1, w.options.offline_changes / 10);
    for (std::size_t i = 0; i < acknowledged; ++i) {
        const std::string key = World::key(w.rng() % n);
        auto written = w.write({set_title(key, "synced after the server's backup " + std::to_string(i + 1))});
        w.lost_by_restore.insert(w.lost_by_restore.end(), written.begin(), written.end());
    }
    sync();
    w.tell("the client syncs " + std::to_string(acknowledged) + " more changes; the server acknowledges them (version " +
           std::to_string(w.server.latest().version) + ")");
}

void provoke(World& w) {
    w.link.go_offline();
    w.tell("the client goes offline");
    switch (w.options.scenario) {
    case Scenario::restore:
        w.server.restore(*w.server_backup);
        w.tell("the server crashes and is restored from its backup: back to version " +
               std::to_string(w.server.latest().version) + "; the client's last " +
               std::to_string(w.lost_by_restore.size()) + " acknowledged changes are gone from it");
        others_write(w);
        break;
    case Scenario::reenable:
        w.server.terminate_and_reenable();
        w.tell("sync is terminated and re-enabled on the server: a new epoch, every client forgotten");
        others_write(w);
        break;
    case Scenario::schema:
        w.server.change_schema(n_becomes_a_string);
        w.tell("a destructive schema change on the server: field n becomes a string (schema version " +
               std::to_string(w.server.schema_version()) + ")");
        break;
    case Scenario::expire:
        others_write(w);
        w.server.compact(w.server.latest().version);
        w.tell("the server compacts its history up to version " + std::to_string(w.server.history_floor()) +
               ", past the client's cursor (version " + std::to_string(w.store.sync_state().download.version) + ")");
        break;
    case Scenario::error:
    case Scenario::storm:
        demand_reset(w);
        break;
    }
    OfflineWriter(w).write(w.options.offline_changes);
    w.tell("offline, the client writes " + std::to_string(w.options.offline_changes) + " changes (" +
           std::to_string(w.offline.size()) + " operations)");
}

void write_one_more(World& w) {
    OfflineWriter(w).write(1);
    w.tell("the client writes one more change");
}

void demand_reset(World& w) {
    w.server.inject_error({operator_reset_code, resync::ServerAction::reset,
                           "the operator asks this client to reset"},
                          w.store.sync_state().client_ident);
    w.tell("the server will answer the client's next message with error " + std::to_string(operator_reset_code) +
           " (action: reset)");
}

} // namespace resync_demo
