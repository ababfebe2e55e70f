#include "progress.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <unistd.h>

namespace resync_demo {

namespace {

constexpr int bar_width = 32;

std::string amount(std::uint64_t n, bool bytes) {
    std::ostringstream s;
    if (!bytes) s << n;
    else if (n < 10 * 1024) s << n << " B";
    else if (n < 10 * 1024 * 1024) s << n / 1024 << " KiB";
    else s << n / (1024 * 1024) << " MiB";
    return s.str();
}

} // namespace

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

void ProgressView::on(const resync::Progress& p) {
    const bool bytes = p.step != resync::ProgressStep::recover;
    std::string label = p.step == resync::ProgressStep::recover
                            ? std::string("recover")
                            : std::string(resync::to_string(p.phase)) + "/" + std::string(resync::to_string(p.step));
    // Not finished at done == total: decoding reads the last bytes before the last objects are
    // decoded. A step ends when the next one starts (or the commit, or finish()).
    show(label, p.done, p.total, bytes, p.step == resync::ProgressStep::decode ? p.objects : 0);
}

void ProgressView::commit_started() { show("commit", 0, 1, false, 0); }

void ProgressView::commit_finished() {
    if (label_ != "commit") return;
    show("commit", 1, 1, false, 0);
    finish();
}

void ProgressView::show(const std::string& label, std::uint64_t done, std::uint64_t total, bool bytes,
                        std::uint64_t objects) {
    if (label != label_) {
        finish();
        label_ = label;
        started_ = std::chrono::steady_clock::now();
        drawn_permille_ = -1;
    }
    done_ = done;
    total_ = total;
    bytes_ = bytes;
    objects_ = objects;
    if (!bars_) return;
    const int permille = total == 0 ? 0 : static_cast<int>(std::min<std::uint64_t>(1000, done * 1000 / total));
    if (permille == drawn_permille_ && permille < 1000) return;
    drawn_permille_ = permille;
    const int filled = permille * bar_width / 1000;
    out_ << "\r  " << std::left << std::setw(14) << label << " [" << std::string(static_cast<std::size_t>(filled), '#')
         << std::string(static_cast<std::size_t>(bar_width - filled), '.') << "] " << std::right << std::setw(3)
         << permille / 10 << "%  " << amount(done, bytes) << " / " << amount(total, bytes) << objects_words() << "   "
         << std::flush;
}

std::string ProgressView::objects_words() const {
    return objects_ ? ", " + std::to_string(objects_) + " objects" : std::string();
}

void ProgressView::finish() {
    if (label_.empty()) return;
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    if (bars_) {
        out_ << std::fixed << std::setprecision(1) << ms << " ms\n" << std::flush;
    } else {
        out_ << "  " << std::left << std::setw(14) << label_ << std::right << " " << amount(done_, bytes_) << " of "
             << amount(total_, bytes_) << objects_words() << " in " << std::fixed << std::setprecision(1) << ms << " ms\n"
             << std::flush;
    }
    label_.clear();
}

} // namespace resync_demo
