#pragma once
/// \file
/// The checks `SyncSession` makes of its arguments: one `static_assert` per missing piece, in the
/// library's words, and a stand-in session so that a failed check does not cascade into pages
/// of errors from the session's body.

#include <resync/concepts/model.hpp>
#include <resync/concepts/policies.hpp>
#include <resync/concepts/store.hpp>
#include <resync/concepts/transport.hpp>

#include <type_traits>

namespace resync::detail {

#define RESYNC_SESSION_PREFIX "resync::SyncSession<Store, Transport, ResetPolicy>: "

template <class M>
constexpr bool check_model() {
    using namespace model_requirements;
    if constexpr (!declares_model<M>) {
        static_assert(declares_model<M>, RESYNC_SESSION_PREFIX
                      "the store's model_type must opt in with `using model_concept = resync::model_t;` "
                      "(see docs/concepts.md#model)");
        return false;
    } else if constexpr (!names_its_types<M>) {
        static_assert(names_its_types<M>, RESYNC_SESSION_PREFIX
                      "the store's model_type must name its `operation_type` and `snapshot_type`");
        return false;
    } else {
        static_assert(applies_operations<M>, RESYNC_SESSION_PREFIX
                      "the model must provide `static void apply(snapshot_type&, const operation_type&)`");
        static_assert(counts_objects<M>, RESYNC_SESSION_PREFIX
                      "the model must provide `static std::size_t object_count(const snapshot_type&)`");
        static_assert(compares_snapshots<M>, RESYNC_SESSION_PREFIX
                      "the model's snapshot_type must be equality-comparable (`operator==`)");
        static_assert(encodes_operations<M>, RESYNC_SESSION_PREFIX
                      "the model must provide `static void encode(resync::ByteWriter&, const operation_type&)` and "
                      "`static std::optional<operation_type> decode_operation(resync::ByteReader&)`");
        static_assert(encodes_snapshots<M>, RESYNC_SESSION_PREFIX
                      "the model must provide `static std::string encode_snapshot(const snapshot_type&)` and "
                      "`static resync::Result<snapshot_type> decode_snapshot(std::string_view)`");
        return Model<M>;
    }
}

/// A declared capability whose member is missing: the one error names the member.
template <class S>
constexpr bool check_capabilities() {
    using namespace store_requirements;
    static_assert(!declares_capability<S, cap::unsynced_flag> || has_unsynced_flag<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::unsynced_flag and must provide `bool has_unsynced() const`");
    static_assert(!declares_capability<S, cap::unsynced_pages> || has_unsynced_pages<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::unsynced_pages and must provide "
                  "`std::vector<resync::LocalChangeset<operation_type>> unsynced(std::size_t max_changesets) const`");
    static_assert(!declares_capability<S, cap::acknowledged_history> || has_acknowledged_history<S>,
                  RESYNC_SESSION_PREFIX
                  "the store declares cap::acknowledged_history and must provide "
                  "`std::vector<resync::LocalChangeset<operation_type>> acknowledged_after(std::uint64_t) const`");
    static_assert(!declares_capability<S, cap::quarantine> || has_quarantine<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::quarantine and must provide `quarantined() const` (a range of "
                  "resync::QuarantinedOperation<operation_type>), keeping ResetCommit::quarantine in its commit");
    static_assert(!declares_capability<S, cap::live_view> || has_live_view<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::live_view and must provide `live_view() const`");
    static_assert(!declares_capability<S, cap::object_count> || has_object_count<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::object_count and must provide `std::size_t object_count() const`");
    static_assert(!declares_capability<S, cap::diff_commit> || has_diff_commit<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::diff_commit and must provide "
                  "`resync::Result<resync::DiffStats> commit_reset_diff(resync::ResetCommit<snapshot_type, operation_type>&&)`");
    static_assert(!declares_capability<S, cap::diff_commit_keeping_before> || has_diff_commit_keeping_before<S>,
                  RESYNC_SESSION_PREFIX
                  "the store declares cap::diff_commit_keeping_before and must provide "
                  "`resync::Result<resync::DiffCommit<snapshot_type>> "
                  "commit_reset_diff_keeping_before(resync::ResetCommit<snapshot_type, operation_type>&&)`");
    static_assert(!declares_capability<S, cap::diff_commit_leftover> || has_diff_commit_leftover<S>,
                  RESYNC_SESSION_PREFIX
                  "the store declares cap::diff_commit_leftover and must provide "
                  "`resync::Result<resync::DiffCommitLeftover<snapshot_type>> "
                  "commit_reset_diff_leaving_leftover(resync::ResetCommit<snapshot_type, operation_type>&&)`");
    static_assert(!declares_capability<S, cap::backup_directory> || has_backup_directory<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::backup_directory and must provide `std::string backup_directory() const`");
    static_assert(!declares_capability<S, cap::fresh_copy_staging> || has_fresh_copy_staging<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::fresh_copy_staging and must provide staged_copy(), staged_bytes(), "
                  "stage_begin(const FreshCopyHeader&), stage_append(std::string_view), stage_decode(std::size_t), "
                  "staged_objects(), staged_view(), stage_discard() and "
                  "commit_staged_reset(StagedResetCommit<operation_type>&&, CommitKind) (see docs/concepts.md)");
    static_assert(!declares_capability<S, cap::self_backup> || has_self_backup<S>, RESYNC_SESSION_PREFIX
                  "the store declares cap::self_backup and must provide `resync::Result<resync::BackupMade> "
                  "back_up(const std::string& directory, const resync::ResetTrigger&, const resync::FileHook*) const` and "
                  "`static std::error_code verify_backup(const std::string& path)`");
    return true;
}

template <class S>
constexpr bool check_store() {
    using namespace store_requirements;
    if constexpr (!declares_store<S>) {
        static_assert(declares_store<S>, RESYNC_SESSION_PREFIX
                      "Store must opt in with `using store_concept = resync::store_t;` (see docs/concepts.md#store)");
        return false;
    } else if constexpr (!requires { typename S::model_type; }) {
        static_assert(sizeof(S) == 0, RESYNC_SESSION_PREFIX
                      "Store must name its model: `using model_type = ...;` (resync::doc::Model for the document "
                      "model; see docs/concepts.md#model)");
        return false;
    } else if constexpr (!check_model<typename S::model_type>()) {
        return false;
    } else {
        static_assert(reads_sync_state<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `const resync::SyncState& sync_state() const`");
        static_assert(writes_sync_state<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `std::error_code write_sync_state(const resync::SyncState&)`");
        static_assert(lists_unsynced<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `std::vector<resync::LocalChangeset<operation_type>> unsynced() const`");
        static_assert(integrates_remote<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `std::error_code integrate(std::span<const "
                      "resync::RemoteChangeset<operation_type>>)`");
        static_assert(acknowledges_uploads<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `std::error_code acknowledge(resync::ClientVersion, "
                      "std::span<const std::pair<resync::ClientVersion, std::uint64_t>>)`");
        static_assert(exports_snapshot<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `snapshot_type export_snapshot() const`");
        static_assert(commits_reset<S>, RESYNC_SESSION_PREFIX
                      "Store must provide `resync::Result<snapshot_type> "
                      "commit_reset(resync::ResetCommit<snapshot_type, operation_type>&&)`");
        return Store<S> && check_capabilities<S>();
    }
}

template <class T, class Op>
constexpr bool check_transport() {
    using namespace transport_requirements;
    if constexpr (!declares_transport<T>) {
        static_assert(declares_transport<T>, RESYNC_SESSION_PREFIX
                      "Transport must opt in with `using transport_concept = resync::transport_t;` "
                      "(see docs/concepts.md#transport)");
        return false;
    } else if constexpr (!names_its_operation<T>) {
        static_assert(names_its_operation<T>, RESYNC_SESSION_PREFIX "Transport must name its `operation_type`");
        return false;
    } else if constexpr (!std::is_same_v<typename T::operation_type, Op>) {
        static_assert(std::is_same_v<typename T::operation_type, Op>, RESYNC_SESSION_PREFIX
                      "Transport and Store must have the same `operation_type`");
        return false;
    } else {
        static_assert(sends<T>, RESYNC_SESSION_PREFIX
                      "Transport must provide `bool send(resync::protocol::ClientMessage<operation_type>)`");
        static_assert(receives<T>, RESYNC_SESSION_PREFIX
                      "Transport must provide `std::optional<resync::protocol::ServerMessage<operation_type>> receive()`");
        static_assert(reports_connection<T>, RESYNC_SESSION_PREFIX
                      "Transport must provide `bool connected() const` and `std::uint64_t connection_id() const`");
        return Transport<T>;
    }
}

/// A recovery policy that says which stores its rules fit (`recover::Rebase<Rules>::fits<S>`).
template <class R, class S>
constexpr bool rules_fit() {
    if constexpr (requires { R::template fits<S>; }) return R::template fits<S>;
    else return true;
}

/// A recovery policy that re-applies the acknowledged changes a restored server lost
/// (`recover::RebaseAll`) finds them in the store's retained history: without it, it would find
/// none and lose them silently, promising what it cannot do.
template <class R, class S>
constexpr bool finds_lost_acknowledged() {
    if constexpr (requires { R::includes_lost_acknowledged; })
        return !R::includes_lost_acknowledged || store_requirements::keeps_acknowledged_history<S>;
    else
        return true;
}

template <class P, class S>
constexpr bool check_policy() {
    if constexpr (!requires {
                      typename P::detection_type;
                      typename P::backup_type;
                      typename P::discard_type;
                      typename P::recovery_type;
                      typename P::replay_type;
                      typename P::execution_type;
                      typename P::fallback_type;
                  }) {
        static_assert(sizeof(P) == 0, RESYNC_SESSION_PREFIX
                      "ResetPolicy must name a model for every role; compose one with resync::Strategy<...>");
        return false;
    } else if constexpr (!rules_fit<typename P::recovery_type, S>()) {
        static_assert(rules_fit<typename P::recovery_type, S>(), RESYNC_SESSION_PREFIX
                      "the recovery rules recover another model's operations (recover::DocumentRules recovers "
                      "document-model operations, doc::Operation); give the strategy rules for this store's "
                      "operation_type (see docs/concepts.md#recovery-rules)");
        return false;
    } else {
        static_assert(DetectionPolicy<typename P::detection_type>, RESYNC_SESSION_PREFIX
                      "the detection policy must provide on_welcome(const SyncState&, const protocol::Welcome&) and "
                      "on_error(const SyncState&, const ServerError&), both returning std::optional<ResetTrigger>");
        static_assert(BackupPolicy<typename P::backup_type, S>, RESYNC_SESSION_PREFIX
                      "the backup policy must provide `static constexpr bool keeps_before_state` and "
                      "`Result<BackupMade> backup(const Store&, const ResetTrigger&, const BackupContext&) const`");
        static_assert(DiscardPolicy<typename P::discard_type, S>, RESYNC_SESSION_PREFIX
                      "the discard policy must provide `Result<DiscardOutcome<snapshot_type>> commit(Store&, "
                      "ResetCommit<snapshot_type, operation_type>&&) const`");
        static_assert(RecoveryPolicy<typename P::recovery_type, S>, RESYNC_SESSION_PREFIX
                      "the recovery policy must provide `static constexpr ResetMode mode` and "
                      "`Result<Recovered<operation_type>> recover(const Store&, const snapshot_type&, "
                      "const ResetTrigger&, const std::vector<LocalChangeset<operation_type>>&) const`");
        static_assert(finds_lost_acknowledged<typename P::recovery_type, S>(), RESYNC_SESSION_PREFIX
                      "the recovery policy re-applies acknowledged changes a restored server lost (recover::RebaseAll, "
                      "RecoverAll) and needs a store that keeps them: declare cap::acknowledged_history and provide "
                      "`std::vector<resync::LocalChangeset<operation_type>> acknowledged_after(std::uint64_t) const`, "
                      "or recover with recover::Rebase (RecoverOrDiscard)");
        static_assert(ReplayPolicy<typename P::replay_type, operation_of<S>>, RESYNC_SESSION_PREFIX
                      "the replay policy must provide `prepare(std::vector<LocalChangeset<operation_type>>)` and "
                      "`max_changesets_per_upload()`");
        static_assert(ExecutionPolicy<typename P::execution_type>, RESYNC_SESSION_PREFIX
                      "the execution policy must provide `static constexpr bool waits_for_user`");
        static_assert(FallbackPolicy<typename P::fallback_type>, RESYNC_SESSION_PREFIX
                      "the fallback policy must provide `static constexpr ResetMode mode` (discard or manual)");
        // Asked only once every model is well-formed: a Strategy's requested_mode reads them.
        if constexpr (DetectionPolicy<typename P::detection_type> && BackupPolicy<typename P::backup_type, S> &&
                      DiscardPolicy<typename P::discard_type, S> && RecoveryPolicy<typename P::recovery_type, S> &&
                      ReplayPolicy<typename P::replay_type, operation_of<S>> &&
                      ExecutionPolicy<typename P::execution_type> && FallbackPolicy<typename P::fallback_type>) {
            static_assert(policy_requirements::provides_its_models<P>, RESYNC_SESSION_PREFIX
                          "ResetPolicy must provide `static constexpr ResetMode requested_mode` and the accessors "
                          "detection(), backup(), discard(), recovery(), replay(), execution() and fallback() "
                          "returning its models; compose one with resync::Strategy<...>");
        }
        return ResetPolicy<P, S> && finds_lost_acknowledged<typename P::recovery_type, S>();
    }
}

template <class S, class T, class P>
constexpr bool check_session() {
    if constexpr (!check_store<S>()) {
        return false;
    } else if constexpr (!check_transport<T, operation_of<S>>()) {
        return false;
    } else {
        return check_policy<P, S>();
    }
}
#undef RESYNC_SESSION_PREFIX

/// Stands in for a session whose arguments failed their checks, so that the one `static_assert`
/// above is the only error the user reads.
struct InvalidSession {
    template <class... Args>
    explicit InvalidSession(Args&&...) {}
    template <class... Args>
    int poll(Args&&...) { return 0; }
    template <class... Args>
    int run_until_idle(Args&&...) { return 0; }
};

} // namespace resync::detail
