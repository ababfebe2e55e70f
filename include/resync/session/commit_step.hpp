#pragma once
/// \file
/// Phases 6 and 7 of a reset: the one atomic commit, and the notification after it.
///
/// Before the commit, the keeping rule: every local operation the commit does not carry forward
/// (discarded, dropped, or acknowledged once and lost by the server) must already be in durable
/// storage the user can read back - the backup file this attempt made, when it holds it - or it
/// goes into the store's quarantine (in the commit's own transaction), or into a backup file
/// written now. Only an explicit opt-out (`SessionOptions::discard_unkept`) lets a reset go on
/// without; otherwise the session stops with a typed error and nothing is touched.

#include <resync/backup/file_format.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/detail/atomic_file.hpp>
#include <resync/quarantine.hpp>
#include <resync/recover/none.hpp>
#include <resync/session/core.hpp>
#include <resync/session/fetch_step.hpp>
#include <resync/session/recover_step.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace resync::session {

/// Takes in the local writes made since the attempt accounted its unsynced changes (while the
/// copy was fetched or recovered): a recovering attempt recovers them too (back to the recover
/// stage, true), a discarding one discards them with the rest. Returns true when the recovery
/// has more to do first.
template <class S, class T, class P>
bool take_in_new_writes(Core<S, T, P>& c) {
    auto& r = *c.run;
    std::vector<LocalChangeset<operation_of<S>>> newer;
    for (auto& cs : c.store.unsynced())
        if (cs.client_version > r.accounted_upto) newer.push_back(std::move(cs));
    if (newer.empty()) return false;
    r.accounted_upto = newer.back().client_version;
    count_unsynced(r.report, newer);
    const bool recovering = r.record.mode == ResetMode::recover && !r.recovered;
    for (auto& cs : newer) {
        if (recovering) r.recovery.add(cs);
        r.unsynced.push_back(std::move(cs));
    }
    if (recovering) {
        r.stage = Stage::recover;
        return true;
    }
    discard_all(c);
    return false;
}

/// The operations the commit does not carry forward, by changeset, and whether the attempt's
/// backup file already holds each.
template <class Op>
struct NotCarried {
    struct Entry {
        const LocalChangeset<Op>* changeset = nullptr;
        OperationOutcome* outcome = nullptr;
        bool in_backup = false;
    };
    std::vector<Entry> entries;
};

