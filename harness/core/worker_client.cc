#include "harness/core/worker_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "harness/util/interrupt.h"

namespace crossload {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> worker_argv(const Launch& launch, const std::string& root) {
  std::vector<std::string> argv = launch.python;
  argv.push_back(root + "/harness/worker/worker.py");
  argv.push_back("--root");
  argv.push_back(root);
  return argv;
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const Launch& launch, int in_fd,
                             int out_fd, int log_fd) {
  ::setpgid(0, 0);  // its own group, so a timeout can kill what the worker started too
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(log_fd, 2);
  for (const auto& [k, v] : launch.env) ::setenv(k.c_str(), v.c_str(), 1);
  ::setenv("PYTHONUNBUFFERED", "1", 1);
  // One thread per library: cells run side by side on shared cores, and oversubscribed
  // OpenMP/BLAS pools make timings noise (HGB ran 100x slower). A launch may override.
  for (const char* var : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"})
    if (!launch.env.count(var)) ::setenv(var, "1", 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  dprintf(2, "crossload: cannot execute %s: %s\n", args[0], std::strerror(errno));
  ::_exit(127);
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

Result<std::unique_ptr<WorkerClient>> WorkerClient::start(const std::string& env_name,
                                                          const Launch& launch,
                                                          const std::string& source_root,
                                                          const std::string& log_path) {
  std::unique_ptr<WorkerClient> c(new WorkerClient());
  c->env_name_ = env_name;
  c->launch_ = launch;
  c->source_root_ = source_root;
  c->log_path_ = log_path;
  if (auto st = c->spawn(); !st) return st.error();
  return c;
}

WorkerClient::~WorkerClient() { stop(false); }

Status WorkerClient::spawn() {
  if (interrupted())
    return make_error(ErrorKind::kInterrupted, fmt::format("the {} worker was not started: crossload was interrupted by {}",
                                                           env_name_, interrupt_signal_name()));
  ::signal(SIGPIPE, SIG_IGN);  // a dead worker must be an answer, not the harness's death
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return make_error(fmt::format("{}: cannot open worker log: {}", log_path_, std::strerror(errno)));
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return make_error(fmt::format("cannot create pipes for the {} worker: {}", env_name_, std::strerror(errno)));
  }
  auto argv = worker_argv(launch_, source_root_);
  pid_t pid = ::fork();
  if (pid == 0) exec_child(argv, launch_, in[0], out[1], log_fd);
  ::close(in[0]);
  ::close(out[1]);
  ::close(log_fd);
  if (pid < 0) return make_error(fmt::format("cannot fork the {} worker: {}", env_name_, std::strerror(errno)));
  ::setpgid(pid, pid);
  pid_ = pid;
  to_worker_ = in[1];
  from_worker_ = out[0];
  buffer_.clear();
  return ok_status();
}

void WorkerClient::stop(bool kill_now) {
  if (to_worker_ >= 0) ::close(to_worker_), to_worker_ = -1;  // EOF asks the worker to exit
  if (pid_ > 0) {
    if (kill_now) ::kill(-pid_, SIGKILL);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(10000);
    }
    pid_ = -1;
  }
  if (from_worker_ >= 0) ::close(from_worker_), from_worker_ = -1;
}

Status WorkerClient::restart() {
  stop(true);
  return spawn();
}

WorkerFailure WorkerClient::reap_failure(const std::string& what) {
  WorkerFailure f;
  f.kind = WorkerFailure::Kind::kDied;
  int status = 0;
  if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_) {
    if (WIFSIGNALED(status)) f.signal = WTERMSIG(status);
    if (WIFEXITED(status)) f.exit_status = WEXITSTATUS(status);
    f.message = fmt::format("the {} worker {} during {} (log: {})", env_name_, describe_status(status),
                            what, log_path_);
  } else {
    f.message = fmt::format("the {} worker vanished during {} (log: {})", env_name_, what, log_path_);
  }
  pid_ = -1;
  stop(false);
  return f;
}

WorkerReply WorkerClient::request(nlohmann::json req, std::chrono::milliseconds timeout) {
  WorkerReply reply;
  auto started = Clock::now();
  long id = next_id_++;
  req["id"] = id;
  std::string op = req.value("op", std::string("?"));
  if (pid_ <= 0) {
    reply.failure = {WorkerFailure::Kind::kDied, 0, -1, fmt::format("the {} worker is not running", env_name_)};
    return reply;
  }
  if (!write_all(to_worker_, req.dump() + "\n")) {
    reply.failure = reap_failure("request '" + op + "'");
    return reply;
  }
  auto deadline = started + timeout;
  while (true) {
    if (interrupted()) {  // the run stops: the answer would be thrown away, so the worker goes now
      reply.failure = {WorkerFailure::Kind::kInterrupted, 0, -1,
                       fmt::format("the {} worker's '{}' was cut short: crossload was interrupted by {}", env_name_, op,
                                   interrupt_signal_name())};
      stop(true);
      break;
    }
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        reply.failure = {WorkerFailure::Kind::kProtocol, 0, -1,
                         fmt::format("the {} worker answered '{}' with a line that is not a JSON object: {:.200}",
                                     env_name_, op, line)};
        stop(true);
        break;
      }
      if (parsed.value("id", -1L) != id) continue;  // a stale answer to a request that timed out
      reply.answer = std::move(parsed);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      reply.failure = {WorkerFailure::Kind::kTimeout, 0, -1,
                       fmt::format("the {} worker gave no answer to '{}' within {:.0f} s", env_name_, op,
                                   timeout.count() / 1000.0)};
      stop(true);
      break;
    }
    pollfd p{from_worker_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[65536];
    ssize_t n = ::read(from_worker_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      reply.failure = reap_failure("request '" + op + "'");
      break;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  reply.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return reply;
}

}  // namespace crossload
