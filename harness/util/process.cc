#include "harness/util/process.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "harness/util/interrupt.h"
#include "harness/util/text.h"

extern char** environ;

namespace crossload {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The child's environment, built before fork: after fork only async-signal-safe calls are allowed.
std::vector<std::string> build_env(const ProcessOptions& o) {
  std::map<std::string, std::string> vars;
  if (!o.clear_env) {
    for (char** e = environ; *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string_view::npos) vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (const auto& name : o.unset_env) vars.erase(name);
  for (const auto& [k, v] : o.set_env) vars[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// execvpe looks argv[0] up on the PATH of the child's environment only when we give it that
// PATH; we look it up on ours, as a shell would, since set_env's PATH is meant for the child.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = ::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

struct Pipe {
  int read = -1, write = -1;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(fmt::format("pipe: {}", strerror(errno)));
  return Pipe{fds[0], fds[1]};
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Child side, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const ProcessOptions& o, const char* program, char** argv, char** envp,
                             const Pipe& in, const Pipe& out, const Pipe& err, int error_fd, pid_t parent) {
  if (o.own_process_group) ::setpgid(0, 0);
  // The race with a parent that died before prctl() is closed by the getppid() check.
  if (o.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  auto wire = [](Stream mode, const Pipe& p, int target, bool child_reads) {
    if (mode == Stream::kInherit) return;
    int fd = -1;
    if (mode == Stream::kNull) fd = ::open("/dev/null", child_reads ? O_RDONLY : O_WRONLY);
    else fd = child_reads ? p.read : p.write;
    if (fd >= 0) ::dup2(fd, target);
  };
  wire(o.in, in, 0, true);
  wire(o.out, out, 1, false);
  wire(o.err, err, 2, false);
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) {
    int e = errno;
    (void)!::write(error_fd, &e, sizeof e);
    ::_exit(127);
  }
  ::execve(program, argv, envp);
  int e = errno;
  (void)!::write(error_fd, &e, sizeof e);
  ::_exit(127);
}

// Reads the exec-failure report: 0 bytes means exec succeeded (the CLOEXEC pipe closed).
int read_exec_errno(int fd) {
  int child_errno = 0;
  ssize_t n;
  do n = ::read(fd, &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  return n == sizeof child_errno ? child_errno : 0;
}

std::string signal_name(int sig) {
  const char* d = ::strsignal(sig);
  return fmt::format("signal {} ({})", sig, d ? d : "?");
}

}  // namespace

std::string ProcessResult::status_text() const {
  if (interrupted) return "stopped: crossload was interrupted (process group killed)";
  if (stalled) return "made no progress (no CPU time, no output; process group killed)";
  if (timed_out) return fmt::format("timed out after {} (process group killed)", format_duration(seconds));
  if (signal) return "killed by " + signal_name(signal);
  return fmt::format("exit {}", exit_code);
}

std::string ProcessResult::tail(std::size_t lines) const {
  const std::string& text = err.find_first_not_of(" \n\t") == std::string::npos ? out : err;
  std::vector<std::string> picked;
  std::size_t end = text.size();
  while (end > 0 && picked.size() < lines) {
    std::size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string::npos) picked.insert(picked.begin(), line);
    end = start == 0 ? 0 : start - 1;
  }
  return join(picked, " | ");
}

Result<Subprocess> Subprocess::spawn(const ProcessOptions& o) {
  if (o.argv.empty()) return make_error("cannot start a process: empty command line");
  std::string program = resolve_program(o.argv[0]);
  if (program.empty()) return make_error(fmt::format("{}: command not found on PATH", o.argv[0]));
  std::vector<std::string> args = o.argv, env = build_env(o);
  std::vector<char*> argv = c_array(args), envp = c_array(env);

  Pipe in, out, err;
  for (auto [mode, pipe] : {std::pair{o.in, &in}, std::pair{o.out, &out}, std::pair{o.err, &err}}) {
    if (mode != Stream::kCapture && mode != Stream::kPipe) continue;
    auto p = make_pipe();
    if (!p) return p.error();
    *pipe = *p;
  }
  auto report = make_pipe();
  if (!report) return report.error();

  Subprocess child;
  child.own_group_ = o.own_process_group;
  child.grace_ = o.kill_grace;
  child.started_ = Clock::now();
  pid_t parent = ::getpid();
  child.pid_ = ::fork();
  if (child.pid_ == 0) exec_child(o, program.c_str(), argv.data(), envp.data(), in, out, err, report->write, parent);
  int fork_errno = errno;
  // Also set the group from the parent: whichever runs first, kill(-pid) then finds it.
  if (child.pid_ > 0 && o.own_process_group) ::setpgid(child.pid_, child.pid_);
  close_fd(report->write);
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  child.in_fd_ = in.write, child.out_fd_ = out.read, child.err_fd_ = err.read;
  if (child.pid_ < 0) {
    close_fd(report->read);
    child.close_fds();
    return make_error(fmt::format("fork: {}", strerror(fork_errno)));
  }
  int exec_errno = read_exec_errno(report->read);
  close_fd(report->read);
  if (exec_errno) {
    child.wait();
    return make_error(fmt::format("{}: cannot execute: {}", o.argv[0], strerror(exec_errno)));
  }
  return child;
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this == &other) return *this;
  reset();
  pid_ = other.pid_, own_group_ = other.own_group_, grace_ = other.grace_, started_ = other.started_;
  in_fd_ = other.in_fd_, out_fd_ = other.out_fd_, err_fd_ = other.err_fd_;
  reaped_ = other.reaped_, wait_status_ = other.wait_status_;
  other.pid_ = -1;
  other.in_fd_ = other.out_fd_ = other.err_fd_ = -1;
  return *this;
}

Subprocess::~Subprocess() { reset(); }

void Subprocess::reset() {
  if (pid_ > 0 && !reaped_) {
    kill(SIGKILL);
    ::waitpid(pid_, &wait_status_, 0);
    reaped_ = true;
  }
  close_fds();
  pid_ = -1;
}

void Subprocess::close_fds() {
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

void Subprocess::close_stdin() { close_fd(in_fd_); }

void Subprocess::kill(int sig) {
  if (pid_ <= 0) return;
  // After the child is reaped its pid may be reused: only the group may still hold stragglers.
  if (own_group_) ::kill(-pid_, sig);
  else if (!reaped_) ::kill(pid_, sig);
}

bool Subprocess::exited() {
  if (reaped_) return true;
  if (pid_ <= 0) return true;
  pid_t r = ::waitpid(pid_, &wait_status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return reaped_;
}

ProcessResult Subprocess::wait(milliseconds timeout) {
  ProcessResult result;
  auto deadline = started_ + timeout;
  while (!exited()) {
    if (timeout.count() > 0 && Clock::now() >= deadline) {
      result.timed_out = true;
      kill(SIGTERM);
      auto hard = Clock::now() + grace_;
      while (!exited() && Clock::now() < hard) std::this_thread::sleep_for(milliseconds(10));
      if (!exited()) {
        kill(SIGKILL);
        ::waitpid(pid_, &wait_status_, 0);
        reaped_ = true;
      }
      break;
    }
    std::this_thread::sleep_for(milliseconds(timeout.count() > 0 ? 5 : 20));
  }
  // Whatever the group still holds (a daemonised grandchild) goes with the child's end.
  if (result.timed_out) kill(SIGKILL);
  result.seconds = seconds_since(started_);
  if (WIFEXITED(wait_status_)) result.exit_code = WEXITSTATUS(wait_status_);
  if (WIFSIGNALED(wait_status_)) result.signal = WTERMSIG(wait_status_);
  return result;
}

namespace {

struct Capture {
  int fd;
  std::string* text;
  const std::function<void(std::string_view)>* on_line;
  std::size_t line_start = 0;
};

// Reads what is available; false at end of stream.
bool pump(Capture& c) {
  char buf[65536];
  ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    if (*c.on_line && c.line_start < c.text->size()) (*c.on_line)(std::string_view(*c.text).substr(c.line_start));
    c.line_start = c.text->size();
    return false;
  }
  c.text->append(buf, static_cast<std::size_t>(n));
  for (std::size_t nl; (nl = c.text->find('\n', c.line_start)) != std::string::npos; c.line_start = nl + 1)
    if (*c.on_line) (*c.on_line)(std::string_view(*c.text).substr(c.line_start, nl - c.line_start));
  return true;
}

// CPU ticks (user + system, with those of reaped children) of `root` and every descendant, read
// from /proc: a process tree, not a process group, since bwrap and pools may start new groups.
long long tree_cpu_ticks(pid_t root) {
  std::map<pid_t, std::pair<pid_t, long long>> procs;  // pid -> (parent, ticks)
  DIR* dir = ::opendir("/proc");
  if (!dir) return 0;
  while (dirent* e = ::readdir(dir)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    // A process may end between readdir and read (ESRCH): it is simply not counted.
    int fd = ::open((std::string("/proc/") + e->d_name + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    auto text = read_fd(fd);
    ::close(fd);
    if (!text) continue;
    const std::string& stat = *text;
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));  // state ppid pgrp ... (field 3 onwards)
    std::string state;
    long long v[15] = {};
    fields >> state;
    for (auto& x : v) fields >> x;  // fields 4..18: ppid is v[0], utime..cstime are v[10..13]
    procs[pid] = {static_cast<pid_t>(v[0]), v[10] + v[11] + v[12] + v[13]};
  }
  ::closedir(dir);
  long long ticks = 0;
  for (const auto& [pid, info] : procs) {
    for (pid_t p = pid, hops = 0; p > 0 && hops < 64; ++hops) {
      if (p == root) {
        ticks += info.second;
        break;
      }
      auto it = procs.find(p);
      if (it == procs.end()) break;
      p = it->second.first;
    }
  }
  return ticks;
}

// Watches for progress: output read, or CPU time used by the child's tree.
class StallWatch {
 public:
  StallWatch(pid_t root, milliseconds limit) : root_(root), limit_(limit), last_(Clock::now()) {}
  bool enabled() const { return limit_.count() > 0; }
  void output() { last_ = Clock::now(); }
  // True once nothing moved for the limit; reads /proc at most every quarter of it (or second).
  bool stalled() {
    auto now = Clock::now();
    if (!enabled() || now - checked_ < std::min<milliseconds>(limit_ / 4, milliseconds(1000))) return false;
    checked_ = now;
    long long ticks = tree_cpu_ticks(root_);
    if (ticks != ticks_) ticks_ = ticks, last_ = now;
    return now - last_ >= limit_;
  }

 private:
  pid_t root_;
  milliseconds limit_;
  Clock::time_point last_, checked_{};
  long long ticks_ = -1;
};

enum class Drained { kDone, kTimedOut, kStalled, kInterrupted };

// Drains the captured streams until both close, the child has exited and a grace has passed
// (a grandchild may keep a pipe open), the deadline passes, or the child stalls.
Drained drain(std::vector<Capture>& captures, Subprocess& child, Clock::time_point deadline, bool bounded,
              milliseconds grace, StallWatch& watch) {
  Clock::time_point exit_seen{};
  while (!captures.empty() || (watch.enabled() && !child.exited())) {
    auto now = Clock::now();
    if (bounded && now >= deadline) return Drained::kTimedOut;
    if (interrupted()) return Drained::kInterrupted;  // crossload stops: the child's group goes with it
    if (child.exited()) {
      if (exit_seen == Clock::time_point{}) exit_seen = now;
      if (now - exit_seen > grace) return Drained::kDone;
    } else if (watch.stalled()) {
      return Drained::kStalled;
    }
    std::vector<pollfd> fds;
    for (const auto& c : captures) fds.push_back({c.fd, POLLIN, 0});
    int wait_ms = 50;
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) return Drained::kDone;
    for (std::size_t i = fds.size(); i-- > 0;) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      watch.output();
      if (!pump(captures[i])) captures.erase(captures.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return Drained::kDone;
}

void echo_start(const ProcessOptions& o) {
  if (o.echo) *o.echo << "+ " << shell_line(o.argv) << "   [" << o.where << "]" << std::endl;
}

void echo_end(const ProcessOptions& o, const ProcessResult& r) {
  if (!o.echo) return;
  if (r.success()) *o.echo << "  done in " << format_duration(r.seconds) << std::endl;
  else *o.echo << "  " << r.status_text() << " after " << format_duration(r.seconds) << std::endl;
}

}  // namespace

Result<std::string> read_fd(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return text;
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    } else if (errno != EINTR) {
      return make_error(fmt::format("read: {}", ::strerror(errno)));
    }
  }
}

Result<ProcessResult> run_process(const ProcessOptions& options) {
  ProcessOptions o = options;
  echo_start(o);
  auto child = Subprocess::spawn(o);
  if (!child) {
    if (o.echo) *o.echo << "  could not start: " << child.error().message << std::endl;
    return child.error();
  }
  std::string out, err;
  std::vector<Capture> captures;
  if (o.out == Stream::kCapture) captures.push_back({child->stdout_fd(), &out, &o.on_out_line});
  if (o.err == Stream::kCapture) captures.push_back({child->stderr_fd(), &err, &o.on_err_line});
  auto start = Clock::now();
  bool bounded = o.timeout.count() > 0;
  StallWatch watch(child->pid(), o.stall_timeout);
  Drained how = drain(captures, *child, start + o.timeout, bounded, o.kill_grace, watch);
  ProcessResult r = child->wait(how == Drained::kDone ? o.timeout : milliseconds{1});
  if (how == Drained::kTimedOut) r.timed_out = true;
  if (how == Drained::kStalled) r.stalled = true, r.timed_out = false;
  if (how == Drained::kInterrupted) r.interrupted = true, r.timed_out = false;
  r.out = std::move(out);
  r.err = std::move(err);
  echo_end(o, r);
  return r;
}

Result<std::string> LineReader::next(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return make_error(fmt::format("timed out after {}", format_duration(timeout.count() / 1000.0)));
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return make_error(fmt::format("poll: {}", strerror(errno)));
    if (n <= 0) continue;
    char buf[65536];
    ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return make_error("end of stream");
    buffer_.append(buf, static_cast<std::size_t>(got));
  }
}

// A child that died before reading must not kill us with SIGPIPE: block it for this thread
// while writing, and swallow the one the failed write raised (EPIPE is the error we report).
Status write_all(int fd, std::string_view data) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int failure = 0;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failure = errno;
      break;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (failure == EPIPE) {
    timespec zero{0, 0};
    ::sigtimedwait(&pipe_set, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (failure) return make_error(fmt::format("write: {}", strerror(failure)));
  return ok_status();
}

std::string format_duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  long total = std::lround(seconds);
  return fmt::format("{} min {} s", total / 60, total % 60);
}

}  // namespace crossload
