// Strategy<...> composition (include/resync/strategy.hpp): per-role defaults, order independence,
// construction from stateful models, zero size for stateless strategies, requested modes, the
// ResetPolicy concept; and the vocabulary the policies speak: the `resync` error category and Result<T>.
#include <resync/backup/callback.hpp>
#include <resync/backup/file.hpp>
#include <resync/backup/none.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/detect/rollback.hpp>
#include <resync/detect/standard.hpp>
#include <resync/discard/diff.hpp>
#include <resync/discard/replace.hpp>
#include <resync/error.hpp>
#include <resync/execute.hpp>
#include <resync/memory_store.hpp>
#include <resync/recover/none.hpp>
#include <resync/replay/upload.hpp>
#include <resync/result.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

using namespace resync;

namespace {

/// Every role's type of a policy, for comparing two compositions in one go.
template <class P>
using Roles = std::tuple<typename P::detection_type, typename P::backup_type, typename P::discard_type,
                         typename P::recovery_type, typename P::replay_type, typename P::execution_type, typename P::fallback_type>;

/// A hand-written policy naming the default models, with no Strategy machinery behind it.
struct HandWrittenPolicy {
    using detection_type = detect::Standard;
    using backup_type = backup::Snapshot;
    using discard_type = discard::Replace;
    using recovery_type = recover::None;
    using replay_type = replay::Upload;
    using execution_type = execute::Automatic;
    using fallback_type = fallback::Manual;
    static constexpr ResetMode requested_mode = ResetMode::discard;

    detection_type detection() const { return {}; }
    backup_type backup() const { return {}; }
    discard_type discard() const { return {}; }
    recovery_type recovery() const { return {}; }
    replay_type replay() const { return {}; }
    execution_type execution() const { return {}; }
    fallback_type fallback() const { return {}; }
};

/// The same, without the accessors and the requested mode: not a ResetPolicy.
struct TypesOnlyPolicy {
    using detection_type = detect::Standard;
    using backup_type = backup::Snapshot;
    using discard_type = discard::Replace;
    using recovery_type = recover::None;
    using replay_type = replay::Upload;
    using execution_type = execute::Automatic;
    using fallback_type = fallback::Manual;
};

/// A stateful detection model, to check that Strategy keeps a model's state.
struct TaggedDetection {
    using resync_role = role::detection;
    int tag = 0;
    std::optional<ResetTrigger> on_welcome(const SyncState&, const protocol::Welcome&) const { return {}; }
    std::optional<ResetTrigger> on_error(const SyncState&, const ServerError&) const { return {}; }
};

/// A recovery model that asks for the `recover` mode (recovers nothing, for the mode test only).
struct RecoverMode {
    using resync_role = role::recovery;
    static constexpr ResetMode mode = ResetMode::recover;
    template <class S>
    Result<Recovered<typename S::operation_type>> recover(const S&, const typename S::snapshot_type&,
                                                          const ResetTrigger&,
                                                          const std::vector<LocalChangeset<typename S::operation_type>>&) const {
        return Recovered<typename S::operation_type>{};
    }
};

template <class P>
using Session = SyncSession<MemoryStore, testing::LoopbackTransport<resync::doc::Model>, P>;

} // namespace

// ------------------------------------------------------------------------------- composition

TEST_CASE("Strategy<> takes the documented default for every role", "[policy][strategy]") {
    using S = Strategy<>;
    STATIC_REQUIRE(std::is_same_v<S::detection_type, detect::Standard>);
    STATIC_REQUIRE(std::is_same_v<S::backup_type, backup::None>);
    STATIC_REQUIRE(std::is_same_v<S::discard_type, discard::Replace>);
    STATIC_REQUIRE(std::is_same_v<S::recovery_type, recover::None>);
    STATIC_REQUIRE(std::is_same_v<S::replay_type, replay::Upload>);
    STATIC_REQUIRE(std::is_same_v<S::execution_type, execute::Automatic>);

    // A model given for one role leaves every other role at its default.
    using B = Strategy<backup::Snapshot>;
    STATIC_REQUIRE(std::is_same_v<B::backup_type, backup::Snapshot>);
    STATIC_REQUIRE(std::is_same_v<B::detection_type, detect::Standard>);
    STATIC_REQUIRE(std::is_same_v<B::discard_type, discard::Replace>);
    STATIC_REQUIRE(std::is_same_v<B::execution_type, execute::Automatic>);
}

