#include "isolation.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace crossload_native {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kUidBase = 2000000000u, kUidSpan = 100000000u;  // as harness/worker/privileges.py

// A uid no account uses, one per consumer process: RLIMIT_NPROC then counts the load alone.
unsigned sandbox_uid() {
  static const unsigned uid = kUidBase + std::random_device{}() % kUidSpan;
  return uid;
}

void set_limit(int which, rlim_t soft, rlim_t hard) {
  rlimit r{soft, hard};
  if (setrlimit(which, &r) != 0) throw std::runtime_error(std::string("setrlimit: ") + std::strerror(errno));
}

// Becomes `uid`, keeping CAP_DAC_READ_SEARCH only, with no way back.
void drop_to(unsigned uid) {
  if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0) throw std::runtime_error(std::string("setgid: ") + std::strerror(errno));
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (setresuid(uid, uid, uid) != 0) throw std::runtime_error(std::string("setuid: ") + std::strerror(errno));
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = data[0].permitted = 1u << CAP_DAC_READ_SEARCH;
  if (syscall(SYS_capset, &header, data) != 0) throw std::runtime_error(std::string("capset: ") + std::strerror(errno));
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

// Everything the child does before it touches the artifact; returns what was applied.
json confine(const Limits& l, const std::string& tmpdir, bool as_root) {
  setpgid(0, 0);
  int null = open("/dev/null", O_RDONLY);
  dup2(null, 0);
  close(null);
  setenv("TMPDIR", tmpdir.c_str(), 1);
  if (chdir(tmpdir.c_str()) != 0) throw std::runtime_error("chdir " + tmpdir + ": " + std::strerror(errno));
  set_limit(RLIMIT_CORE, 0, 0);
  json applied = {{"uid", nullptr}, {"processes", nullptr}, {"cpu_seconds", nullptr}, {"address_space_bytes", nullptr}};
  if (as_root) {
    drop_to(sandbox_uid());
    applied["uid"] = sandbox_uid();
  }
  if (l.processes && (as_root || getuid() != 0)) {
    set_limit(RLIMIT_NPROC, static_cast<rlim_t>(*l.processes), static_cast<rlim_t>(*l.processes));
    applied["processes"] = *l.processes;
  }
  if (l.cpu_seconds) {
    auto soft = static_cast<rlim_t>(std::ceil(*l.cpu_seconds));
    set_limit(RLIMIT_CPU, soft, soft + 1);
    applied["cpu_seconds"] = soft;
  }
  if (l.address_space_bytes) {
    auto limit = static_cast<rlim_t>(status_kb("VmSize") * 1024LL + *l.address_space_bytes);
    set_limit(RLIMIT_AS, limit, RLIM_INFINITY);
    applied["address_space_bytes"] = limit;
  }
  return applied;
}

[[noreturn]] void child(const std::function<json(const std::string&)>& work, const Limits& l,
                        const std::string& tmpdir, int fd, bool as_root) {
  json answer;
  try {
    json applied = confine(l, tmpdir, as_root);
    answer = work(tmpdir);
    if (answer.value("ok", false)) answer["result"]["isolation"] = applied;
  } catch (const std::exception& e) {  // the confinement itself failed
    answer = {{"ok", false}, {"error", {{"stage", "protocol"}, {"type", "IsolationError"}, {"message", e.what()}}}};
  }
  std::string text = answer.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(70);
    done += static_cast<std::size_t>(n);
  }
  _exit(0);
}

// Reads the child's answer until EOF or the wall deadline; true when the deadline passed.
bool read_answer(int fd, std::optional<double> wall, std::string* out) {
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wall.value_or(1e9)));
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out->append(buf, static_cast<std::size_t>(n));
  }
}

