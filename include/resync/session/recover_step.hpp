#pragma once
/// \file
/// Phase 5 of a reset, recover: the staged copy is decoded, then the local changes the policy
/// selects are re-applied onto it under the recovery rules - both in slices of a bounded number
/// of objects or operations per `poll()`. Nothing here writes: after a restart both are redone
/// from the staged copy. A recovery that fails runs the strategy's fallback in the same attempt.

#include <resync/recover/none.hpp>
#include <resync/session/backup_step.hpp>
#include <resync/session/core.hpp>
#include <resync/session/fetch_step.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace resync::session {

/// Whether the policy re-applies acknowledged changes a rolled-back server lost (`RebaseAll`).
template <class P>
constexpr bool heals_rollbacks() {
    if constexpr (requires { P::recovery_type::includes_lost_acknowledged; })
        return P::recovery_type::includes_lost_acknowledged;
    else
        return false;
}

/// Fills in the model's words for the operations whose fate needs the reader's attention
/// (everything not recovered as it was), found by client version in `lists` of changesets.
template <class M, class Op, class... Lists>
void describe_outcomes(std::vector<OperationOutcome>& outcomes, const Lists&... lists) {
    if constexpr (model_requirements::describes_operations<M>) {
        std::unordered_map<ClientVersion, const LocalChangeset<Op>*> by_version;
        (..., [&] {
            for (const auto& cs : lists) by_version.emplace(cs.client_version, &cs);
        }());
        for (auto& o : outcomes) {
            if (o.fate == OperationFate::recovered || !o.what.empty()) continue;
            auto it = by_version.find(o.client_version);
            if (it != by_version.end() && o.index < it->second->ops.size()) o.what = M::describe(it->second->ops[o.index]);
        }
    } else {
        (void)outcomes;
        (void)sizeof...(lists);
    }
}

/// Decodes up to `work` more objects of the copy in the store's own staging; once whole, the
/// recovery reads it through the store's view.
template <class S, class T, class P>
std::optional<StepFailure> decode_in_store(Core<S, T, P>& c, std::size_t work) {
    auto& r = *c.run;
    auto decoded = c.store.stage_decode(work);
    c.tell_progress(ResetPhase::fetch, ProgressStep::decode, r.report.fresh_copy_bytes, r.report.fresh_copy_bytes,
                    c.store.staged_objects());
    if (!decoded) {
        if (decoded.error() != errc::fresh_copy_corrupt && decoded.error() != errc::fresh_copy_truncated)
            return StepFailure{ResetPhase::fetch, decoded.error(), "decoding the staged fresh copy in the store"};
        // The copy is damaged: fetch it again, up to a bound.
        r.record.phase = std::min(r.record.phase, ResetPhase::backup);
        auto failed = restart_fetch(c, errc::fresh_copy_corrupt, "the fresh copy failed its integrity check");
        if (!failed) begin_fetch(c);
        return failed;
    }
    if (!*decoded) return std::nullopt;
    r.fresh.emplace(c.store.staged_view());
    prepare_recovery(c);
    return std::nullopt;
}

/// Decodes up to `work` more objects of the copy in the session's staging; once whole, prepares
/// the recovery.
template <class S, class T, class P>
std::optional<StepFailure> decode_in_session(Core<S, T, P>& c, std::size_t work) {
    auto& r = *c.run;
    const std::size_t objects_before = r.decoding.objects();
    auto damaged = [&]() -> std::optional<StepFailure> {
        // The copy is damaged (or the staging file was): fetch it again, up to a bound.
        r.decoding = Decoding<model_of<S>>{};
        r.decoded_bytes = 0;
        r.record.phase = std::min(r.record.phase, ResetPhase::backup);
        auto failed = restart_fetch(c, errc::fresh_copy_corrupt, "the fresh copy failed its integrity check");
        if (!failed) begin_fetch(c);
        return failed;
    };
    // What this slice did, told once it ends (each slice of a budgeted reset is one poll).
    struct Tell {
        Core<S, T, P>& c;
        ~Tell() {
            if (!c.run || c.run->stage != Stage::decode) return;
            auto& r = *c.run;
            c.tell_progress(ResetPhase::fetch, ProgressStep::decode, r.decoded_bytes, r.report.fresh_copy_bytes,
                            r.decoding.objects());
        }
    } tell{c};
    for (;;) {
        const std::size_t spent = r.decoding.objects() - objects_before;
        if (spent >= work) return std::nullopt;
        auto decoded = r.decoding.step(work - spent);
        if (!decoded) return damaged();
        if (*decoded) break;
        // Not done: the budget is spent, or the decoder needs the next staged bytes.
        if (r.decoding.objects() - objects_before >= work) return std::nullopt;
        if (r.staging.read_all()) {
            auto finished = r.decoding.finish();
            if (!finished || !*finished) return damaged();
            break;
        }
        auto piece = r.staging.read_next(std::size_t{4} * c.options.fresh_chunk_bytes);
        if (!piece) return damaged();
        r.decoded_bytes += piece->size();
        r.decoding.feed(std::move(*piece));
    }
    c.tell_progress(ResetPhase::fetch, ProgressStep::decode, r.decoded_bytes, r.report.fresh_copy_bytes,
                    r.decoding.objects());
    r.fresh.emplace(r.decoding.take());
    r.decoding = Decoding<model_of<S>>{};
    prepare_recovery(c);
    return std::nullopt;
}