/// Applies the keeping rule (see the file comment). Fills `quarantine` for the store's quarantine;
/// may write a keeping file. A failure leaves everything untouched.
template <class S, class T, class P>
std::optional<StepFailure> keep_what_is_not_carried(Core<S, T, P>& c,
                                                     std::vector<QuarantinedOperation<operation_of<S>>>& quarantine) {
    using Op = operation_of<S>;
    auto& r = *c.run;
    std::map<ClientVersion, const LocalChangeset<Op>*> unsynced, lost;
    for (const auto& cs : r.unsynced) unsynced.emplace(cs.client_version, &cs);
    for (const auto& cs : r.lost) lost.emplace(cs.client_version, &cs);
    NotCarried<Op> not_carried;
    auto consider = [&](OperationOutcome& o) {
        if (o.fate != OperationFate::lost_on_server && o.fate != OperationFate::discarded &&
            o.fate != OperationFate::dropped)
            return;
        // An unsynced change, or an acknowledged one the server lost (RebaseAll recovers those
        // too, and may drop some): only the unsynced ones can be in the backup file.
        const bool unsynced_one = o.fate != OperationFate::lost_on_server && unsynced.contains(o.client_version);
        const auto& from = unsynced_one ? unsynced : lost;
        auto it = from.find(o.client_version);
        if (it == from.end() || o.index >= it->second->ops.size()) return;
        const bool in_backup = unsynced_one && r.record.backup_keeps_unsynced && o.client_version <= r.record.backed_up_upto;
        not_carried.entries.push_back({it->second, &o, in_backup});
    };
    for (auto& o : r.report.operations) consider(o);
    for (auto& o : r.recovered->outcomes) consider(o);
    if (not_carried.entries.empty()) return std::nullopt;

    const auto at_ms = c.now_ms();
    if constexpr (store_requirements::keeps_quarantine<S>) {
        // The store's quarantine, in the commit's transaction: dropped operations always (to be
        // retried or exported), the others when no backup file holds them.
        for (auto& e : not_carried.entries) {
            if (e.in_backup && e.outcome->fate != OperationFate::dropped) continue;
            quarantine.push_back({e.changeset->client_version, e.outcome->index, e.changeset->ops[e.outcome->index],
                                  e.outcome->reason, r.trigger.reason, at_ms});
            // What the server lost keeps saying so; the others are now in the quarantine.
            if (e.outcome->fate == OperationFate::lost_on_server) e.outcome->reason += " (kept in the store's quarantine)";
            else e.outcome->fate = OperationFate::quarantined;
            e.in_backup = true;
        }
    }
    std::vector<LocalChangeset<Op>> to_file;
    for (auto& e : not_carried.entries) {
        if (e.in_backup) continue;
        if (to_file.empty() || to_file.back().client_version != e.changeset->client_version)
            to_file.push_back(LocalChangeset<Op>{e.changeset->client_version, e.changeset->server_version, {}});
        to_file.back().ops.push_back(e.changeset->ops[e.outcome->index]);
    }
    if (to_file.empty()) return std::nullopt;
    const std::string dir = c.backup_directory();
    if (dir.empty()) {
        if (c.options.discard_unkept) {
            for (auto& e : not_carried.entries)
                if (!e.in_backup) e.outcome->reason += " (not kept: SessionOptions::discard_unkept)";
            return std::nullopt;
        }
        return StepFailure{ResetPhase::commit, make_error_code(errc::no_backup_directory),
                           "the reset would discard " + std::to_string(not_carried.entries.size()) +
                               " local operations that nothing durable holds",
                           true};
    }
    // A backup file of the state as it is and the operations not carried forward.
    BackupContents<model_of<S>> b;
    b.created_at_ms = at_ms;
    b.sync_state = c.store.sync_state();
    b.sync_state.pending_reset.reset();
    b.trigger = r.trigger;
    b.state = c.store.export_snapshot();
    b.unsynced = std::move(to_file);
    auto path = detail::write_new_file_durably(dir, "resync-kept-" + std::to_string(b.sync_state.client_ident),
                                               backup_format::extension, backup_format::encode<model_of<S>>(b),
                                               c.file_hook());
    if (!path) return failure(ResetPhase::commit, path.error(), "keeping the discarded operations in " + dir);
    r.report.keeping_location = *path;
    for (auto& e : not_carried.entries)
        if (!e.in_backup) e.outcome->reason += " (kept in " + *path + ")";
    return std::nullopt;
}

/// Hands what a committed reset replaced to the session's deferred release, freed over the
/// following polls (session/sync_loop.hpp) - or frees it now when the application chose so
/// (`SessionOptions::release_replaced_state_at_once`), or when it cannot be held.
template <class S, class T, class P>
void release_later(Core<S, T, P>& c, std::optional<snapshot_of<S>>& replaced) {
    if (!replaced) return;
    if (!c.options.release_replaced_state_at_once)
        (void)c.guarded(ResetPhase::notify, errc::store_failure, [&] {
            c.replaced.hold(std::move(*replaced));
            return std::error_code{};
        });
    replaced.reset();
}

