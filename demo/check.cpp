#include "check.hpp"

#include <resync/backup/file_format.hpp>
#include <resync/bytes.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/describe.hpp>

#include <filesystem>
#include <map>
#include <system_error>

namespace resync_demo {

namespace {

constexpr std::size_t problems_shown = 10;

/// An operation's identity: its encoding. The demo writes no list operations (the one kind
/// recovery may re-express), and each operation it writes is unique by its bytes.
std::string mark_of(const resync::doc::Operation& op) {
    std::string bytes;
    resync::ByteWriter w(bytes);
    resync::doc::encode(w, op);
    return bytes;
}

struct Whereabouts {
    std::size_t on_server = 0;
    bool unsynced = false;
    bool quarantined = false;
    bool in_backup = false;
};

} // namespace

Check check_keeping(const World& w) {
    Check check;
    std::map<std::string, Whereabouts> where;
    std::vector<const resync::doc::Operation*> wanted;
    for (const auto* list : {&w.offline, &w.lost_by_restore})
        for (const auto& op : *list) {
            where[mark_of(op)];
            wanted.push_back(&op);
        }
    auto seen = [&](const resync::doc::Operation& op) -> Whereabouts* {
        auto it = where.find(mark_of(op));
        return it == where.end() ? nullptr : &it->second;
    };

    // Client changes only: another client's or the server's own writes (origin 0) never count.
    for (const auto& entry : w.server.history())
        if (entry.origin != 0)
            for (const auto& op : entry.ops)
                if (auto* found = seen(op)) ++found->on_server;
    for (const auto& changeset : w.store.unsynced())
        for (const auto& op : changeset.ops)
            if (auto* found = seen(op)) found->unsynced = true;
    for (const auto& q : w.store.quarantined())
        if (auto* found = seen(q.operation)) found->quarantined = true;

    std::error_code ec;
    if (std::filesystem::exists(w.backup_dir, ec))
        for (const auto& e : std::filesystem::recursive_directory_iterator(w.backup_dir, ec)) {
            if (!e.is_regular_file() || e.path().extension() != ".rsbk") continue;
            auto backup = resync::restore_backup<resync::doc::Model>(e.path().string());
            if (!backup) {
                check.unreadable.push_back(e.path().string() + ": " + backup.error().message());
                continue;
            }
            check.backup_files.push_back(e.path().string());
            for (const auto& changeset : backup->unsynced)
                for (const auto& op : changeset.ops)
                    if (auto* found = seen(op)) found->in_backup = true;
        }

    for (const auto* op : wanted) {
        const Whereabouts& f = where.at(mark_of(*op));
        ++check.looked_for;
        auto problem = [&](std::string words) {
            if (check.problems.size() < problems_shown)
                check.problems.push_back(resync::doc::describe(*op) + " " + std::move(words));
        };
        if (f.on_server > 1) {
            ++check.twice;
            problem("is on the server " + std::to_string(f.on_server) + " times");
        } else if (f.on_server == 1) ++check.on_server;
        else if (f.unsynced) ++check.unsynced;
        else if (f.quarantined) ++check.quarantined;
        else if (f.in_backup) ++check.in_backup;
        else {
            ++check.gone;
            problem("is gone: not on the server, not unsynced, not quarantined, in no backup file");
        }
    }
    check.converged = w.store.state() == w.server.state();
    return check;
}

} // namespace resync_demo