/// Decodes up to `work` more objects of the staged copy (in the store's staging when it has its
/// own); once whole, prepares the recovery.
template <class S, class T, class P>
std::optional<StepFailure> decode_step(Core<S, T, P>& c, std::size_t work) {
    if constexpr (store_stages<S>) return decode_in_store(c, work);
    else return decode_in_session(c, work);
}

/// Which local changes go into recovery, and the fates decided before it: changes the copy
/// already holds (their acknowledgement was lost), acknowledged changes the server lost.
template <class S, class T, class P>
void prepare_recovery(Core<S, T, P>& c) {
    auto& r = *c.run;
    c.begin_phase();
    // The application may have written while the copy was fetched (the store is untouched until
    // the commit, so its unsynced changes only grew): all of them are accounted now.
    r.unsynced = c.store.unsynced();
    r.accounted_upto = r.unsynced.empty() ? 0 : r.unsynced.back().client_version;
    r.report.unsynced_changesets = r.report.unsynced_operations = 0;
    count_unsynced(r.report, r.unsynced);
    r.report.operations.clear();
    const auto& copy = *r.record.copy;
    const bool same_epoch = copy.epoch == c.store.sync_state().epoch;
    // Changes the server integrated although their acknowledgement was lost are already in this
    // copy (same epoch, same ident): replaying them would apply them twice.
    if (same_epoch && copy.integrated_from_requester != 0) {
        std::erase_if(r.unsynced, [&](const LocalChangeset<operation_of<S>>& cs) {
            if (cs.client_version > copy.integrated_from_requester) return false;
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                r.report.operations.push_back(c.outcome(cs, i, OperationFate::recovered,
                                                        "already on the server (its acknowledgement was lost)"));
            return true;
        });
    }
    // Acknowledged changes the server no longer has, as its answers to the probes said.
    r.lost.clear();
    for (const auto& cs : r.acknowledged)
        if (std::find(r.record.lost_acknowledged.begin(), r.record.lost_acknowledged.end(), cs.client_version) !=
            r.record.lost_acknowledged.end())
            r.lost.push_back(cs);
    r.report.lost_acknowledged = r.lost.size();
    constexpr bool heals = heals_rollbacks<P>();
    const bool recovering = r.record.mode == ResetMode::recover;
    if (!(recovering && heals))
        for (const auto& cs : r.lost)
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                r.report.operations.push_back(c.outcome(
                    cs, i, OperationFate::lost_on_server,
                    "acknowledged, then lost by the server (restored from a backup); this strategy does not "
                    "re-apply it (RecoverAll would)"));
    if (recovering) {
        r.recovery.start(c.policy.recovery(), c.store, *r.fresh, r.trigger);
        if (heals)
            for (const auto& cs : r.lost) r.recovery.add(cs);
        for (const auto& cs : r.unsynced) r.recovery.add(cs);
    } else {
        discard_all(c);
    }
    r.stage = Stage::recover;
}

/// Every local change is discarded: the recovery is `recover::None`'s.
template <class S, class T, class P>
void discard_all(Core<S, T, P>& c) {
    auto& r = *c.run;
    auto none = recover::None{}.recover(c.store, *r.fresh, r.trigger, r.unsynced);
    r.recovered.emplace(std::move(*none));
    describe_outcomes<model_of<S>, operation_of<S>>(r.recovered->outcomes, r.unsynced);
}

/// What a failed recovery's report says: which operation failed, and why.
template <class S, class T, class P>
std::string recovery_failure_words(Core<S, T, P>& c, const Result<Recovered<operation_of<S>>>& result) {
    std::string why = "recovery failed";
    if (result && result->failure)
        why += " at v" + std::to_string(result->failure->client_version) + "#" +
               std::to_string(result->failure->index) + ": " + result->failure->reason;
    else if (!result)
        why += ": " + result.error().message();
    // A recovery policy that threw: its words, which must not linger into a later report.
    if (!c.guard_detail.empty()) why += " (" + std::exchange(c.guard_detail, std::string()) + ")";
    return why;
}

