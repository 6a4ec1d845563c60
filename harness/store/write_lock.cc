#include "harness/store/write_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace crossload {

namespace {

// The holder writes its pid into the file only so the refusal can name it; the lock
// itself is the flock, so a stale pid left by a dead holder is never trusted.
std::string read_holder(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

void write_holder(int fd) {
  std::string pid = std::to_string(getpid()) + "\n";
  // Best effort: a failure only makes a future refusal say "pid unknown".
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, pid.data(), pid.size(), 0);
}

}  // namespace

Result<WriteLock> WriteLock::acquire(const std::string& store_path) {
  std::string path = lock_path(store_path);
  // O_CLOEXEC: environments and workers we exec must not inherit (and prolong) the lock.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorKind::kStore, fmt::format("results store {}: cannot open its lock file {}: {}",
                                  store_path, path, std::strerror(errno)));
  WriteLock lock(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK)
      return make_error(ErrorKind::kStore, fmt::format(
          "results store {} is in use by another crossload run (pid {}); wait for it to "
          "finish, or give this run another store",
          store_path, read_holder(fd)));
    return make_error(ErrorKind::kStore, fmt::format("results store {}: cannot lock {}: {}", store_path, path,
                                  std::strerror(err)));
  }
  write_holder(fd);
  return lock;
}

WriteLock::WriteLock(WriteLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

WriteLock& WriteLock::operator=(WriteLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

WriteLock::~WriteLock() {
  if (fd_ < 0) return;
  // Still holding the lock, so clearing our pid cannot erase a successor's.
  (void)!ftruncate(fd_, 0);
  ::close(fd_);  // closing the last descriptor of the open file releases the flock
}

}  // namespace crossload
