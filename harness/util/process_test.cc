#include "harness/util/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace crossload {
namespace {

using namespace std::chrono_literals;

ProcessOptions sh(const std::string& script) {
  ProcessOptions o;
  o.argv = {"sh", "-c", script};
  return o;
}

TEST(Process, CapturesBothStreamsAndTheExitCode) {
  auto r = run_process(sh("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->status_text(), "exit 3");
  EXPECT_EQ(r->tail(), "err");
}

TEST(Process, ReportsTheSignalThatEndedTheChild) {
  auto r = run_process(sh("kill -9 $$"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_NE(r->status_text().find("killed by signal 9"), std::string::npos);
}

TEST(Process, TimeoutKillsTheWholeProcessGroup) {
  // The grandchild would outlive a kill of the shell alone and hold the pipe open.
  auto o = sh("sleep 60 & echo $!; wait");
  o.timeout = 400ms;
  auto start = std::chrono::steady_clock::now();
  auto r = run_process(o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  pid_t grandchild = std::stoi(r->out);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    gone = !(stat >> pid >> comm >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "sleep " << grandchild << " survived the timeout";
}

// A child whose grandchild sleeps: no CPU time, no output. Noticed at the stall limit, long
// before the timeout, and the whole tree is killed.
TEST(Process, AChildMakingNoProgressIsKilledAsStalled) {
  auto o = sh("echo started; sleep 30 & wait");
  o.stall_timeout = 1s;
  o.timeout = 20s;
  auto r = run_process(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->stalled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->out, "started\n");
  EXPECT_GE(r->seconds, 1.0);
  EXPECT_LT(r->seconds, 8.0);
  EXPECT_NE(r->status_text().find("made no progress"), std::string::npos) << r->status_text();
}

// Busy in a grandchild (CPU time, no output) or quiet but writing now and then: both progress.
TEST(Process, CpuTimeOrOutputIsProgress) {
  // A grandchild that only burns CPU for 3 s (no output, no short-lived processes whose CPU time
  // would vanish with them): progress by CPU time alone.
  auto busy = sh("timeout 3 sh -c 'while :; do :; done'; echo done");
  busy.stall_timeout = 1s;
  auto r = run_process(busy);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->stalled) << r->seconds;
  EXPECT_GE(r->seconds, 2.0);  // ran past the stall limit on CPU time alone
  EXPECT_EQ(r->out, "done\n");
  auto talking = sh("for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done");
  talking.stall_timeout = 1s;
  auto t = run_process(talking);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_FALSE(t->stalled);
  EXPECT_TRUE(t->success());
}

TEST(Process, PassesTheChosenEnvironmentOnly) {
  ProcessOptions o;
  o.argv = {"/usr/bin/env"};
  o.clear_env = true;
  o.set_env = {{"CROSSLOAD_TEST", "yes"}};
  auto r = run_process(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "CROSSLOAD_TEST=yes\n");
}

TEST(Process, UnknownProgramIsAnErrorNotAResult) {
  ProcessOptions o;
  o.argv = {"no-such-program-crossload"};
  auto r = run_process(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no-such-program-crossload"), std::string::npos);
  o.argv = {"/etc/hostname"};
  auto r2 = run_process(o);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("cannot execute"), std::string::npos);
}

TEST(Process, StreamsLinesAsTheyArriveAndEchoesWhereItRan) {
  auto o = sh("printf 'a\\nb\\nc'");
  std::vector<std::string> lines;
  o.on_out_line = [&](std::string_view l) { lines.emplace_back(l); };
  std::ostringstream echo;
  o.echo = &echo;
  o.where = "bookworm/s390x rootfs";
  auto r = run_process(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(echo.str().find("+ sh -c "), std::string::npos);
  EXPECT_NE(echo.str().find("   [bookworm/s390x rootfs]\n"), std::string::npos);
  EXPECT_NE(echo.str().find("done in "), std::string::npos);
}

TEST(Process, SubprocessSpeaksLinesOverPipes) {
  ProcessOptions o;
  o.argv = {"cat"};
  o.in = o.out = Stream::kPipe;
  o.err = Stream::kInherit;
  auto child = Subprocess::spawn(o);
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(write_all(child->stdin_fd(), "{\"id\":1}\n"));
  LineReader reader(child->stdout_fd());
  auto line = reader.next(5s);
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(*line, "{\"id\":1}");
  child->close_stdin();
  auto end = reader.next(5s);
  EXPECT_FALSE(end);
  EXPECT_EQ(child->wait(5s).exit_code, 0);
}

TEST(Process, WritingToADeadChildIsAnErrorNotSigpipe) {
  ProcessOptions o;
  o.argv = {"true"};
  o.in = Stream::kPipe;
  auto child = Subprocess::spawn(o);
  ASSERT_TRUE(child);
  child->wait();
  std::string big(1 << 20, 'x');
  EXPECT_FALSE(write_all(child->stdin_fd(), big));
}

TEST(Process, LineReaderTimesOut) {
  ProcessOptions o;
  o.argv = {"sleep", "5"};
  o.out = Stream::kPipe;
  auto child = Subprocess::spawn(o);
  ASSERT_TRUE(child);
  LineReader reader(child->stdout_fd());
  auto line = reader.next(200ms);
  ASSERT_FALSE(line);
  EXPECT_NE(line.error().message.find("timed out"), std::string::npos);
}  // the destructor kills and reaps sleep

TEST(Process, ADieWithParentChildEndsWithItsParent) {
  // The parent is a shell we start; its child (sleep) is spawned by crossload code in a forked
  // copy of this test, which then exits: the sleep must not outlive it.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t middle = ::fork();
  if (middle == 0) {
    ProcessOptions o;
    o.argv = {"sleep", "60"};
    o.die_with_parent = true;
    o.out = Stream::kNull;
    o.err = Stream::kNull;
    auto child = Subprocess::spawn(o);
    pid_t pid = child ? child->pid() : -1;
    (void)!::write(fds[1], &pid, sizeof pid);
    ::_exit(0);  // no destructors: the child is left to the kernel's parent-death signal
  }
  pid_t sleeper = -1;
  ASSERT_EQ(::read(fds[0], &sleeper, sizeof sleeper), static_cast<ssize_t>(sizeof sleeper));
  ::waitpid(middle, nullptr, 0);
  ASSERT_GT(sleeper, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string pid, comm, state;
    gone = !(stat >> pid >> comm >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Process, FormatsDurations) {
  EXPECT_EQ(format_duration(0.72), "0.7 s");
  EXPECT_EQ(format_duration(161), "2 min 41 s");
}

// The stall detector reads /proc/<pid>/stat of processes that may end meanwhile: a read after
// the process is reaped fails with ESRCH, which must come back as an error, not an exception
// (it once ended a whole run as "internal error").
TEST(Process, ReadingTheStatOfAReapedProcessIsAnErrorValue) {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int fd = ::open(("/proc/" + std::to_string(child) + "/stat").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto text = read_fd(fd);
  ::close(fd);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("No such process"), std::string::npos) << text.error().message;
}

TEST(Process, ReadFdReadsToTheEnd) {
  int fd = ::open("/proc/self/status", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto text = read_fd(fd);
  ::close(fd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("VmRSS"), std::string::npos);
}

}  // namespace
}  // namespace crossload
