#include "harness/env/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/util/interrupt.h"
#include "harness/util/process.h"

namespace crossload {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// FNV-1a, 64 bits: the key only has to spread a handful of entries, and the full canonical text
// is stored and compared, so a collision rebuilds instead of reusing the wrong environment.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '-';
  return out;
}

std::optional<nlohmann::json> read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// Written beside, then renamed: a reader sees the old file or the whole new one.
Status write_file_atomic(const fs::path& path, const std::string& text) {
  fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return make_error(fmt::format("{}: cannot write", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error(fmt::format("{}: {}", path.string(), ec.message()));
  return ok_status();
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

const std::string kBuildingPrefix = ".building-";

// ".building-<id>-<pid>" -> "<id>"
std::string id_of_build_dir(const std::string& name) {
  std::string rest = name.substr(kBuildingPrefix.size());
  auto dash = rest.rfind('-');
  return dash == std::string::npos ? rest : rest.substr(0, dash);
}

void remove_tree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace

CacheKey make_cache_key(const std::string& readable,
                        const std::vector<std::pair<std::string, std::string>>& fields) {
  CacheKey key;
  for (const auto& [name, value] : fields) key.canonical += name + "=" + value + "\n";
  key.id = fmt::format("{}-{:016x}", sanitize(readable), fnv1a(key.canonical));
  return key;
}

Result<FileLock> FileLock::acquire(const std::string& path, std::chrono::milliseconds timeout,
                                   const std::function<void()>& on_wait) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(fmt::format("{}: cannot open lock file: {}", path, strerror(errno)));
  auto deadline = Clock::now() + timeout;
  bool told = false;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int e = errno;
      ::close(fd);
      return make_error(fmt::format("{}: flock: {}", path, strerror(e)));
    }
    if (interrupted()) {  // SIGINT/SIGTERM: stop waiting for the other builder
      ::close(fd);
      return make_error(ErrorKind::kInterrupted, fmt::format("{}: waiting for the lock was cut short: crossload was "
                                                             "interrupted by {}", path, interrupt_signal_name()));
    }
    if (Clock::now() >= deadline) {
      ::close(fd);
      return make_error(fmt::format("{}: still locked by another crossload after {}", path,
                                    format_duration(timeout.count() / 1000.0)));
    }
    if (!told && on_wait) on_wait();
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

bool FileLock::is_free(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return true;
  bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return free;
}

std::string EnvCache::entry_dir(const CacheKey& key) const { return root_ + "/envs/" + key.id; }
std::string EnvCache::log_path(const CacheKey& key) const { return root_ + "/logs/" + key.id + ".log"; }
std::string EnvCache::lock_path(const CacheKey& key) const { return root_ + "/locks/" + key.id + ".lock"; }

std::optional<nlohmann::json> EnvCache::stamp(const CacheKey& key) const {
  auto s = read_json(fs::path(entry_dir(key)) / "stamp.json");
  if (!s || s->value("canonical", std::string()) != key.canonical) return std::nullopt;
  return s;
}

Result<std::string> EnvCache::get_or_build(const CacheKey& key, const BuildFn& build, std::ostream* log,
                                           std::chrono::milliseconds lock_timeout) {
  if (stamp(key)) return entry_dir(key);
  auto lock = FileLock::acquire(lock_path(key), lock_timeout, [&] {
    if (log) *log << "  waiting for another crossload building " << key.id << " (" << lock_path(key) << ")" << std::endl;
  });
  if (!lock) return lock.error();
  // The other builder may have finished while we waited.
  if (stamp(key)) return entry_dir(key);
  if (auto st = build_into_place(key, build, log); !st) return st.error();
  return entry_dir(key);
}

Status EnvCache::build_into_place(const CacheKey& key, const BuildFn& build, std::ostream* log) {
  fs::path envs = fs::path(root_) / "envs";
  std::error_code ec;
  fs::create_directories(envs, ec);
  fs::create_directories(fs::path(root_) / "logs", ec);
  // We hold the key's lock: any build directory of this key is an interrupted build's leftover.
  for (const auto& e : fs::directory_iterator(envs, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(kBuildingPrefix, 0) == 0 && id_of_build_dir(name) == key.id) remove_tree(e.path());
  }
  fs::path tmp = envs / fmt::format("{}{}-{}", kBuildingPrefix, key.id, ::getpid());
  fs::create_directories(tmp, ec);
  if (ec) return make_error(fmt::format("{}: cannot create: {}", tmp.string(), ec.message()));
  std::ofstream(log_path(key), std::ios::trunc) << "# crossload build of " << key.id << "\n" << key.canonical;
  if (log) *log << "building environment " << key.id << " (log: " << log_path(key) << ")" << std::endl;

  auto start = Clock::now();
  auto facts = build(BuildDir{tmp.string(), log_path(key)});
  if (!facts) {
    remove_tree(tmp);
    return facts.error();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json stamp{{"key", key.id},           {"canonical", key.canonical},
                       {"provision_seconds", seconds}, {"built_at", now_iso8601()},
                       {"fixup_version", kFixupVersion}, {"facts", *facts}};
  if (auto st = write_file_atomic(tmp / "stamp.json", stamp.dump(2) + "\n"); !st) {
    remove_tree(tmp);
    return st.error();
  }
  fs::path final_dir = entry_dir(key);
  remove_tree(final_dir);  // an entry without a valid stamp (hand-edited, hash collision)
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    remove_tree(tmp);
    return make_error(fmt::format("{}: cannot move the finished build into place: {}", final_dir.string(), ec.message()));
  }
  if (log) *log << "environment " << key.id << " built in " << format_duration(seconds) << std::endl;
  return ok_status();
}

std::vector<CacheEntry> EnvCache::list() const {
  std::vector<CacheEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(root_) / "envs", ec)) {
    if (!e.is_directory()) continue;
    std::string name = e.path().filename().string();
    CacheEntry entry;
    entry.dir = e.path().string();
    if (name.rfind(kBuildingPrefix, 0) == 0) {
      entry.id = id_of_build_dir(name);
    } else {
      entry.id = name;
      auto s = read_json(e.path() / "stamp.json");
      entry.complete = s.has_value();
      entry.stamp = s ? *s : nlohmann::json();
    }
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.dir < b.dir; });
  return out;
}

std::vector<std::string> EnvCache::gc(const std::optional<std::vector<std::string>>& keep, bool dry_run) const {
  std::vector<std::string> removed;
  for (const auto& e : list()) {
    bool building = fs::path(e.dir).filename().string().rfind(kBuildingPrefix, 0) == 0;
    bool abandoned = (building || !e.complete) && FileLock::is_free(root_ + "/locks/" + e.id + ".lock");
    bool unwanted = !building && e.complete && keep &&
                    std::find(keep->begin(), keep->end(), e.id) == keep->end();
    if (!abandoned && !unwanted) continue;
    if (!dry_run) remove_tree(e.dir);
    removed.push_back(e.dir);
  }
  return removed;
}

}  // namespace crossload
