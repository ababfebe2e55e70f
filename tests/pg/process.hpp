#pragma once
// A child process for the tests that run real programs - resync-sync-server, resync-sync-client,
// pg_dump, pg_restore: started with posix_spawn (safe in a process with threads), its stdin a
// pipe the test writes commands to, its stdout and stderr read line by line on threads of their
// own, so a test can wait for a line that matches.

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace resync_pg_test {

using namespace std::chrono_literals;

/// A running program. Destroying it kills it (SIGKILL) if it still runs.
class Child {
public:
    /// Starts `argv[0]` (a path) with `argv`; `env` entries ("NAME=value") are added to this
    /// process's environment.
    explicit Child(std::vector<std::string> argv, std::vector<std::string> env = {}) : argv_(std::move(argv)) {
        int in[2], out[2], err[2];
        if (::pipe(in) != 0 || ::pipe(out) != 0 || ::pipe(err) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&actions, fd);
        std::vector<char*> args;
        for (auto& a : argv_) args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> environment;
        for (char** e = environ; *e; ++e) environment.emplace_back(*e);
        for (auto& e : env) environment.push_back(std::move(e));
        std::vector<char*> envp;
        for (auto& e : environment) envp.push_back(e.data());
        envp.push_back(nullptr);
        const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        if (rc != 0) {
            pid_ = -1;
            ::close(in[1]);
            ::close(out[0]);
            ::close(err[0]);
            return;
        }
        stdin_ = in[1];
        readers_.emplace_back([this, fd = out[0]] { read_lines(fd, out_); });
        readers_.emplace_back([this, fd = err[0]] { read_lines(fd, err_); });
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (running()) kill(SIGKILL);
        (void)wait();
        close_stdin();
        for (auto& t : readers_)
            if (t.joinable()) t.join();
    }

    bool started() const noexcept { return pid_ > 0; }
    pid_t pid() const noexcept { return pid_; }
    bool running() {
        if (pid_ <= 0 || status_) return false;
        int s = 0;
        if (::waitpid(pid_, &s, WNOHANG) == pid_) {
            status_ = s;
            return false;
        }
        return true;
    }

    /// Writes a line to the program's stdin.
    void send(std::string_view line) {
        if (stdin_ < 0) return;
        std::string l(line);
        l += '\n';
        std::size_t done = 0;
        while (done < l.size()) {
            const ssize_t n = ::write(stdin_, l.data() + done, l.size() - done);
            if (n <= 0) return;
            done += static_cast<std::size_t>(n);
        }
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }

    /// Sends a signal to the program (by its process id).
    void kill(int signal) {
        if (pid_ > 0 && !status_) ::kill(pid_, signal);
    }

    /// Waits for the program to end; returns its exit code, 128 + the signal that ended it, or
    /// -1 if it was never started.
    int wait() {
        if (pid_ <= 0) return -1;
        if (!status_) {
            int s = 0;
            if (::waitpid(pid_, &s, 0) == pid_) status_ = s;
        }
        if (!status_) return -1;
        if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
        if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
        return -1;
    }
    /// As `wait`, but gives up (killing it) after `timeout`.
    int wait_for(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
        if (running()) kill(SIGKILL);
        return wait();
    }

    /// The first stdout line from line number `from` on (0-based) for which `match` holds,
    /// waiting up to `timeout`; `from` is moved past it. Nothing when it did not come.
    std::optional<std::string> next_line(std::size_t& from, const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout = 60s) {
        std::unique_lock lock(mutex_);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            for (; from < out_.size(); ++from)
                if (match(out_[from])) return out_[from++];
            if (out_done_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
                for (; from < out_.size(); ++from)
                    if (match(out_[from])) return out_[from++];
                return std::nullopt;
            }
        }
    }
    /// The next stdout line that starts with `prefix`, after those already taken with this.
    std::optional<std::string> expect(std::string_view prefix, std::chrono::milliseconds timeout = 60s) {
        return next_line(cursor_, [&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, timeout);
    }
    /// Sends a command and waits for its answer (the next line starting with the command's name).
    std::optional<std::string> ask(std::string_view command, std::chrono::milliseconds timeout = 60s) {
        send(command);
        const std::string name(command.substr(0, command.find(' ')));
        return expect(name + " ", timeout);
    }

    std::vector<std::string> out_lines() const {
        std::lock_guard lock(mutex_);
        return out_;
    }
    std::vector<std::string> err_lines() const {
        std::lock_guard lock(mutex_);
        return err_;
    }
    /// Waits up to `timeout` for a stderr line containing `words`.
    std::optional<std::string> err_line(std::string_view words, std::chrono::milliseconds timeout = 30s) {
        std::unique_lock lock(mutex_);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t seen = 0;
        for (;;) {
            for (; seen < err_.size(); ++seen)
                if (err_[seen].find(words) != std::string::npos) return err_[seen];
            if (err_done_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
        }
    }
    std::string all_output() const {
        std::lock_guard lock(mutex_);
        std::string s;
        for (const auto& l : out_) s += "out: " + l + "\n";
        for (const auto& l : err_) s += "err: " + l + "\n";
        return s;
    }

private:
    void read_lines(int fd, std::vector<std::string>& into) {
        std::string partial;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            partial.append(buf, static_cast<std::size_t>(n));
            std::size_t eol;
            std::lock_guard lock(mutex_);
            while ((eol = partial.find('\n')) != std::string::npos) {
                into.push_back(partial.substr(0, eol));
                partial.erase(0, eol + 1);
            }
            changed_.notify_all();
        }
        ::close(fd);
        std::lock_guard lock(mutex_);
        if (!partial.empty()) into.push_back(partial);
        (&into == &out_ ? out_done_ : err_done_) = true;
        changed_.notify_all();
    }

    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    std::optional<int> status_;
    int stdin_ = -1;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> out_, err_;
    bool out_done_ = false, err_done_ = false;
    std::size_t cursor_ = 0;
    std::vector<std::thread> readers_;
};

/// Runs a program to its end (at most `timeout`); returns its exit code, and its output in `output`.
inline int run_program(std::vector<std::string> argv, std::string* output = nullptr,
                       std::chrono::milliseconds timeout = 120s) {
    Child c(std::move(argv));
    if (!c.started()) return -1;
    c.close_stdin();
    const int rc = c.wait_for(timeout);
    if (output) *output = c.all_output();
    return rc;
}

} // namespace resync_pg_test
