#include "run.hpp"

#include "scenario.hpp"

#include <resync/backup/file.hpp>
#include <resync/doc.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/manual.hpp>
#include <resync/sync_session.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace resync_demo {

namespace {

using namespace std::chrono_literals;
constexpr auto time_limit = 300s;

resync::SessionOptions session_options(const World& w) {
    resync::SessionOptions o;
    o.backup_directory = w.backup_dir.string();
    o.seed = w.options.seed;
    // The cycle guard's backoff between repeated attempts, shortened from 1 s (doubling up to
    // 5 min) so that a storm runs its course in about a second.
    o.backoff_base_ms = 100;
    o.backoff_max_ms = 1000;
    // A fresh copy takes some 80 bytes per object: chunks of 2 bytes per object make about forty
    // of them, so that the download shows as progress (4 KiB at least; the server's limit, 64 KiB,
    // at most).
    o.fresh_chunk_bytes = static_cast<std::uint32_t>(std::clamp<std::size_t>(2 * w.options.objects, 4096, 64 * 1024));
    return o;
}

/// Objects decoded or operations recovered per poll: about forty slices.
resync::Budget budget(const World& w) {
    return {4, std::max<std::size_t>(64, std::max(w.options.objects, w.options.offline_changes) / 40)};
}

bool waiting_for_backoff(const World& w) {
    const auto& record = w.store.sync_state().pending_reset;
    if (!record) return false;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return record->not_before_ms > now;
}

template <class Policy>
Run run_with(World& w, Policy policy, ProgressView& progress) {
    using Session = resync::SyncSession<resync::MemoryStore, Link, Policy>;
    Session session(w.store, w.link, std::move(policy), session_options(w));
    Run r;
    prepare(w, [&] { session.run_until_idle(); });

    session.on_progress([&](const resync::Progress& p) { progress.on(p); });
    session.on_before_reset([&](const resync::ResetTrigger&, const resync::MemoryStore&) { progress.commit_started(); });
    session.on_after_reset([&](const resync::doc::State*, const resync::MemoryStore&, const resync::ResetReport& report) {
        progress.commit_finished();
        r.resets.push_back(report);
    });
    session.on_reset_request([&](const resync::ResetRequest& request) { r.requests.push_back(request); });
    session.on_error([&](std::error_code ec, std::string_view detail) {
        r.errors.push_back(ec.message() + (detail.empty() ? "" : ": " + std::string(detail)));
    });

    provoke(w);
    w.link.go_online();
    w.tell("the client comes back online");

    const bool storm = w.options.scenario == Scenario::storm;
    bool demanding = storm;          // the storm goes on until the guard escalates to manual
    std::size_t answered = 0;        // completed resets the storm has answered with a new demand
    const auto deadline = std::chrono::steady_clock::now() + time_limit;
    const auto slice = budget(w);
    while (true) {
        if (std::chrono::steady_clock::now() > deadline) {
            r.timed_out = true;
            break;
        }
        const auto state = session.poll(slice);
        if (state == resync::SessionState::stopped) break;
        if (state == resync::SessionState::awaiting_user) {
            progress.finish();
            r.resets.push_back(*session.last_report());
            w.tell("the session stops and waits for the application; the demo, as the application, calls "
                   "execute_reset()");
            demanding = false;
            if (auto ec = session.execute_reset()) {
                r.errors.push_back("execute_reset: " + ec.message());
                break;
            }
            continue;
        }
        if (demanding && r.resets.size() > answered &&
            r.resets.back().outcome == resync::ResetOutcome::completed) {
            answered = r.resets.size();
            write_one_more(w);
            demand_reset(w);
            continue;
        }
        if (session.idle()) break;
        if (waiting_for_backoff(w)) std::this_thread::sleep_for(2ms);
    }
    progress.finish();
    r.final_state = session.state();
    if (session.idle())
        w.tell("the client is in sync again: " + std::to_string(w.store.object_count()) + " objects, server version " +
               std::to_string(w.server.latest().version));
    return r;
}

} // namespace

Run run(World& w, ProgressView& progress) {
    switch (w.options.strategy) {
    case StrategyName::manual: return run_with(w, resync::Manual{resync::backup::File{w.backup_dir}}, progress);
    case StrategyName::discard: return run_with(w, resync::DiscardUnsynced{}, progress);
    case StrategyName::recover: return run_with(w, resync::doc::Recover{}, progress);
    case StrategyName::recover_or_discard: return run_with(w, resync::doc::RecoverOrDiscard{}, progress);
    case StrategyName::recover_all: return run_with(w, resync::doc::RecoverAll{}, progress);
    }
    return {};
}

} // namespace resync_demo
