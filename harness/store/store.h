#pragma once
// The results store: one SQLite file holding every run's environments, artifacts and
// cells. Each cell is committed in its own transaction, so a run killed at any moment
// keeps every cell it reported, and `crossload run` resumes from finished_cell_ids().
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "harness/store/cell_visitor.h"
#include "harness/store/records.h"
#include "harness/store/sqlite.h"
#include "harness/store/write_lock.h"
#include "harness/util/result.h"

namespace crossload {

struct StoreOptions {
  // How long a write waits for another process's transaction before failing.
  std::chrono::milliseconds busy_timeout{10'000};
  // A new store one process fills and then renames into place (merge): the rollback journal is
  // kept in memory and nothing is fsynced until finish_bulk_load(), which makes it an ordinary WAL
  // store. A crash meanwhile can leave the file corrupt, which is why it must not be the real path.
  bool bulk_load = false;
};

class Store {
 public:
  // Creates the file or migrates it to the current schema; WAL journal, foreign keys on.
  // A corrupt file, a foreign SQLite database or a newer schema is an error here.
  static Result<Store> open(const std::string& path, const StoreOptions& options = {});

  Store(Store&&) noexcept = default;
  Store& operator=(Store&&) noexcept = default;
  ~Store() = default;  // closes the database and releases the write lock

  const std::string& path() const { return db_.path(); }

  // Refuses if another live crossload process (or another Store here) holds the store;
  // call once before writing a run. Idempotent; released when the Store is destroyed.
  Status lock_for_writing();

  Result<RunRecord> begin_run(const std::string& matrix_path, const std::string& matrix_sha256,
                              const std::string& version);
  // The latest run of this matrix, if it is not finished. A finished latest run means
  // there is nothing to resume, even if an older run of the matrix was interrupted.
  Result<std::optional<RunRecord>> resumable_run(const std::string& matrix_sha256) const;
  // "running" | "finished" | "interrupted"; finishing stamps finished_at, others clear it.
  Status mark_run(int64_t run_id, const std::string& status);

  Status put_environment(int64_t run_id, const EnvRecord& env);           // upsert by name
  Status put_artifact(int64_t run_id, const ArtifactRecord& artifact);    // upsert by
                                                                          // producer/fixture/format
  // One transaction: the cell, its warnings and measurements land together or not at
  // all. Upsert by id: a re-run cell replaces the earlier one, warnings included.
  Status put_cell(int64_t run_id, const CellRecord& cell);

  // One transaction around many writes (the cells a rerun copies): each put_cell inside it is a
  // savepoint, and nothing is on disk until commit(). Far cheaper than a commit per cell; a
  // run killed meanwhile loses the batch, which the next run copies again.
  Result<sql::Transaction> batch(std::string what);

  Result<std::set<std::string>> finished_cell_ids(int64_t run_id) const;
  Result<std::size_t> cell_count(int64_t run_id) const;  // one query: no cell is read
  Result<std::vector<CellRecord>> cells(int64_t run_id) const;             // sorted by id
  // The same cells one at a time, warnings and measurements attached, sorted by id, in one read
  // transaction: memory holds one cell, not the run (crossload diff of a million cells).
  // kSkipped: each cell's detail is left null, neither read nor parsed (a diff's baseline pass).
  Status for_each_cell(int64_t run_id, const CellVisitor& visit, CellDetail want = CellDetail::kParsed) const;
  // The cells of these ids (those the run has), each looked up by its key: a few cells of a big run.
  Status for_each_cell_of(int64_t run_id, const std::vector<std::string>& ids, const CellVisitor& visit) const;
  // Many cells in one transaction (merge): put_cell's upsert for each, committed together.
  Status put_cells(int64_t run_id, const std::vector<CellRecord>& cells);
  // Every cell of run `from_run` of `from`, warnings and measurements with it, copied into run
  // `to_run` by SQLite itself (the source attached), in one transaction: a cell the run already has
  // is replaced, as by put_cell. The source's cells are checked first as reading them would (an
  // unknown outcome, a detail that is not JSON, an id that disagrees with its fields is an error
  // naming `from`, and nothing is copied). Returns how many cells were copied. (merge: reading a
  // million cells into C++ to write them back cost more than the copy itself.)
  Result<std::size_t> copy_cells(const Store& from, int64_t from_run, int64_t to_run);
  Result<std::vector<EnvRecord>> environments(int64_t run_id) const;       // sorted by name
  Result<std::vector<ArtifactRecord>> artifacts(int64_t run_id) const;     // sorted by key
  // The latest artifact / cell of any run with this reuse key (none for an empty key). A cell
  // found has reused_from set to the run that computed it (kept through copies of copies).
  Result<std::optional<ArtifactRecord>> reusable_artifact(const std::string& key) const;
  Result<std::optional<CellRecord>> reusable_cell(const std::string& key) const;
  Result<std::optional<RunRecord>> latest_run() const;
  Result<RunRecord> run(int64_t run_id) const;  // an error if there is no such run
  Result<std::vector<RunRecord>> runs() const;  // oldest first

  // SQLite's integrity_check; the error lists what it found.
  Status check_integrity() const;

  // Bulk loading (StoreOptions::bulk_load): the secondary indexes of the cells and artifacts are
  // dropped before the copy and built once after it, which is cheaper than keeping them up to date
  // row by row; finish_bulk_load() rebuilds them, switches to the WAL journal and writes the file
  // to disk (fsync), so that it can be renamed into place.
  Status drop_indexes_for_bulk_load();
  Status finish_bulk_load();

 private:
  explicit Store(sql::Connection db) : db_(std::move(db)) {}
  Status configure(const StoreOptions& options);
  Status migrate();
  // The cells in one transaction, each written by the same prepared statements.
  Status put_cells(int64_t run_id, std::span<const CellRecord> cells, const std::string& what);

  sql::Connection db_;
  std::optional<WriteLock> lock_;
  std::vector<std::string> deferred_indexes_;  // CREATE INDEX statements finish_bulk_load() runs
};

}  // namespace crossload