/// Phase 6 and 7: the commit - one atomic store transaction that makes the live state equal the
/// staged copy, installs the recovered history, adopts the new ident, epoch and cursors and
/// records the commit - then the after-reset callback, and the checkpoint that says it ran. What
/// the commit replaced is freed over the following polls (`release_later`), not here.
/// Returns true when the reset committed (`c.run` is gone then).
template <class S, class T, class P>
std::optional<StepFailure> commit_step(Core<S, T, P>& c, bool& committed) {
    using Op = operation_of<S>;
    using Snap = snapshot_of<S>;
    committed = false;
    auto& r = *c.run;
    if (take_in_new_writes(c)) return std::nullopt;
    if (auto failed = finish_recovery(c)) return failed;
    if (!c.run) return std::nullopt; // the fallback is manual: the attempt waits for the application

    // Notify before: the store is still untouched.
    if (c.before) {
        if (auto e = c.guarded(ResetPhase::notify, errc::callback_failed, [&] {
                c.before(r.trigger, c.store);
                return std::error_code{};
            }))
            return StepFailure{ResetPhase::notify, e, "the before-reset callback"};
    }

    c.begin_phase();
    std::vector<QuarantinedOperation<Op>> quarantine;
    if (auto failed = keep_what_is_not_carried(c, quarantine)) return failed;

    std::optional<Snap> before_copy;
    using D = typename P::discard_type;
    constexpr bool stages = store_stages<S>;
    static_assert(!stages || discard_requirements::commits_staged<D, S>,
                  "resync::SyncSession: the store stages its fresh copies (cap::fresh_copy_staging), so the "
                  "discard policy must provide `commit_staged(S& store, resync::StagedResetCommit<operation_type>&&)` "
                  "(discard::Replace and discard::Diff do)");
    // The before-state comes back from the commit when the policy can hand it back without a
    // copy (Replace moves it aside, Diff on a store that keeps it); otherwise copy it now. A
    // store that stages its copies commits in place: a policy that keeps the before-state in
    // memory gets a copy (the one place such a reset reads the whole state).
    constexpr bool keeps_before = P::backup_type::keeps_before_state;
    constexpr bool commit_keeps_before = !stages && discard_requirements::commits_keeping_before<D, S>;
    if constexpr (keeps_before && !commit_keeps_before) before_copy = c.store.export_snapshot();
    r.report.objects_before = c.object_count();
    auto prepared = prepare_history(c);
    const auto& copy = *r.record.copy;
    SyncState next_sync;
    next_sync.client_ident = copy.new_ident;
    next_sync.download = copy.position;
    next_sync.upload_acked = 0;
    next_sync.epoch = copy.epoch;
    next_sync.schema_version = copy.schema_version;
    PendingReset record = r.record;
    record.phase = ResetPhase::commit;
    record.copy.reset();
    record.staging_path.clear();
    record.lost_acknowledged.clear();
    next_sync.pending_reset = record;
    std::optional<DiscardOutcome<Snap>> outcome;
    if (auto e = c.guarded(ResetPhase::commit, errc::store_failure, [&]() -> std::error_code {
            auto out = [&] {
                if constexpr (stages) {
                    // From the store's staging, in one store transaction: the copy never comes
                    // into memory.
                    StagedResetCommit<Op> commit{std::move(prepared.history), std::move(next_sync), std::move(quarantine)};
                    return c.policy.discard().commit_staged(c.store, std::move(commit));
                } else {
                    reset_commit_of<S> commit{std::move(*r.fresh), std::move(prepared.history), std::move(next_sync),
                                              std::move(quarantine), std::move(prepared.undo)};
                    if constexpr (keeps_before && commit_keeps_before)
                        return c.policy.discard().commit_keeping_before(c.store, std::move(commit));
                    else
                        return c.policy.discard().commit(c.store, std::move(commit));
                }
            }();
            if (!out) return out.error();
            outcome = std::move(*out);
            return {};
        })) {
        // The fresh copy went into the commit: it must be decoded again.
        r.fresh.reset();
        return StepFailure{ResetPhase::commit, e, "committing the reset"};
    }
    c.end_phase(ResetPhase::commit);
    committed = true;
    ++c.resets_completed;
    r.record = record;
    r.staging.remove_file();
    r.report.objects_after = c.object_count();
    r.report.diff = outcome->diff;
    if (!before_copy && keeps_before && outcome->before) before_copy = std::move(outcome->before);

    // Phase 7 - notify after. The commit stands whatever the callback does.
    c.begin_phase();
    r.report.outcome = ResetOutcome::completed;
    r.report.mode_used = r.record.mode;
    r.report.operations.insert(r.report.operations.end(), std::make_move_iterator(r.recovered->outcomes.begin()),
                               std::make_move_iterator(r.recovered->outcomes.end()));
    if (c.after) {
        if (auto e = c.guarded(ResetPhase::notify, errc::callback_failed, [&] {
                c.after(before_copy ? &*before_copy : nullptr, c.store, r.report);
                return std::error_code{};
            }))
            c.report_error(e, "the after-reset callback failed; the reset itself is committed");
    }
    c.end_phase(ResetPhase::notify);
    // Nothing reads what the commit replaced any more (what the keeping rule needs went to a
    // backup file or the quarantine before the commit): freed over the following polls.
    release_later(c, before_copy);
    release_later(c, outcome->before);
    release_later(c, outcome->leftover);
    r.record.phase = ResetPhase::notify;
    if (auto e = c.checkpoint()) c.report_error(e, "recording that the after-reset callback ran");
    c.last_report = std::move(r.report);
    c.run.reset();
    return std::nullopt;
}

} // namespace resync::session
