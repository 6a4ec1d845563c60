#pragma once
// An advisory lock that keeps two crossload runs from writing one results store.
// SQLite alone would interleave their cells; this makes the second run stop with a
// message naming the first. It is flock(2) on "<store>.lock", which the kernel releases
// when the holder exits, however it dies, so a killed run never leaves a stale lock.
#include <string>

#include "harness/util/result.h"

namespace crossload {

class WriteLock {
 public:
  // Fails, without waiting, if another open of the lock file holds it (another process,
  // or another Store in this one); the message names the store and the holder's pid.
  static Result<WriteLock> acquire(const std::string& store_path);

  WriteLock(WriteLock&& other) noexcept;
  WriteLock& operator=(WriteLock&& other) noexcept;
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  ~WriteLock();  // releases the lock

  static std::string lock_path(const std::string& store_path) { return store_path + ".lock"; }

 private:
  explicit WriteLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace crossload
