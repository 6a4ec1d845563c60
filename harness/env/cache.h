#pragma once
// The cache of built environments (Debian rootfs, venvs). An entry is built once per key into a
// temporary directory and renamed into place only when complete, under a per-key file lock, so
// two crossload runs building the same environment wait for each other and an interrupted build
// (Ctrl-C, SIGKILL, power loss) leaves nothing that is later used as if complete.
//
//   <root>/envs/<id>/           a complete entry: stamp.json + what the provider built
//   <root>/envs/.building-<id>-<pid>/   a build in progress (or an interrupted one, removed later)
//   <root>/locks/<id>.lock      flock(2) held while building
//   <root>/logs/<id>.log        the full log of the last build (kept when it failed)
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

// Bumped whenever a provider's fix-ups change what a built environment contains, so entries
// built by an older crossload are not reused (their keys differ).
inline constexpr int kFixupVersion = 1;

struct CacheKey {
  std::string id;         // "debian-bookworm-s390x-3f2a9c0d1e4b5a68": readable, then a hash
  std::string canonical;  // every field that went into the hash, one "name=value" per line
};

// Fields are hashed in the order given; callers sort lists whose order does not matter.
CacheKey make_cache_key(const std::string& readable,
                        const std::vector<std::pair<std::string, std::string>>& fields);

// An exclusive flock(2) on a file, released when destroyed (or when the process dies).
class FileLock {
 public:
  // Waits up to `timeout` for the lock; `on_wait` is called once if it has to wait at all.
  static Result<FileLock> acquire(const std::string& path, std::chrono::milliseconds timeout,
                                  const std::function<void()>& on_wait = {});
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();
  // True when nobody holds the lock at this instant (used by gc to spot abandoned builds).
  static bool is_free(const std::string& path);

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// What a provider's build step receives.
struct BuildDir {
  std::string dir;       // empty temporary directory: build everything inside it
  std::string log_path;  // append the full output of every command here
};

// A build returns facts to record in the stamp (versions, the package mix), or an Error.
using BuildFn = std::function<Result<nlohmann::json>(const BuildDir&)>;

struct CacheEntry {
  std::string id;
  std::string dir;
  nlohmann::json stamp;  // null for an abandoned build directory
  bool complete = false;
};

class EnvCache {
 public:
  explicit EnvCache(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  std::string entry_dir(const CacheKey& key) const;
  std::string log_path(const CacheKey& key) const;
  std::string lock_path(const CacheKey& key) const;
  // The stamp of a complete entry for exactly this key (a hash collision does not count).
  std::optional<nlohmann::json> stamp(const CacheKey& key) const;

  // The entry's directory, building it first under the key's lock when it is not complete.
  // The stamp gets "key", "canonical", "provision_seconds", "built_at", "fixup_version" and
  // whatever `build` returned under "facts".
  Result<std::string> get_or_build(const CacheKey& key, const BuildFn& build, std::ostream* log,
                                   std::chrono::milliseconds lock_timeout);

  // Every entry and every abandoned build directory.
  std::vector<CacheEntry> list() const;
  // Removes abandoned build directories (their lock is free) and, when `keep` is given, every
  // complete entry whose id it does not hold. Returns what was removed.
  std::vector<std::string> gc(const std::optional<std::vector<std::string>>& keep, bool dry_run) const;

 private:
  Status build_into_place(const CacheKey& key, const BuildFn& build, std::ostream* log);
  std::string root_;
};

}  // namespace crossload