TEST_CASE("Strategy picks every given model for its role, in any order", "[policy][strategy]") {
    using Forward = Strategy<detect::Rollback, backup::File, discard::Diff, RecoverMode, replay::Upload, execute::Manual>;
    using Backward = Strategy<execute::Manual, replay::Upload, RecoverMode, discard::Diff, backup::File, detect::Rollback>;
    using Shuffled = Strategy<discard::Diff, execute::Manual, detect::Rollback, RecoverMode, backup::File, replay::Upload>;
    STATIC_REQUIRE(std::is_same_v<Forward::detection_type, detect::Rollback>);
    STATIC_REQUIRE(std::is_same_v<Forward::backup_type, backup::File>);
    STATIC_REQUIRE(std::is_same_v<Forward::discard_type, discard::Diff>);
    STATIC_REQUIRE(std::is_same_v<Forward::recovery_type, RecoverMode>);
    STATIC_REQUIRE(std::is_same_v<Forward::replay_type, replay::Upload>);
    STATIC_REQUIRE(std::is_same_v<Forward::execution_type, execute::Manual>);
    STATIC_REQUIRE(std::is_same_v<Roles<Forward>, Roles<Backward>>);
    STATIC_REQUIRE(std::is_same_v<Roles<Forward>, Roles<Shuffled>>);

    STATIC_REQUIRE(std::is_same_v<Roles<Strategy<backup::File, execute::Manual>>,
                                  Roles<Strategy<execute::Manual, backup::File>>>);
    STATIC_REQUIRE(std::is_same_v<Roles<Strategy<discard::Diff, backup::Snapshot>>,
                                  Roles<Strategy<backup::Snapshot, discard::Diff>>>);
    // ... and the order of arguments does not leak into anything else the strategy says.
    STATIC_REQUIRE(Strategy<backup::File, execute::Manual>::requested_mode ==
                   Strategy<execute::Manual, backup::File>::requested_mode);
}

TEST_CASE("Strategy takes stateful models in any order and keeps their state", "[policy][strategy]") {
    const std::string dir = "/some/backup/dir";

    const Strategy<backup::File, execute::Manual> a{backup::File{dir}};
    CHECK(a.backup().directory == dir);

    const Strategy<execute::Manual, backup::File, TaggedDetection> b{execute::Manual{}, TaggedDetection{42},
                                                                     backup::File{dir + "/b"}};
    CHECK(b.backup().directory == dir + "/b");
    CHECK(b.detection().tag == 42);

    const Strategy<execute::Manual, backup::File, TaggedDetection> c{backup::File{dir + "/c"}, TaggedDetection{7}};
    CHECK(c.backup().directory == dir + "/c");
    CHECK(c.detection().tag == 7);

    // A model not given is default-constructed: File names no directory (the session's is used).
    const Strategy<execute::Manual, backup::File, TaggedDetection> d{TaggedDetection{1}};
    CHECK(d.backup().directory.empty());
    CHECK(d.detection().tag == 1);

    // Manual is constructed the same way.
    const Manual m{backup::File{dir}};
    CHECK(m.backup().directory == dir);

    // A stateful callback backup keeps its callable.
    int calls = 0;
    auto f = [&calls](const MemoryStore&, const ResetTrigger&) {
        ++calls;
        return std::error_code{};
    };
    const Strategy<backup::Callback<decltype(f)>> cb{backup::Callback{f}};
    MemoryStore store;
    auto where = cb.backup().backup(store, ResetTrigger{}, {});
    REQUIRE(where);
    CHECK(where->location == "callback");
    CHECK(calls == 1);
}