json death(int status, bool timed_out, const rusage& ru, std::optional<double> wall, std::optional<double> cpu) {
  json e = {{"stage", "crash"}};
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (timed_out) {
    e = {{"stage", "timeout"}, {"type", "WallTimeout"}, {"limit", "wall"}, {"seconds", *wall},
         {"message", "the load ran past the wall limit of " + std::to_string(*wall) + " s and was killed"}};
  } else if (cpu && (sig == SIGXCPU || (sig == SIGKILL && ru.ru_utime.tv_sec + ru.ru_stime.tv_sec >= *cpu))) {
    e = {{"stage", "timeout"}, {"type", "CpuTimeout"}, {"limit", "cpu"}, {"seconds", *cpu},
         {"message", "the load used more than " + std::to_string(*cpu) + " CPU seconds and was killed"}};
  } else if (sig) {
    e.update({{"type", "Signal"}, {"signal", sig}, {"message", std::string("the load's child died by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")"}});
  } else {
    int code = WEXITSTATUS(status);
    e.update({{"type", "Exit"}, {"exit_status", code}, {"message", "the load's child exited with status " + std::to_string(code) + " without answering"}});
  }
  return {{"ok", false}, {"error", e}};
}

}  // namespace

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string key = std::string(field) + ":";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  return 0;
}

bool parse_limits(const json& j, Limits* l, std::string* err) {
  if (j.is_null()) return true;
  if (!j.is_object()) return *err = "limits must be an object", false;
  for (const auto& [key, v] : j.items()) {
    if (v.is_null()) continue;
    if (!v.is_number() || v.get<double>() <= 0) return *err = "limits." + key + " must be a positive number or null", false;
    if (key == "wall_seconds") l->wall_seconds = v.get<double>();
    else if (key == "cpu_seconds") l->cpu_seconds = v.get<double>();
    else if (key == "address_space_bytes") l->address_space_bytes = v.get<long long>();
    else if (key == "processes") l->processes = v.get<long long>();
    else return *err = "unknown limit '" + key + "'", false;
  }
  return true;
}

json run_isolated(const std::function<json(const std::string&)>& work, const Limits& limits, const std::string& tmp_root,
                  const std::function<void(const std::string&)>& publish) {
  std::string pattern = (fs::path(tmp_root.empty() ? "/tmp" : tmp_root) / "crossload-load-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return {{"ok", false}, {"error", {{"stage", "protocol"}, {"type", "OSError"}, {"message", "mkdtemp " + pattern + ": " + std::strerror(errno)}}}};
  std::string tmpdir = pattern;
  bool as_root = geteuid() == 0;
  if (as_root && chown(tmpdir.c_str(), sandbox_uid(), sandbox_uid()) != 0) as_root = false;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {{"ok", false}, {"error", {{"stage", "protocol"}, {"type", "OSError"}, {"message", std::strerror(errno)}}}};
  long rss_at_fork = status_kb("VmRSS");
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {{"ok", false}, {"error", {{"stage", "protocol"}, {"type", "OSError"}, {"message", std::string("fork: ") + std::strerror(errno)}}}};
  }
  if (pid == 0) {
    close(fds[0]);
    child(work, limits, tmpdir, fds[1], as_root);
  }
  close(fds[1]);
  setpgid(pid, pid);  // the child does it too: whoever runs first wins the race
  std::string text;
  bool timed_out = read_answer(fds[0], limits.wall_seconds, &text);
  close(fds[0]);
  kill(-pid, SIGKILL);  // whatever the load left running in its group
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  json answer = text.empty() || timed_out ? json() : json::parse(text, nullptr, false);
  if (!answer.is_object()) answer = death(status, timed_out, ru, limits.wall_seconds, limits.cpu_seconds);
  else if (answer.value("ok", false)) publish(tmpdir);
  json& facts = answer.value("ok", false) ? answer["result"] : answer["error"];
  facts["rss_at_fork_kb"] = rss_at_fork;
  facts["rss_peak_kb"] = ru.ru_maxrss;
  facts["isolated_seconds"] = seconds;
  std::error_code ec;
  fs::remove_all(tmpdir, ec);
  return answer;
}

}  // namespace crossload_native
