// Property: recovery over random histories. Thousands of small cases, each with 2-3 clients on
// one reference server, under random strategies (DiscardUnsynced, Recover, RecoverOrDiscard,
// RecoverAll, Manual): random local writes of every operation kind on a small key space (so
// clients conflict), random syncing over links that drop, duplicate and delay messages, lose
// acknowledgements and disconnect; then one random reset cause (a server restored from a backup,
// with or without new history after the restore; terminate and re-enable; a destructive schema
// change; compaction; a forgotten client; an injected reset error with or without recovery),
// while clients keep writing offline; then the links heal. For every case:
//
//   1. no unsynced change disappears silently: each local write is on the server, or in the
//      manual backup file, or in a reset report as discarded / dropped / quarantined with a reason;
//   2. under RecoverAll, after a restore within the same epoch, every change a client ever made
//      (acknowledged or not) is back on the server or in a report;
//   3. every reset terminates: within a bounded number of polls every session is idle, or waits
//      for the user (who checks the backup file and executes the reset), and then is idle;
//   4. every replica converges to the server's state, and the server's state is what its own
//      history says whenever the cause kept that history; no change is integrated twice.
//
// Each write creates an object of its own ("tags/t<client>_<n>") that nothing ever erases, next to
// its random edits of the shared objects, so "its effect is on the server" is checkable; the
// report must account for every one of its operations. Fixed seeds; a failing case prints its seed
// and number, and RESYNC_PROPERTY_CASE=<number> reruns that case alone with a trace of its steps.
// The clients' stores are MemoryStores, then SqliteStores (on the first tenth of the same
// histories, see `cases_on`), each file checked with `PRAGMA integrity_check` afterwards.
// At the end of the file, each failure the property test found, minimized to a deterministic case.

#include <support/client.hpp>
#include <support/scenarios.hpp>

#include <resync/backup/file.hpp>
#include <resync/backup/file_format.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/strategy/recover.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <sstream>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using resync::SessionState;
namespace doc = resync::doc;