TEST_CASE("stateless strategies are empty and add no size to a session", "[policy][strategy][size]") {
    STATIC_REQUIRE(std::is_empty_v<DiscardUnsynced>);
    STATIC_REQUIRE(std::is_empty_v<Strategy<>>);
    STATIC_REQUIRE(std::is_empty_v<Strategy<discard::Diff, backup::Snapshot, execute::Manual>>);
    STATIC_REQUIRE(std::is_empty_v<detect::Standard>);
    STATIC_REQUIRE(sizeof(detect::Standard) == 1);
    STATIC_REQUIRE(sizeof(DiscardUnsynced) == 1);
    STATIC_REQUIRE(std::is_empty_v<HandWrittenPolicy>);
    STATIC_REQUIRE(HandWrittenPolicy::requested_mode == DiscardUnsynced::requested_mode);

    // A session with DiscardUnsynced is exactly as big as one with a hand-written empty policy ...
    STATIC_REQUIRE(sizeof(Session<DiscardUnsynced>) == sizeof(Session<HandWrittenPolicy>));
    STATIC_REQUIRE(sizeof(Session<Strategy<>>) == sizeof(Session<HandWrittenPolicy>));
    // ... while a stateful model does take room (so the comparison above can tell).
    STATIC_REQUIRE_FALSE(std::is_empty_v<Manual>);
    STATIC_REQUIRE(sizeof(Manual) >= sizeof(std::string));
    STATIC_REQUIRE(sizeof(Session<Manual>) > sizeof(Session<DiscardUnsynced>));
}

TEST_CASE("a strategy's requested mode follows its execution and recovery models", "[policy][strategy]") {
    STATIC_REQUIRE(Manual::requested_mode == ResetMode::manual);
    STATIC_REQUIRE(DiscardUnsynced::requested_mode == ResetMode::discard);
    STATIC_REQUIRE(Strategy<>::requested_mode == ResetMode::discard);
    STATIC_REQUIRE(Strategy<RecoverMode>::requested_mode == ResetMode::recover);
    // Waiting for the user wins over any recovery model.
    STATIC_REQUIRE(Strategy<RecoverMode, execute::Manual>::requested_mode == ResetMode::manual);
    STATIC_REQUIRE(execute::Manual::waits_for_user);
    STATIC_REQUIRE_FALSE(execute::Automatic::waits_for_user);
}