/// Recovers up to `work` more local operations. Once all are accounted for, the attempt moves on
/// to its commit, which first takes in any writes made meanwhile (`finish_recovery`).
template <class S, class T, class P>
void recover_step(Core<S, T, P>& c, std::size_t work) {
    auto& r = *c.run;
    if (r.record.mode == ResetMode::recover && !r.recovered) {
        bool done = false;
        // A recovery policy that throws fails recovery (its words go in the report).
        r.recovery_threw = static_cast<bool>(c.guarded(ResetPhase::recover, errc::recovery_failed, [&] {
            done = r.recovery.step(work);
            return std::error_code{};
        }));
        c.tell_progress(ResetPhase::recover, ProgressStep::recover, r.recovery.done(), r.recovery.total());
        if (!done && !r.recovery_threw) return;
    }
    r.stage = Stage::commit;
}

/// Takes the recovery's result. When recovery failed, the strategy's fallback runs in this same
/// attempt, and the report says which operation failed and why: a discard, or a manual reset that
/// waits for the application (then `c.run` is gone when this returns).
template <class S, class T, class P>
std::optional<StepFailure> finish_recovery(Core<S, T, P>& c) {
    auto& r = *c.run;
    if (r.recovered) return std::nullopt;
    Result<Recovered<operation_of<S>>> result =
        r.recovery_threw ? Result<Recovered<operation_of<S>>>(errc::recovery_failed) : r.recovery.take();
    if (result && !result->failure) {
        r.recovered.emplace(std::move(*result));
        describe_outcomes<model_of<S>, operation_of<S>>(r.recovered->outcomes, r.unsynced, r.lost);
        c.end_phase(ResetPhase::recover);
        return std::nullopt;
    }
    // What a recovery in place applied is reverted (a failed one reverted itself): the fallback
    // commits the copy as fetched.
    if (r.recovery_threw) r.recovery.revert();
    const std::error_code ec = result ? (result->failure_code ? result->failure_code : make_error_code(errc::recovery_failed))
                                      : result.error();
    r.report.detail = recovery_failure_words(c, result);
    c.report_error(ec, r.report.detail);
    c.end_phase(ResetPhase::recover);
    constexpr ResetMode fallback = P::fallback_type::mode;
    if constexpr (fallback == ResetMode::manual) {
        r.record.mode = ResetMode::manual;
        if (!r.record.backup_keeps_unsynced)
            if (auto e = write_backup_file(c)) return failure(ResetPhase::backup, e, "making the backup for the manual fallback");
        if (auto e = await_user(c)) return StepFailure{ResetPhase::backup, e, "writing the pending-reset record"};
        return std::nullopt;
    }
    r.record.mode = r.report.mode_used = ResetMode::discard;
    // The lost acknowledged changes recovery was given are reported too: none may vanish.
    if constexpr (heals_rollbacks<P>())
        for (const auto& cs : r.lost)
            for (std::size_t i = 0; i < cs.ops.size(); ++i)
                r.report.operations.push_back(
                    c.outcome(cs, i, OperationFate::lost_on_server, "acknowledged, then lost by the server; recovery failed"));
    discard_all(c);
    return std::nullopt;
}

/// The recovered history as the replay policy prepares it for upload, with, after a recovery in
/// place, the undo logs the commit keeps for it (`ResetCommit::history_undo`): one per changeset
/// when the policy kept the changesets, all in one when it made one changeset of them (as
/// `replay::Squash` does: the same net effect, so the logs in order revert it). A policy that
/// reshapes them otherwise gets the copy reverted and no logs: the commit applies the history.
template <class Op>
struct PreparedHistory {
    std::vector<LocalChangeset<Op>> history;
    std::vector<std::vector<Op>> undo; ///< empty: the commit applies `history`
};
template <class S, class T, class P>
PreparedHistory<operation_of<S>> prepare_history(Core<S, T, P>& c) {
    using Op = operation_of<S>;
    auto& r = *c.run;
    PreparedHistory<Op> out;
    std::vector<std::vector<Op>> undo = std::move(r.recovered->undo);
    std::vector<ClientVersion> recovered;
    if (!undo.empty()) {
        recovered.reserve(r.recovered->history.size());
        for (const auto& cs : r.recovered->history) recovered.push_back(cs.client_version);
    }
    out.history = c.policy.replay().prepare(std::move(r.recovered->history));
    if constexpr (RecoveryRun<P, S, fresh_of<S>>::in_place) {
        if (undo.empty()) return out;
        const bool same_changesets =
            out.history.size() == recovered.size() &&
            std::equal(out.history.begin(), out.history.end(), recovered.begin(),
                       [](const LocalChangeset<Op>& cs, ClientVersion v) { return cs.client_version == v; });
        if (same_changesets) {
            out.undo = std::move(undo);
        } else if (out.history.size() == 1) {
            out.undo.emplace_back();
            for (auto& log : undo)
                out.undo.back().insert(out.undo.back().end(), std::make_move_iterator(log.begin()),
                                       std::make_move_iterator(log.end()));
        } else {
            for (auto log = undo.rbegin(); log != undo.rend(); ++log)
                for (auto op = log->rbegin(); op != log->rend(); ++op) model_of<S>::apply(*r.fresh, *op);
        }
    }
    return out;
}

} // namespace resync::session
