#pragma once
// Progress of the long phases of a reset - the fresh copy's download and decoding, the recovery
// of local changes, the commit - as a redrawn bar when writing to a terminal, else as one plain
// line per finished step.

#include <resync/session/core.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace resync_demo {

class ProgressView {
public:
    /// Draws on `out`; bars when `bars`, plain lines otherwise.
    ProgressView(std::ostream& out, bool bars) : out_(out), bars_(bars) {}

    /// A session's progress report (`SyncSession::on_progress`).
    void on(const resync::Progress& p);
    /// The commit, one atomic step, starts (`on_before_reset`) and ends (`on_after_reset`).
    void commit_started();
    void commit_finished();
    /// Ends the step shown, if any (a step cut short, say by a fallback).
    void finish();

private:
    void show(const std::string& label, std::uint64_t done, std::uint64_t total, bool bytes, std::uint64_t objects);
    std::string objects_words() const;
    void end_line();

    std::ostream& out_;
    bool bars_;
    std::string label_;            ///< the step shown now (empty: none)
    std::uint64_t done_ = 0, total_ = 0, objects_ = 0;
    bool bytes_ = false;
    int drawn_permille_ = -1;      ///< what the bar last showed, so it is redrawn only on change
    std::chrono::steady_clock::time_point started_{};
};

/// True when `fd` is a terminal.
bool is_terminal(int fd);

} // namespace resync_demo
