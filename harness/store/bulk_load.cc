// Store's bulk loading (merge into a new store): secondary indexes built once after the copy, and
// the file made an ordinary, durable WAL store at the end.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "harness/store/store.h"

namespace crossload {

namespace {

// The indexes a bulk load rebuilds: every explicit index of the tables a merge fills row by row
// (the primary keys stay: the rows arrive in their order).
constexpr const char* kDeferrable =
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
    "AND tbl_name IN ('cells', 'artifacts', 'cell_warnings', 'cell_measurements') ORDER BY name";

Status fsync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorKind::kStore, fmt::format("results store {}: cannot open it to write it to disk: {}", path,
                                                     std::strerror(errno)));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0)
    return make_error(ErrorKind::kStore,
                      fmt::format("results store {}: writing it to disk (fsync) failed: {}", path, std::strerror(saved)));
  return ok_status();
}

}  // namespace

Status Store::drop_indexes_for_bulk_load() {
  std::string what = "drop its indexes for a bulk load";
  auto stmt = db_.prepare(kDeferrable, what);
  if (!stmt) return stmt.error();
  std::vector<std::string> names;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    names.push_back(stmt->text(0));
    deferred_indexes_.push_back(stmt->text(1));
  }
  for (const auto& name : names)
    if (auto done = db_.exec(fmt::format("DROP INDEX \"{}\"", name), what); !done) return done;
  return ok_status();
}

Status Store::finish_bulk_load() {
  for (const auto& create : deferred_indexes_)
    if (auto done = db_.exec(create, "build its indexes after a bulk load"); !done) return done;
  deferred_indexes_.clear();
  std::string what = "switch it to the WAL journal after a bulk load";
  auto mode = db_.prepare("PRAGMA journal_mode = WAL", what);
  if (!mode) return mode.error();
  auto row = mode->step();
  if (!row) return row.error();
  // SQLite answers with the mode it is in: a refused switch is no error of its own.
  if (!*row || mode->text(0) != "wal")
    return make_error(ErrorKind::kStore, fmt::format("results store {}: could not {} (the journal stays '{}')",
                                                     path(), what, *row ? mode->text(0) : ""));
  if (auto done = db_.exec("PRAGMA synchronous = NORMAL", what); !done) return done;
  return fsync_file(path());
}

}  // namespace crossload
