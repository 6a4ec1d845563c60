#pragma once
// Child processes: spawn an argv with a chosen environment, capture or stream its output, bound
// it in time (a timeout kills the child's whole process group, so grandchildren such as bwrap's
// or pip's do not outlive it), and report how it ended. Every command can be echoed as
// "+ cmd   [where]" followed by its duration, so a log says what ran where and for how long.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

// What happens to one standard stream of the child.
enum class Stream {
  kInherit,  // shares ours (interactive use)
  kNull,     // /dev/null
  kCapture,  // run_process: collected into ProcessResult (and passed to the line callback)
  kPipe,     // Subprocess: a pipe the caller reads or writes itself
};

struct ProcessOptions {
  std::vector<std::string> argv;               // argv[0] is looked up on PATH when it has no '/'
  std::map<std::string, std::string> set_env;  // added to, or replacing, the inherited environment
  std::vector<std::string> unset_env;          // removed from the inherited environment
  bool clear_env = false;                      // start from an empty environment instead
  std::string cwd;                             // empty: ours
  Stream in = Stream::kNull;
  Stream out = Stream::kCapture;
  Stream err = Stream::kCapture;
  // run_process: called with each complete line (no '\n') of a captured stream as it arrives.
  std::function<void(std::string_view)> on_out_line;
  std::function<void(std::string_view)> on_err_line;
  std::chrono::milliseconds timeout{0};        // 0: none
  // run_process: the child and its descendants are killed, and the result says stalled, once
  // they have used no CPU time and written no output for this long (a pool whose workers all
  // wait, e.g. compileall -j 0 under qemu-arm 7.2). 0: never.
  std::chrono::milliseconds stall_timeout{0};
  std::chrono::milliseconds kill_grace{2000};  // after SIGTERM to the group, before SIGKILL
  // The child leads a new process group so a timeout can kill all it started. An interactive
  // child that reads the terminal must stay in ours (a background group gets SIGTTIN).
  bool own_process_group = true;
  // A child in its own group misses the terminal's Ctrl-C; with this it is killed (SIGKILL) when
  // we die instead of running on (a half-done mmdebstrap). Linux ties this to the *thread* that
  // spawned it: only for children whose spawning thread outlives them.
  bool die_with_parent = false;
  std::ostream* echo = nullptr;  // "+ cmd   [where]" before, duration after
  std::string where = "host";
};

struct ProcessResult {
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  bool stalled = false;  // killed for making no progress (ProcessOptions::stall_timeout)
  bool interrupted = false;  // killed because SIGINT/SIGTERM stopped crossload (harness/util/interrupt.h)
  double seconds = 0;
  std::string out;     // captured stdout (kCapture)
  std::string err;     // captured stderr (kCapture)

  bool success() const { return !timed_out && !interrupted && signal == 0 && exit_code == 0; }
  // "exit 0", "exit 25", "killed by signal 9 (Killed)", "timed out after 30 s (process group killed)",
  // "made no progress for 60 s (no CPU time, no output; killed)"
  std::string status_text() const;
  // The last non-empty lines of stderr (or stdout when stderr is empty), joined by " | ".
  std::string tail(std::size_t lines = 2) const;
};

// A running child. Moving transfers ownership; destroying a still-running child kills its
// process group and reaps it, so no child outlives the object that started it.
class Subprocess {
 public:
  static Result<Subprocess> spawn(const ProcessOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return in_fd_; }   // -1 unless Stream::kPipe
  int stdout_fd() const { return out_fd_; }
  int stderr_fd() const { return err_fd_; }
  void close_stdin();

  // Sends sig to the child's process group (or the child alone when it has none of its own).
  void kill(int sig);
  // Reaps the child, waiting at most `timeout` (0: forever); past it the group is killed
  // (SIGTERM, then SIGKILL after the grace) and the result says timed_out.
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  // Non-blocking: true once the child has been reaped (its result is then in wait()).
  bool exited();

 private:
  Subprocess() = default;
  void close_fds();
  void reset();

  pid_t pid_ = -1;
  bool own_group_ = true;
  std::chrono::milliseconds grace_{2000};
  std::chrono::steady_clock::time_point started_{};
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
};

// Runs a child to completion. An Error only when it could not be started (no such program, not
// executable); a child that fails, crashes or times out is a ProcessResult saying so.
Result<ProcessResult> run_process(const ProcessOptions& options);

// Reads newline-terminated lines from a file descriptor with a deadline per line.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its '\n'. Errors: "timed out after N s", "end of stream".
  Result<std::string> next(std::chrono::milliseconds timeout);

 private:
  int fd_;
  std::string buffer_;
};

// Writes all of `data` (retrying on EINTR and short writes).
Status write_all(int fd, std::string_view data);

// Seconds as people read them in a log: "0.7 s", "18.4 s", "2 min 41 s".
std::string format_duration(double seconds);

// Everything left to read from `fd`, or the read error as a value. Files under /proc can fail
// mid-read (ESRCH once their process is reaped), which std::istreambuf_iterator turns into an
// exception.
Result<std::string> read_fd(int fd);

}  // namespace crossload