namespace {

using Rng = std::mt19937_64;
using Changesets = std::vector<resync::LocalChangeset<doc::Operation>>;

std::size_t pick(Rng& rng, std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
bool chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

// ---------------------------------------------------------------------------- vocabulary

enum class Kind : std::uint8_t { discard_unsynced, recover, recover_or_discard, recover_all, manual };
constexpr std::array all_kinds{Kind::discard_unsynced, Kind::recover, Kind::recover_or_discard, Kind::recover_all,
                               Kind::manual};

const char* name(Kind k) {
    switch (k) {
    case Kind::discard_unsynced: return "DiscardUnsynced";
    case Kind::recover: return "Recover";
    case Kind::recover_or_discard: return "RecoverOrDiscard";
    case Kind::recover_all: return "RecoverAll";
    case Kind::manual: return "Manual";
    }
    return "?";
}

enum class Cause : std::uint8_t {
    rollback,          ///< restore an earlier backup; nothing new after it
    divergence,        ///< restore an earlier backup, then new history past the clients' cursors
    terminate,         ///< terminate and re-enable sync (a new epoch)
    schema,            ///< a destructive schema change whose migration changes a field's type
    compact,           ///< history compacted past every client's cursor
    forget,            ///< the server forgets some clients
    error_reset,       ///< an injected server error with the action `reset`
    error_no_recovery, ///< an injected server error with the action `reset_no_recovery`
};
constexpr std::array all_causes{Cause::rollback, Cause::divergence,  Cause::terminate,   Cause::schema,
                                Cause::compact,  Cause::forget,      Cause::error_reset, Cause::error_no_recovery};

const char* name(Cause c) {
    switch (c) {
    case Cause::rollback: return "rollback";
    case Cause::divergence: return "divergence";
    case Cause::terminate: return "terminate and re-enable";
    case Cause::schema: return "schema change";
    case Cause::compact: return "compaction";
    case Cause::forget: return "forgotten client";
    case Cause::error_reset: return "injected reset";
    case Cause::error_no_recovery: return "injected reset without recovery";
    }
    return "?";
}

/// Whether the server's history still explains its state after the cause.
bool keeps_history(Cause c) {
    return c != Cause::terminate && c != Cause::schema && c != Cause::compact;
}

const std::string tags = "tags";
const std::string items = "items";

/// The tag a changeset of this test carries: the key of the object its first operation creates.
std::optional<std::string> tag_of(const resync::LocalChangeset<doc::Operation>& cs) {
    if (cs.ops.empty()) return std::nullopt;
    const auto* create = std::get_if<doc::CreateObject>(&cs.ops.front());
    if (!create || create->collection != tags) return std::nullopt;
    return create->key;
}

std::string text_of(const doc::Operation& op) {
    static constexpr const char* kinds[] = {"create", "erase", "set", "add", "list-insert",
                                            "list-erase", "list-move", "list-set", "list-clear"};
    std::string s = kinds[op.index()];
    s += " " + doc::collection_of(op) + "/" + doc::key_of(op);
    if (auto f = doc::field_of(op); !f.empty()) s += "." + std::string(f);
    return s;
}

/// One random edit of the shared objects, of any operation kind.
void random_edit(doc::Writer& w, Rng& rng) {
    const std::string key = "k" + std::to_string(pick(rng, 3));
    const auto small = [&] { return static_cast<std::int64_t>(pick(rng, 100)); };
    switch (pick(rng, 16)) {
    case 0:
    case 1: w.create(items, key); break;
    case 2: w.erase(items, key); break;
    case 3:
    case 4: w.set(items, key, "s", doc::Value{"s" + std::to_string(pick(rng, 100))}); break;
    case 5: w.set(items, key, "n", doc::Value{small()}); break;
    case 6:
    case 7: w.add(items, key, "n", static_cast<std::int64_t>(pick(rng, 9)) - 4); break;
    case 8:
    case 9: w.list_push_back(items, key, "l", small()); break;
    case 10: w.list_insert(items, key, "l", pick(rng, 4), small()); break;
    case 11: w.list_erase_at(items, key, "l", pick(rng, 4)); break;
    case 12: w.list_move(items, key, "l", pick(rng, 4), pick(rng, 4)); break;
    case 13: w.list_set(items, key, "l", pick(rng, 4), small()); break;
    case 14: w.list_clear(items, key, "l"); break;
    default: w.create(items, key).set(items, key, "n", doc::Value{small()}); break;
    }
}

/// One random edit written on the server side (an admin or another service).
doc::Operation admin_edit(Rng& rng, std::uint64_t& seq) {
    const std::string key = "k" + std::to_string(pick(rng, 3));
    const auto small = [&] { return static_cast<std::int64_t>(pick(rng, 100)); };
    switch (pick(rng, 9)) {
    case 0:
    case 1: return doc::CreateObject{items, key};
    case 2: return doc::EraseObject{items, key};
    case 3: return doc::SetField{items, key, "s", doc::Value{"admin" + std::to_string(pick(rng, 10))}};
    case 4: return doc::SetField{items, key, "n", doc::Value{small()}};
    case 5: return doc::AddInteger{items, key, "n", 10};
    case 6: return doc::ListClear{items, key, "l"};
    default: return doc::ListInsert{items, key, "l", std::nullopt, doc::ElementId{999, seq++}, doc::Scalar{small()}};
    }
}

// ---------------------------------------------------------------------------- one client

/// What the test knows about one client's writes and resets.
struct Ledger {
    std::vector<std::string> writes;          ///< the tag of every write, in order
    std::set<std::string> reported;           ///< writes a report discarded, dropped or quarantined, with a reason
    std::set<std::string> backed_up;          ///< writes the manual backup file held
    std::set<std::string> acked_at_reset;     ///< writes the server had acknowledged when a reset began
    std::set<std::string> recovered_lost_ack; ///< acknowledged writes a reset recovered (RebaseAll)
    std::vector<resync::ResetReport> reports; ///< every completed reset
};

/// Findings of one case: the property violations, in words.
struct Findings {
    std::vector<std::string> messages;
    void add(std::string m) {
        if (messages.size() < 40) messages.push_back(std::move(m));
    }
};

/// Counts across all cases, to show the properties were exercised (not vacuously true).
struct Coverage {
    std::map<Kind, std::size_t> resets_by_kind;
    std::map<Cause, std::size_t> cases_by_cause;
    std::map<resync::OperationFate, std::size_t> fates;
    std::map<resync::ResetReason, std::size_t> reasons;
    std::size_t manual_executions = 0;
    std::size_t backups_checked = 0;
    std::size_t fallbacks = 0;            ///< resets that ran another mode than the strategy asked for
    std::size_t lost_acknowledged = 0;    ///< acknowledged changesets recovered after a restore
    std::size_t writes = 0;
    std::size_t writes_on_server = 0;
    std::size_t writes_reported_only = 0; ///< missing from the server, but reported
    std::size_t writes_lost_by_restore = 0; ///< acknowledged, then lost by a restore (no RecoverAll)
    std::size_t writes_during_reset = 0;  ///< local writes while the client's session was resetting
    std::size_t writes_healed = 0;        ///< acknowledged writes a restore lost, recovered back onto the server
    std::size_t failed_cases = 0;
};

/// A client: its store (of type Store), its link and (in `PeerOf<Store, P>`) a session under policy P.
template <class Store>
class Peer {
public:
    Peer(std::size_t index, Kind kind, resync::testing::Server<resync::doc::Model>& server, std::uint64_t link_seed, Findings& findings)
        : index(index), kind(kind), box(1000 + index), link(server, link_seed), findings_(&findings) {}
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    virtual ~Peer() = default;

    virtual SessionState poll() = 0;
    virtual SessionState run_until_idle(std::size_t max_polls) = 0;
    virtual SessionState state() const = 0;
    virtual bool idle() const = 0;
    virtual std::error_code execute_reset() = 0;
    virtual std::optional<resync::ResetRequest> pending_request() const = 0;
    virtual std::error_code last_error() const = 0;
    virtual std::size_t resets_completed() const = 0;

    std::string who() const { return "client " + std::to_string(index) + " (" + name(kind) + ")"; }

    const std::size_t index;
    const Kind kind;
    resync_test::StoreBox<Store> box;
    Store& store = box.store;
    resync::testing::LoopbackTransport<resync::doc::Model> link;
    Ledger ledger;
    bool request_checked = false; ///< the user has checked the backup of the waiting manual reset

protected:
    /// The store is untouched here: what it holds is what the reset must account for.
    void before_reset(const Store& s) {
        pre_unsynced_ = s.unsynced();
        pre_acked_ = s.acknowledged_after(0);
        for (const auto& cs : pre_acked_)
            if (auto t = tag_of(cs)) ledger.acked_at_reset.insert(*t);
    }

    /// Checks the report of a committed reset against what the store held before it.
    void after_reset(const Store& s, const resync::ResetReport& r) {
        ledger.reports.push_back(r);
        const std::string at = who() + ", reset #" + std::to_string(ledger.reports.size()) + " (" +
                               std::string(resync::to_string(r.trigger.reason)) + ", " +
                               std::string(resync::to_string(r.mode_used)) + "): ";
        if (r.outcome != resync::ResetOutcome::completed) findings_->add(at + "the after-reset report is not completed");
        std::size_t unsynced_ops = 0;
        for (const auto& cs : pre_unsynced_) unsynced_ops += cs.ops.size();
        if (r.unsynced_changesets != pre_unsynced_.size() || r.unsynced_operations != unsynced_ops)
            findings_->add(at + "the report counts " + std::to_string(r.unsynced_changesets) + " unsynced changesets / " +
                           std::to_string(r.unsynced_operations) + " operations, the store held " +
                           std::to_string(pre_unsynced_.size()) + " / " + std::to_string(unsynced_ops) +
                           " when the reset committed");

        // Every operation of every unsynced changeset has exactly one outcome; every outcome
        // names an operation the client had; whatever was not recovered says why.
        const auto find = [](const Changesets& v, resync::ClientVersion cv) -> const resync::LocalChangeset<doc::Operation>* {
            for (const auto& cs : v)
                if (cs.client_version == cv) return &cs;
            return nullptr;
        };
        std::map<std::pair<resync::ClientVersion, std::size_t>, int> seen;
        for (const auto& o : r.operations) {
            const auto* cs = find(pre_unsynced_, o.client_version);
            const bool acked = cs == nullptr;
            if (!cs) cs = find(pre_acked_, o.client_version);
            if (!cs || o.index >= cs->ops.size()) {
                findings_->add(at + "an outcome for v" + std::to_string(o.client_version) + "#" + std::to_string(o.index) +
                               ", an operation the client never had");
                continue;
            }
            if (++seen[{o.client_version, o.index}] == 2)
                findings_->add(at + "two outcomes for v" + std::to_string(o.client_version) + "#" + std::to_string(o.index));
            const doc::Operation& op = cs->ops[o.index];
            const bool lost = o.fate == resync::OperationFate::discarded || o.fate == resync::OperationFate::dropped ||
                              o.fate == resync::OperationFate::quarantined ||
                              o.fate == resync::OperationFate::lost_on_server;
            if (acked && kind != Kind::recover_all &&
                (o.fate == resync::OperationFate::recovered || o.fate == resync::OperationFate::transformed))
                findings_->add(at + "re-applied acknowledged " + text_of(op) + " though the strategy is not RecoverAll");
            if (o.fate != resync::OperationFate::recovered && o.reason.empty())
                findings_->add(at + std::string(resync::to_string(o.fate)) + " " + text_of(op) + " without a reason");
            if (o.fate == resync::OperationFate::dropped)
                findings_->add(at + "dropped " + text_of(op) + " was not quarantined, though the store keeps a quarantine");
            if (o.fate == resync::OperationFate::quarantined) {
                bool kept = false;
                for (const auto& q : s.quarantined()) kept |= q.operation == op && q.reason == o.reason;
                if (!kept) findings_->add(at + "quarantined " + text_of(op) + " is not in the store's quarantine");
            }
            const auto t = tag_of(*cs);
            if (t && o.index == 0) {
                if (lost) ledger.reported.insert(*t);
                else if (acked) ledger.recovered_lost_ack.insert(*t);
            }
        }
        // Acknowledged changesets a restored server lost are accounted for whole, and counted.
        std::size_t lost_changesets = 0;
        for (const auto& cs : pre_acked_) {
            if (find(pre_unsynced_, cs.client_version)) continue;
            std::size_t accounted = 0;
            for (std::size_t i = 0; i < cs.ops.size(); ++i) accounted += seen.contains({cs.client_version, i});
            if (accounted == 0) continue;
            ++lost_changesets;
            if (accounted != cs.ops.size())
                findings_->add(at + "the report accounts for " + std::to_string(accounted) + " of the " +
                               std::to_string(cs.ops.size()) + " operations of lost acknowledged v" +
                               std::to_string(cs.client_version));
        }
        if (r.lost_acknowledged != lost_changesets)
            findings_->add(at + "the report counts " + std::to_string(r.lost_acknowledged) +
                           " lost acknowledged changesets and has outcomes for " + std::to_string(lost_changesets));
        for (const auto& cs : pre_unsynced_)
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                if (!seen.contains({cs.client_version, i}))
                    findings_->add(at + "the report does not account for unsynced v" + std::to_string(cs.client_version) +
                                   "#" + std::to_string(i) + " (" + text_of(cs.ops[i]) + ", write " +
                                   tag_of(cs).value_or("?") + ")");
    }

    Findings* findings_;
    Changesets pre_unsynced_;
    Changesets pre_acked_;
};

template <class Store, class P>
class PeerOf final : public Peer<Store> {
public:
    PeerOf(std::size_t index, Kind kind, resync::testing::Server<resync::doc::Model>& server, std::uint64_t link_seed, Findings& findings,
           P policy, resync::SessionOptions options)
        : Peer<Store>(index, kind, server, link_seed, findings),
          session_(this->store, this->link, std::move(policy), std::move(options)) {
        session_.on_before_reset([this](const resync::ResetTrigger&, const Store& s) { this->before_reset(s); });
        session_.on_after_reset([this](const doc::State*, const Store& s, const resync::ResetReport& r) {
            this->after_reset(s, r);
        });
    }

    SessionState poll() override { return session_.poll(); }
    SessionState run_until_idle(std::size_t max_polls) override { return session_.run_until_idle(max_polls); }
    SessionState state() const override { return session_.state(); }
    bool idle() const override { return session_.idle(); }
    std::error_code execute_reset() override { return session_.execute_reset(); }
    std::optional<resync::ResetRequest> pending_request() const override { return session_.pending_request(); }
    std::error_code last_error() const override { return session_.last_error(); }
    std::size_t resets_completed() const override { return session_.resets_completed(); }

private:
    resync::SyncSession<Store, resync::testing::LoopbackTransport<resync::doc::Model>, P> session_;
};

/// A scratch folder for the backup files of manual resets, in memory-backed storage when the
/// system has it (/dev/shm): hundreds of durable backups (each fsynced) would otherwise cost
/// seconds on a real disk. Removed with everything in it at the end.
class BackupDir {
public:
    BackupDir() {
        std::error_code ec;
        const std::filesystem::path shm = "/dev/shm";
        const auto root = std::filesystem::is_directory(shm, ec) ? shm : std::filesystem::temp_directory_path();
        std::random_device entropy;
        for (;;) {
            path_ = root / ("resync-property-" + std::to_string(entropy()) + std::to_string(entropy()));
            if (std::filesystem::create_directory(path_)) break;
        }
    }
    BackupDir(const BackupDir&) = delete;
    BackupDir& operator=(const BackupDir&) = delete;
    ~BackupDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// ---------------------------------------------------------------------------- one case

/// What a group of cases draws from.
struct Plan {
    std::vector<Cause> causes{all_causes.begin(), all_causes.end()};
    bool first_client_recovers_all = false;
};

template <class Store>
class Case {
    using Peer = RESYNC_TEST_FILE::Peer<Store>;

public:
    Case(std::uint64_t seed, const Plan& plan, const BackupDir& dir, Coverage& coverage, bool trace)
        : rng_(seed), server_(resync::testing::ServerOptions{seed * 7919 + 1, 256, 64 * 1024}), coverage_(coverage),
          trace_(trace) {
        resync::SessionOptions options;
        options.backup_directory = dir.path() / "backups";
        options.clock = resync_test::stepping_clock(); // backoffs pass in polls, the same every run
        options.seed = 1;
        options.fresh_chunk_bytes = 256; // fresh copies arrive in several pieces: clients write meanwhile
        const std::size_t clients = 2 + pick(rng_, 2);
        for (std::size_t i = 0; i < clients; ++i) {
            Kind kind = all_kinds[pick(rng_, all_kinds.size())];
            if (i == 0 && plan.first_client_recovers_all) kind = Kind::recover_all;
            add_peer(i, kind, dir, options);
            resync::testing::LinkFaults f;
            const double rates[] = {0, 0.02, 0.05};
            f.drop_rate = rates[pick(rng_, 3)];
            f.duplicate_rate = rates[pick(rng_, 3)];
            f.delay_rate = rates[pick(rng_, 3)];
            f.disconnect_rate = rates[pick(rng_, 2)] / 2;
            peers_.back()->link.faults() = f;
        }
        cause_ = plan.causes[pick(rng_, plan.causes.size())];
        if (plan.first_client_recovers_all) note("client 0 recovers all");
    }

    const std::vector<std::string>& trace() const noexcept { return events_; }
    std::string setup() const {
        std::string s = std::string(name(cause_)) + "; clients:";
        for (const auto& p : peers_) s += std::string(" ") + name(p->kind);
        return s;
    }

    Findings run() {
        ++coverage_.cases_by_cause[cause_];
        // A history, with the backup a restore will go back to taken somewhere in it.
        const std::size_t history = 8 + pick(rng_, 24);
        const std::size_t backup_at = pick(rng_, history);
        for (std::size_t step = 0; step < history; ++step) {
            if (step == backup_at) {
                backup_ = server_.backup();
                note("server backup at v" + std::to_string(server_.latest().version));
            }
            random_step();
        }
        // The cause, with some clients offline across it, writing on.
        std::vector<Peer*> offline;
        for (auto& p : peers_)
            if (chance(rng_, 0.6)) {
                p->link.go_offline();
                offline.push_back(p.get());
            }
        apply_cause();
        for (Peer* p : offline)
            for (std::size_t i = pick(rng_, 3); i-- > 0;) local_write(*p);
        // More random traffic, faults and all: the resets run here.
        for (std::size_t step = 0, n = 10 + pick(rng_, 26); step < n; ++step) random_step();
        heal();
        check();
        return std::move(findings_);
    }

private:
    template <class P>
    void add(std::size_t i, Kind kind, P policy, const resync::SessionOptions& options) {
        peers_.push_back(std::make_unique<PeerOf<Store, P>>(i, kind, server_, 101 + 17 * i + rng_() % 1000, findings_,
                                                     std::move(policy), options));
    }
    void add_peer(std::size_t i, Kind kind, const BackupDir& dir, const resync::SessionOptions& options) {
        switch (kind) {
        case Kind::discard_unsynced: return add(i, kind, resync::DiscardUnsynced{}, options);
        case Kind::recover: return add(i, kind, resync::doc::Recover{}, options);
        case Kind::recover_or_discard: return add(i, kind, resync::doc::RecoverOrDiscard{}, options);
        case Kind::recover_all: return add(i, kind, resync::doc::RecoverAll{}, options);
        case Kind::manual: return add(i, kind, resync::Manual{resync::backup::File{dir.path() / "manual"}}, options);
        }
    }

    void note(const std::string& what) {
        if (trace_) events_.push_back(what);
    }

    // ------------------------------------------------------------------ steps

    void local_write(Peer& p) {
        const std::string tag = "t" + std::to_string(p.index) + "_" + std::to_string(p.ledger.writes.size() + 1);
        std::string edits;
        auto v = p.store.write([&](doc::Writer& w) {
            w.create(tags, tag);
            if (chance(rng_, 0.5)) w.set(tags, tag, "by", doc::Value{static_cast<std::int64_t>(p.index)});
            for (std::size_t i = pick(rng_, 4); i-- > 0;) random_edit(w, rng_);
        });
        if (!v || *v == 0) {
            findings_.add(p.who() + ": a local write failed");
            return;
        }
        p.ledger.writes.push_back(tag);
        ++coverage_.writes;
        if (p.state() == SessionState::resetting) ++coverage_.writes_during_reset;
        if (trace_) {
            const auto unsynced = p.store.unsynced();
            for (const auto& op : unsynced.back().ops) edits += " " + text_of(op);
            note(p.who() + " writes v" + std::to_string(*v) + " " + tag + ":" + edits + " [" +
                 std::string(resync::to_string(p.state())) + "]");
        }
    }

    void poll(Peer& p) {
        const SessionState before = p.state();
        const SessionState s = p.poll();
        if (trace_ && s != before)
            note(p.who() + " " + std::string(resync::to_string(before)) + " -> " + std::string(resync::to_string(s)));
        if (s == SessionState::awaiting_user) user_looks(p, chance(rng_, 0.5));
    }

    /// The application sees a waiting manual reset: the first time, it checks the backup file
    /// holds everything not yet synced; it executes the reset now or later.
    void user_looks(Peer& p, bool execute) {
        if (!p.request_checked) {
            p.request_checked = true;
            ++coverage_.backups_checked;
            const auto request = p.pending_request();
            if (!request) {
                findings_.add(p.who() + ": waits for the user but has no pending request");
                return;
            }
            auto backup = resync_test::read_backup<Store>(request->backup_path);
            if (!backup) {
                findings_.add(p.who() + ": the backup file '" + request->backup_path +
                              "' cannot be read: " + backup.error().message());
            } else {
                if (backup->unsynced != p.store.unsynced())
                    findings_.add(p.who() + ": the backup file holds " + std::to_string(backup->unsynced.size()) +
                                  " unsynced changesets, the store " + std::to_string(p.store.unsynced().size()));
                if (!(backup->state == p.store.state())) findings_.add(p.who() + ": the backup file's state is not the store's");
                for (const auto& cs : backup->unsynced)
                    if (auto t = tag_of(cs)) p.ledger.backed_up.insert(*t);
            }
        }
        if (!execute) return;
        note(p.who() + " user executes the reset");
        if (auto ec = p.execute_reset()) findings_.add(p.who() + ": execute_reset failed: " + ec.message());
        p.request_checked = false;
        ++coverage_.manual_executions;
    }

    void random_step() {
        Peer& p = *peers_[pick(rng_, peers_.size())];
        const std::size_t roll = pick(rng_, 100);
        if (roll < 28) {
            local_write(p);
        } else if (roll < 80) {
            for (std::size_t i = 1 + pick(rng_, 3); i-- > 0;) poll(p);
        } else if (roll < 87) {
            if (p.link.connected()) p.link.go_offline();
            else p.link.go_online();
            note(p.who() + (p.link.connected() ? " online" : " offline"));
        } else if (roll < 96) {
            auto& f = p.link.faults();
            switch (pick(rng_, 5)) {
            case 0: ++f.lose_acks; break;
            case 1: ++f.drop_to_server; break;
            case 2: ++f.drop_to_client; break;
            case 3: ++f.duplicate_to_client; break;
            default: ++f.delay_to_client; break;
            }
        } else {
            admin_write();
        }
    }

    void admin_write() {
        doc::Changeset ops;
        for (std::size_t i = 1 + pick(rng_, 2); i-- > 0;) ops.push_back(admin_edit(rng_, admin_seq_));
        if (trace_) {
            std::string s;
            for (const auto& op : ops) s += " " + text_of(op);
            note("server write:" + s);
        }
        server_.write(std::move(ops));
    }

    std::set<std::string> server_tags() const {
        std::set<std::string> out;
        if (auto c = server_.state().collections.find(tags); c != server_.state().collections.end())
            for (const auto& [key, obj] : c->second) out.insert(key);
        return out;
    }

    void apply_cause() {
        note(std::string("cause: ") + name(cause_) + " at server v" + std::to_string(server_.latest().version));
        switch (cause_) {
        case Cause::rollback:
        case Cause::divergence: {
            const auto before = server_tags();
            server_.restore(*backup_);
            const auto after = server_tags();
            for (const auto& t : before)
                if (!after.contains(t)) lost_by_restore_.insert(t);
            if (cause_ == Cause::divergence) {
                // New history past every client's cursor, so the salts there differ.
                std::uint64_t furthest = 0;
                for (const auto& p : peers_) furthest = std::max(furthest, p->store.sync_state().download.version);
                while (server_.latest().version <= furthest + pick(rng_, 2)) admin_write();
            }
            break;
        }
        case Cause::terminate:
            server_.terminate_and_reenable();
            if (chance(rng_, 0.3)) retype();
            break;
        case Cause::schema:
            server_.change_schema([this](doc::State& s) {
                const bool lists_too = chance(rng_, 0.5);
                for (auto& [key, obj] : s.collections[items]) {
                    if (auto n = obj.find("n"); n != obj.end())
                        if (const auto* i = std::get_if<std::int64_t>(&n->second)) n->second = std::to_string(*i);
                    if (auto l = obj.find("l"); lists_too && l != obj.end())
                        if (const auto* list = std::get_if<doc::List>(&l->second))
                            l->second = static_cast<std::int64_t>(list->elements.size());
                }
            });
            break;
        case Cause::compact:
            admin_write();
            server_.compact(server_.latest().version);
            break;
        case Cause::forget: {
            bool any = false;
            for (auto& p : peers_)
                if (p->store.sync_state().client_ident != 0 && (chance(rng_, 0.6) || (!any && p == peers_.back()))) {
                    server_.forget_client(p->store.sync_state().client_ident);
                    any = true;
                }
            break;
        }
        case Cause::error_reset:
        case Cause::error_no_recovery: {
            static constexpr int codes[] = {resync::server_code::bad_client_file_ident,
                                            resync::server_code::bad_server_version,
                                            resync::server_code::diverging_histories,
                                            resync::server_code::client_file_expired,
                                            resync::server_code::bad_client_file, 299};
            const auto action =
                cause_ == Cause::error_reset ? resync::ServerAction::reset : resync::ServerAction::reset_no_recovery;
            for (auto& p : peers_)
                if (chance(rng_, 0.7))
                    server_.inject_error(resync::ServerError{codes[pick(rng_, std::size(codes))], action, "injected"},
                                         p->store.sync_state().client_ident);
            if (chance(rng_, 0.3)) retype();
            break;
        }
        }
    }

    /// A server-side write that changes the type of a field clients write: recovery of a local
    /// integer write onto it must fail into the strategy's fallback.
    void retype() {
        doc::Changeset ops;
        for (int k = 0; k < 3; ++k)
            ops.push_back(doc::SetField{items, "k" + std::to_string(k), "n", doc::Value{std::string("retyped")}});
        note("server write: retype items/*.n");
        server_.write(std::move(ops));
    }

    // ------------------------------------------------------------------ heal and check

    /// Faults off, everyone online, sync everyone until idle, several rounds; a waiting manual
    /// reset is checked and executed by the user. Property 3: this ends, within bounded polls.
    void heal() {
        note("heal");
        for (auto& p : peers_) {
            p->link.faults() = {};
            p->link.go_online();
        }
        constexpr int max_rounds = 12;
        for (int round = 0; round < max_rounds; ++round) {
            const auto latest = server_.latest();
            bool all_idle = true;
            for (auto& p : peers_) {
                SessionState s = p->run_until_idle(4000);
                for (int i = 0; i < 4 && s == SessionState::awaiting_user; ++i) {
                    user_looks(*p, true);
                    s = p->run_until_idle(4000);
                }
                if (s == SessionState::stopped) {
                    findings_.add(p->who() + ": stopped: " + p->last_error().message());
                    return;
                }
                all_idle = all_idle && p->idle();
            }
            if (all_idle && server_.latest() == latest) {
                for (auto& p : peers_) all_idle = all_idle && p->idle();
                if (all_idle) return;
            }
        }
        for (auto& p : peers_)
            if (!p->idle())
                findings_.add(p->who() + ": not idle after " + std::to_string(max_rounds) + " rounds of healing: " +
                              std::string(resync::to_string(p->state())) + ", " +
                              std::to_string(p->store.unsynced().size()) + " unsynced, pending reset: " +
                              (p->store.sync_state().pending_reset ? "yes" : "no") + ", last error: " +
                              p->last_error().message());
    }

    void check() {
        const doc::State& server_state = server_.state();
        // Property 4: convergence.
        for (auto& p : peers_) {
            if (!(p->store.state() == server_state))
                findings_.add(p->who() + ": does not converge to the server\nclient:\n" +
                              resync_test::to_text(p->store.state()) + "server:\n" + resync_test::to_text(server_state));
            if (!p->store.unsynced().empty()) findings_.add(p->who() + ": still has unsynced changes");
            if (p->store.sync_state().pending_reset) findings_.add(p->who() + ": the pending-reset record never cleared");
            if (p->resets_completed() > 6)
                findings_.add(p->who() + ": " + std::to_string(p->resets_completed()) + " resets for one cause");
        }
        if (keeps_history(cause_) && !(resync_test::replay_history(server_) == server_state))
            findings_.add("the server's state is not what its history says");
        // Integrated once: no changeset twice under one key, and no write twice under two keys
        // (a reset replaying a change the server already had, its acknowledgement lost).
        std::set<std::pair<resync::ClientIdent, resync::ClientVersion>> integrated;
        std::set<std::string> written;
        for (const auto& e : server_.history()) {
            if (e.origin != 0 && !integrated.insert({e.origin, e.client_version}).second)
                findings_.add("client " + std::to_string(e.origin) + " v" + std::to_string(e.client_version) +
                              " was integrated twice");
            if (e.origin == 0) continue;
            const resync::LocalChangeset<doc::Operation> cs{e.client_version, e.server_version, e.ops};
            if (auto t = tag_of(cs); t && !written.insert(*t).second)
                findings_.add("write " + *t + " was integrated twice, the second time as client " +
                              std::to_string(e.origin) + " v" + std::to_string(e.client_version));
        }

        // Properties 1 and 2: every write is on the server, or in a report (or the backup), or -
        // only when a restore lost it after the server had acknowledged it, under a strategy that
        // does not recover acknowledged changes - lost the documented way.
        const auto on_server = server_tags();
        for (auto& p : peers_) {
            for (const auto& r : p->ledger.reports) {
                ++coverage_.resets_by_kind[p->kind];
                ++coverage_.reasons[r.trigger.reason];
                coverage_.lost_acknowledged += r.lost_acknowledged;
                coverage_.fallbacks += r.mode_used != r.mode_requested;
                for (const auto& o : r.operations) ++coverage_.fates[o.fate];
            }
            for (const auto& t : p->ledger.writes) {
                if (on_server.contains(t)) {
                    ++coverage_.writes_on_server;
                    coverage_.writes_healed += p->ledger.recovered_lost_ack.contains(t);
                    continue;
                }
                if (p->ledger.reported.contains(t) || p->ledger.backed_up.contains(t)) {
                    ++coverage_.writes_reported_only;
                    continue;
                }
                const bool lost_by_restore = lost_by_restore_.contains(t);
                const bool acked = p->ledger.acked_at_reset.contains(t);
                if (lost_by_restore && acked && p->kind != Kind::recover_all) {
                    ++coverage_.writes_lost_by_restore;
                    continue;
                }
                std::string why = p->who() + ": write " + t + " is neither on the server nor in a report";
                if (lost_by_restore) why += "; the restore lost it after the server had integrated it";
                if (acked) why += "; it was acknowledged when a reset began";
                else if (lost_by_restore) why += "; the client never reset while it was acknowledged";
                if (p->ledger.recovered_lost_ack.contains(t)) why += "; a reset recovered it as lost-acknowledged";
                why += "; resets: " + std::to_string(p->ledger.reports.size());
                for (const auto& r : p->ledger.reports)
                    why += " [" + std::string(resync::to_string(r.trigger.reason)) + ", " +
                           std::string(resync::to_string(r.mode_used)) + ", attempt " + std::to_string(r.attempt) +
                           (r.detail.empty() ? std::string() : ": " + r.detail) + "]";
                findings_.add(why);
            }
        }
    }

    Rng rng_;
    resync::testing::Server<resync::doc::Model> server_;
    Coverage& coverage_;
    bool trace_;
    Findings findings_;
    std::vector<std::unique_ptr<Peer>> peers_;
    Cause cause_ = Cause::rollback;
    std::optional<resync::testing::Server<resync::doc::Model>::Backup> backup_;
    std::set<std::string> lost_by_restore_;
    std::uint64_t admin_seq_ = 1;
    std::vector<std::string> events_;
};

template <class K>
std::size_t count(const std::map<K, std::size_t>& m, K key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
}

/// Runs `cases` cases from `seed` (or, with RESYNC_PROPERTY_CASE=<n> in the environment, only case
/// n, traced) and fails with the seed, case number, setup and findings of the first few failures.
template <class Store>
Coverage run_cases(std::uint64_t seed, std::size_t cases, const Plan& plan) {
    BackupDir dir;
    Coverage coverage;
    std::size_t first = 0, last = cases;
    bool trace = false;
    if (const char* only = std::getenv("RESYNC_PROPERTY_CASE")) {
        first = static_cast<std::size_t>(std::strtoull(only, nullptr, 10));
        last = first + 1;
        trace = true;
    }
    std::size_t failures = 0;
    std::ostringstream summary;
    for (std::size_t n = first; n < last; ++n) {
        Case<Store> c(seed + n, plan, dir, coverage, trace);
        const Findings findings = c.run();
        if (findings.messages.empty() && !trace) continue;
        std::ostringstream text;
        text << "seed " << seed << ", case " << n << " (" << c.setup() << ")\n";
        for (const auto& m : findings.messages) text << "  - " << m << "\n";
        if (trace) {
            text << "trace:\n";
            for (const auto& e : c.trace()) text << "    " << e << "\n";
        }
        if (findings.messages.empty()) {
            WARN(text.str());
            continue;
        }
        // The first few failing cases in full; the rest in a line each.
        if (++failures <= 3) FAIL_CHECK(text.str() << "(rerun with RESYNC_PROPERTY_CASE=" << n << " for a trace)");
        else summary << "  case " << n << " (" << c.setup() << "): " << findings.messages.front().substr(0, 160) << "\n";
    }
    INFO(failures << " of " << last - first << " cases failed\n" << summary.str());
    CHECK(failures == 0);
    coverage.failed_cases = failures;
    return coverage;
}

/// How many random histories a property test runs on store S, given how many it runs on
/// MemoryStore. A SqliteStore case opens two or three database files and commits a transaction
/// for every write, acknowledgement, download and reset step: about 7 times slower (Debug: 37 ms
/// a case against 5.5 ms). So that SQLite's share of the suite's time stays bounded (CI has 30
/// minutes on 2 cores for everything), it runs the first tenth of the same histories (the same
/// seeds): 150 + 50 cases, about 7 s. RESYNC_PROPERTY_FULL=1 in the environment runs every case
/// on every store (a longer hunt, by hand). The coverage floors below scale with the cases run.
template <class S>
std::size_t cases_on(std::size_t memory_cases) {
    if (std::is_same_v<S, resync::MemoryStore> || std::getenv("RESYNC_PROPERTY_FULL")) return memory_cases;
    return memory_cases / 10;
}

/// A coverage floor, given for `per` cases, for a run of `cases` cases.
inline std::size_t floor_for(std::size_t floor, std::size_t per, std::size_t cases) { return floor * cases / per; }

} // namespace

TEMPLATE_LIST_TEST_CASE("over thousands of random histories, reset causes and strategies no unsynced change disappears "
                        "silently, every reset terminates and every replica converges to the server",
                        "[scenario][recovery][property][slow]", resync_test::ScenarioStores) {
    constexpr std::uint64_t seed = 20250301;
    const std::size_t cases = cases_on<TestType>(1500);
    const Coverage c = run_cases<TestType>(seed, cases, Plan{});
    if (std::getenv("RESYNC_PROPERTY_CASE") || c.failed_cases != 0) return;
    const auto at_least = [&](std::size_t floor_per_1500) { return floor_for(floor_per_1500, 1500, cases); };

    // The properties were exercised, not vacuously true.
    INFO("writes " << c.writes << ", on server " << c.writes_on_server << ", reported only " << c.writes_reported_only
                   << ", lost by restore " << c.writes_lost_by_restore << ", during a reset " << c.writes_during_reset);
    for (const Cause cause : all_causes) {
        INFO(name(cause));
        CHECK(count(c.cases_by_cause, cause) > at_least(100));
    }
    for (const Kind kind : all_kinds) {
        INFO(name(kind));
        CHECK(count(c.resets_by_kind, kind) > at_least(200));
    }
    for (const auto fate : {resync::OperationFate::recovered, resync::OperationFate::transformed,
                            resync::OperationFate::quarantined, resync::OperationFate::discarded}) {
        INFO(resync::to_string(fate));
        CHECK(count(c.fates, fate) > 0);
    }
    CHECK(c.reasons.size() == 7); // every reset reason occurred
    CHECK(c.manual_executions > at_least(200));
    CHECK(c.backups_checked > at_least(200));
    CHECK(c.fallbacks > at_least(200));
    CHECK(c.writes_reported_only > at_least(1000));
    // What a restore lost after the server had acknowledged it is reported (lost on server) and
    // kept, under every strategy: none is lost the silent way Realm's recovery loses it.
    CHECK(c.writes_lost_by_restore == 0);
    CHECK(count(c.fates, resync::OperationFate::lost_on_server) > at_least(100));
    CHECK(c.writes_during_reset > at_least(100));
    CHECK(c.lost_acknowledged > at_least(20));
}

TEMPLATE_LIST_TEST_CASE("over random histories on a server restored within its epoch, a RecoverAll client gets every "
                        "change it ever made, acknowledged or not, back onto the server or into a report",
                        "[scenario][recovery][property][recover-all][slow]", resync_test::ScenarioStores) {
    constexpr std::uint64_t seed = 20250302;
    const std::size_t cases = cases_on<TestType>(500);
    Plan plan;
    plan.causes = {Cause::rollback, Cause::divergence};
    plan.first_client_recovers_all = true;
    const Coverage c = run_cases<TestType>(seed, cases, plan);
    if (std::getenv("RESYNC_PROPERTY_CASE") || c.failed_cases != 0) return;
    const auto at_least = [&](std::size_t floor_per_500) { return floor_for(floor_per_500, 500, cases); };
    INFO("writes " << c.writes << ", on server " << c.writes_on_server << ", reported only " << c.writes_reported_only
                   << ", lost by restore " << c.writes_lost_by_restore << ", healed " << c.writes_healed);
    CHECK(count(c.resets_by_kind, Kind::recover_all) > at_least(200));
    CHECK(c.lost_acknowledged > at_least(100));
    CHECK(c.writes_healed > at_least(100));
}

// ---------------------------------------------------------------------------- minimized cases
//
// Each failure the property test found, reduced to a few deterministic steps.

namespace {

using resync_test::num;
using resync_test::Replica;

/// Polls `r` until `done()` holds, at most `max` times; returns whether it came to hold.
template <class R, class F>
bool poll_replica_until(R& r, F done, int max = 200) {
    for (int i = 0; i < max; ++i) {
        if (done()) return true;
        r.session().poll();
    }
    return done();
}

/// Brings a synced client to where its last write is acknowledged but not yet downloaded: the
/// upload goes out and is answered, then the link drops before any download brings it back.
template <class P, class S>
void acknowledged_not_downloaded(Replica<P, resync_test::Loopback, S>& a) {
    const auto cursor = a.store.sync_state().download;
    REQUIRE(poll_replica_until(a, [&] { return a.store.unsynced().empty(); }));
    a.link().go_offline();
    REQUIRE(a.store.acknowledged_after(cursor.version).size() == 1);
    REQUIRE(a.store.sync_state().download == cursor);
}

} // namespace

TEMPLATE_LIST_TEST_CASE("a local write made while a reset downloads its fresh copy is recovered or reported, never dropped unseen",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    resync::SessionOptions options;
    options.fresh_chunk_bytes = 8; // the copy arrives over many polls
    Replica<resync::doc::RecoverOrDiscard, resync_test::Loopback, S> a(server, {}, options);
    a.put("items", "kept", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    std::vector<resync::ResetReport> reports;
    a.session().on_after_reset([&](const doc::State*, const S&, const resync::ResetReport& r) {
        reports.push_back(r);
    });

    server.forget_client(a.ident());
    a.put("items", "before", "n", num(2));
    REQUIRE(poll_replica_until(a, [&] { return a.session().state() == SessionState::resetting; }));
    a.put("items", "during", "n", num(3)); // the reset is fetching: the store is still the application's
    REQUIRE(a.session().state() == SessionState::resetting);
    REQUIRE(a.sync() == SessionState::syncing);

    REQUIRE(reports.size() == 1);
    CHECK(reports[0].unsynced_changesets == 2);
    CHECK(reports[0].operations.size() == 4);
    CHECK(reports[0].count(resync::OperationFate::recovered) == 4);
    CHECK(server.state().find("items", "during") != nullptr);
    CHECK(server.state().find("items", "before") != nullptr);
    CHECK(a.store.state() == server.state());
}

using Cases1 = resync_test::OnEveryStore<resync::DiscardUnsynced, resync::doc::RecoverAll>;

TEMPLATE_LIST_TEST_CASE("a restore that loses acknowledged changes the client has not downloaded yet is detected, and "
                        "the client converges (RecoverAll puts the changes back)",
                        "[scenario][recovery][property][regression]", Cases1) {
    using P = typename TestType::policy;
    using S = typename TestType::store;
    resync::testing::Server<resync::doc::Model> server;
    Replica<P, resync_test::Loopback, S> a(server);
    a.put("items", "kept", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "lost", "n", num(2));
    acknowledged_not_downloaded(a);
    server.restore(backup);
    // The client's download cursor is exactly where the restored server stands: only the server
    // can tell that it lost what it acknowledged.
    REQUIRE(a.store.sync_state().download == server.latest());

    a.link().go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.server_error.code == resync::server_code::bad_client_version);
    CHECK(a.session().last_report()->trigger.reason == resync::ResetReason::diverging_history);
    CHECK(a.store.state() == server.state());
    if constexpr (std::is_same_v<P, resync::doc::RecoverAll>) {
        CHECK(a.session().last_report()->lost_acknowledged == 1);
        CHECK(server.state().get("items", "lost", "n") == num(2));
    } else {
        CHECK(server.state().find("items", "lost") == nullptr);
    }
}

TEMPLATE_LIST_TEST_CASE("under RecoverAll an acknowledged change the restored server replaced with a server-side write at its "
                        "version is recovered, not mistaken for a compacted one",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::doc::RecoverAll, resync_test::Loopback, S> a(server);
    a.put("items", "kept", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "lost", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    server.restore(backup);
    // A server-side write (origin 0) now sits at the lost change's version, and one more past it.
    server.write({doc::CreateObject{"items", "admin"}});
    server.write({doc::SetField{"items", "admin", "n", num(7)}});

    a.link().go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == resync::ResetReason::diverging_history);
    CHECK(a.session().last_report()->lost_acknowledged == 1);
    CHECK(server.state().get("items", "lost", "n") == num(2));
    CHECK(server.state().get("items", "admin", "n") == num(7));
    CHECK(a.store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("under RecoverAll the lost acknowledged changes are found even when the server moves on while the fresh "
                        "copy is downloaded and the copy starts over",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    resync::SessionOptions options;
    options.fresh_chunk_bytes = 8;
    Replica<resync::doc::RecoverAll, resync_test::Loopback, S> a(server, {}, options);
    a.put("items", "kept", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "lost", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    server.restore(backup);
    std::uint64_t fetched = 0;
    a.session().on_progress([&](const resync::Progress& p) { fetched = p.done; });

    REQUIRE(poll_replica_until(a, [&] { return fetched > 0; }));
    server.write({doc::CreateObject{"items", "meanwhile"}}); // the copy being fetched is outdated now
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == resync::ResetReason::server_rollback);
    CHECK(a.session().last_report()->lost_acknowledged == 1);
    CHECK(server.state().get("items", "lost", "n") == num(2));
    CHECK(server.state().find("items", "meanwhile") != nullptr);
    CHECK(a.store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("under RecoverAll a server restored to before the client registered gets the client's acknowledged "
                        "changes back",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    server.write({doc::CreateObject{"items", "kept"}});
    const auto backup = server.backup(); // the client is not registered yet
    Replica<resync::doc::RecoverAll, resync_test::Loopback, S> a(server);
    a.put("items", "lost", "n", num(2));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    server.restore(backup);

    a.link().go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    REQUIRE(a.session().last_report().has_value());
    CHECK(a.session().last_report()->trigger.reason == resync::ResetReason::client_unknown);
    CHECK(a.session().last_report()->lost_acknowledged == 1);
    CHECK(server.state().get("items", "lost", "n") == num(2));
    CHECK(a.store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("under RecoverAll a recovery that fails into the discard fallback reports the lost acknowledged changes "
                        "it discards",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::doc::RecoverAll, resync_test::Loopback, S> a(server);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    const auto backup = server.backup();
    a.put("items", "one", "n", num(2)); // acknowledged, then lost by the restore
    REQUIRE(a.sync() == SessionState::syncing);
    const resync::ClientVersion lost = a.store.last_client_version();
    a.link().go_offline();
    server.restore(backup);
    // The restored server moves on and changes the field's type: replaying the integer write
    // fails recovery, and the strategy discards.
    server.write({doc::SetField{"items", "one", "n", doc::Value{std::string("text")}}});
    server.write({doc::CreateObject{"items", "two"}});

    a.link().go_online();
    REQUIRE(a.sync() == SessionState::syncing);
    const auto& report = a.session().last_report();
    REQUIRE(report.has_value());
    CHECK(report->mode_requested == resync::ResetMode::recover);
    CHECK(report->mode_used == resync::ResetMode::discard);
    std::size_t accounted = 0;
    for (const auto& o : report->operations)
        if (o.client_version == lost) {
            ++accounted;
            CHECK(o.fate == resync::OperationFate::lost_on_server);
            CHECK_FALSE(o.reason.empty());
        }
    CHECK(accounted == 2); // create and set
    CHECK(a.store.state() == server.state());
}

TEMPLATE_LIST_TEST_CASE("a duplicated error answering a reconnecting client's Hello does not bind the connection: the reset "
                        "completes and the session never stops on a protocol violation",
                        "[scenario][recovery][property][regression]", resync_test::ScenarioStores) {
    using S = TestType;
    resync::testing::Server<resync::doc::Model> server;
    Replica<resync::DiscardUnsynced, resync_test::Loopback, S> a(server);
    a.put("items", "one", "n", num(1));
    REQUIRE(a.sync() == SessionState::syncing);
    a.link().go_offline();
    // The error replaces the server's answer to the Hello (so the server never binds the
    // connection), and the link delivers it twice.
    server.inject_error(resync::ServerError{resync::server_code::bad_client_file_ident, resync::ServerAction::reset,
                                            "injected"},
                        a.ident());
    a.link().faults().duplicate_to_client = 1;
    a.put("items", "two", "n", num(2));

    a.link().go_online();
    CHECK(a.sync() == SessionState::syncing);
    CHECK(a.session().resets_completed() == 1);
    CHECK(a.session().last_error() != resync::errc::protocol_violation);
    CHECK(a.store.state() == server.state());
}

} // namespace RESYNC_TEST_FILE