TEST_CASE("Manual and DiscardUnsynced are reset policies for MemoryStore; other types are not",
          "[policy][strategy][concepts]") {
    STATIC_REQUIRE(ResetPolicy<Manual, MemoryStore>);
    STATIC_REQUIRE(ResetPolicy<DiscardUnsynced, MemoryStore>);
    STATIC_REQUIRE(ResetPolicy<Strategy<>, MemoryStore>);
    STATIC_REQUIRE(ResetPolicy<Strategy<discard::Diff, TaggedDetection>, MemoryStore>);
    STATIC_REQUIRE(ResetPolicy<HandWrittenPolicy, MemoryStore>);
    STATIC_REQUIRE_FALSE(ResetPolicy<TypesOnlyPolicy, MemoryStore>);
    STATIC_REQUIRE_FALSE(ResetPolicy<int, MemoryStore>);
    STATIC_REQUIRE_FALSE(ResetPolicy<detect::Standard, MemoryStore>);

    // The models of DiscardUnsynced, role by role.
    STATIC_REQUIRE(std::is_same_v<DiscardUnsynced::backup_type, backup::Snapshot>);
    STATIC_REQUIRE(std::is_same_v<DiscardUnsynced::discard_type, discard::Replace>);
    STATIC_REQUIRE(std::is_same_v<DiscardUnsynced::recovery_type, recover::None>);
    STATIC_REQUIRE(std::is_same_v<DiscardUnsynced::execution_type, execute::Automatic>);
    STATIC_REQUIRE(std::is_same_v<Manual::backup_type, backup::File>);
    STATIC_REQUIRE(std::is_same_v<Manual::execution_type, execute::Manual>);

    // Each role concept accepts its shipped models and rejects models of another role.
    STATIC_REQUIRE(DetectionPolicy<detect::Standard>);
    STATIC_REQUIRE(BackupPolicy<backup::File, MemoryStore>);
    STATIC_REQUIRE(BackupPolicy<backup::None, MemoryStore>);
    STATIC_REQUIRE(DiscardPolicy<discard::Diff, MemoryStore>);
    STATIC_REQUIRE(RecoveryPolicy<recover::None, MemoryStore>);
    STATIC_REQUIRE(ReplayPolicy<replay::Upload, doc::Operation>);
    STATIC_REQUIRE(ExecutionPolicy<execute::Manual>);
    STATIC_REQUIRE_FALSE(DetectionPolicy<backup::None>);
    STATIC_REQUIRE_FALSE(BackupPolicy<detect::Standard, MemoryStore>);
    STATIC_REQUIRE_FALSE(DiscardPolicy<recover::None, MemoryStore>);
    STATIC_REQUIRE_FALSE(ExecutionPolicy<replay::Upload>);
}

// ---------------------------------------------------------------------------- error category

TEST_CASE("every resync error has its own message in the resync category", "[error]") {
    const auto& cat = error_category();
    CHECK(std::string(cat.name()) == "resync");
    std::set<std::string> seen;
    const int last = static_cast<int>(errc::store_corrupt); // the enum's last code
    for (int v = 1; v <= last; ++v) {
        CAPTURE(v);
        const std::error_code ec = make_error_code(static_cast<errc>(v));
        CHECK(ec);
        CHECK(&ec.category() == &cat);
        const std::string msg = ec.message();
        CHECK_FALSE(msg.empty());
        CHECK(msg != "unknown resync error");
        CHECK(seen.insert(msg).second); // distinct from every other code's message
    }
    CHECK(seen.size() == static_cast<std::size_t>(last));
    // errc converts implicitly, and compares with the codes it makes.
    const std::error_code implicit = errc::backup_io;
    CHECK(implicit == make_error_code(errc::backup_io));
    CHECK(implicit == errc::backup_io);
    CHECK(implicit != errc::backup_corrupt);
    CHECK_FALSE(make_error_code(errc::ok));
    // A value outside the enum still gets a message, never a crash.
    CHECK(cat.message(last + 1) == "unknown resync error");
    CHECK(cat.message(-3) == "unknown resync error");
}

TEST_CASE("Result<T> holds either a value or an error", "[result]") {
    Result<std::string> good(std::string("value"));
    REQUIRE(good.has_value());
    CHECK(static_cast<bool>(good));
    CHECK(*good == "value");
    CHECK(good->size() == 5);
    CHECK_FALSE(good.error());
    good.value() += "!";
    CHECK(good.value() == "value!");
    const std::string moved = std::move(good).value();
    CHECK(moved == "value!");

    Result<std::string> bad(errc::backup_truncated);
    CHECK_FALSE(bad.has_value());
    CHECK_FALSE(static_cast<bool>(bad));
    CHECK(bad.error() == errc::backup_truncated);

    const Result<int> from_code(std::make_error_code(std::errc::no_space_on_device));
    CHECK_FALSE(from_code);
    CHECK(from_code.error() == std::errc::no_space_on_device);

    const Result<int> zero(0); // a value that looks falsy is still a value
    CHECK(zero.has_value());
    CHECK(*zero == 0);
}

} // namespace RESYNC_TEST_FILE
