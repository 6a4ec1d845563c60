// Store::copy_cells: a run's cells copied from another store by SQLite itself (merge).
#include <fmt/format.h>

#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "harness/store/store.h"

namespace crossload {

namespace {

constexpr const char* kShard = "shard";  // the schema name the source store is attached under

// The source store attached to the connection for as long as this lives. ATTACH and DETACH cannot
// run inside a transaction, so an Attachment outlives the copy's transaction.
class Attachment {
 public:
  static Result<Attachment> attach(const sql::Connection& db, const std::string& path, const std::string& what) {
    auto stmt = db.prepare(fmt::format("ATTACH DATABASE ?1 AS {}", kShard), what);
    if (!stmt) return stmt.error();
    stmt->bind(path);
    if (auto done = stmt->run(); !done) return done.error();
    return Attachment(&db);
  }
  Attachment(Attachment&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Attachment& operator=(Attachment&&) = delete;
  ~Attachment() {
    if (db_) (void)db_->exec(fmt::format("DETACH DATABASE {}", kShard), "detach a merged store");
  }

 private:
  explicit Attachment(const sql::Connection* db) : db_(db) {}
  const sql::Connection* db_;
};

// The first row of `sql` (bound to the source run), if any.
Result<std::optional<std::vector<std::string>>> first_row(const sql::Connection& db, const std::string& sql,
                                                          int64_t from_run, int columns, const std::string& what) {
  auto stmt = db.prepare(sql, what);
  if (!stmt) return stmt.error();
  stmt->bind(from_run);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::vector<std::string>>();
  std::vector<std::string> values;
  for (int i = 0; i < columns; ++i) values.push_back(stmt->text(i));
  return std::optional<std::vector<std::string>>(std::move(values));
}

// What reading the cells one by one would have refused (store.cc's read_cell_row and check_cell),
// checked in SQL over the whole run: an outcome this crossload does not know, a detail that is not
// JSON, an id that disagrees with its fields. Copied unchecked, such a cell would only fail later,
// in every report of the merged store.
Status check_source_cells(const sql::Connection& db, const std::string& source, int64_t from_run,
                          const std::string& what) {
  auto outcomes = db.prepare(fmt::format("SELECT DISTINCT outcome FROM {}.cells WHERE run_id = ?1", kShard), what);
  if (!outcomes) return outcomes.error();
  outcomes->bind(from_run);
  for (;;) {
    auto row = outcomes->step();
    if (!row) return row.error();
    if (!*row) break;
    if (std::string name = outcomes->text(0); !outcome_from_string(name))
      return make_error(ErrorKind::kStore, fmt::format("results store {}: a cell of run {} has unknown outcome '{}'; "
                                                       "was it written by a newer crossload?",
                                                       source, from_run, name));
  }
  auto bad = first_row(db,
                       fmt::format("SELECT id, json_valid(detail), fixture || '/' || format || '/' || producer || "
                                   "'/' || consumer AS expected FROM {}.cells WHERE run_id = ?1 AND "
                                   "(NOT json_valid(detail) OR id IS NOT expected) LIMIT 1",
                                   kShard),
                       from_run, 3, what);
  if (!bad) return bad.error();
  if (!*bad) return ok_status();
  const auto& row = **bad;
  if (row[1] == "0")
    return make_error(ErrorKind::kStore, fmt::format("results store {}: the detail of cell {} of run {} is not valid "
                                                     "JSON; the file was modified outside crossload",
                                                     source, row[0], from_run));
  return make_error(ErrorKind::kStore, fmt::format("results store {}: cell id '{}' does not match its fields "
                                                   "(expected '{}')",
                                                   source, row[0], row[2]));
}

// ?1 the source run, ?2 the target run. A cell the target run already has is replaced whole: its
// deletion cascades to its warnings and measurements (foreign keys are on), as put_cell's upsert
// replaces them. Children of no cell (possible only in a store edited by hand) are left behind, as
// reading cell by cell left them.
constexpr std::string_view kCopy[] = {
    "DELETE FROM main.cells WHERE run_id = ?2 AND id IN (SELECT id FROM shard.cells WHERE run_id = ?1)",
    "INSERT INTO main.cells (run_id, id, fixture, format, producer, consumer, outcome, detail, reuse_key, "
    "reused_from) SELECT ?2, id, fixture, format, producer, consumer, outcome, detail, reuse_key, reused_from "
    "FROM shard.cells WHERE run_id = ?1 ORDER BY id",
    "INSERT INTO main.cell_warnings (run_id, cell_id, seq, category, message, original_sklearn_version) "
    "SELECT ?2, cell_id, seq, category, message, original_sklearn_version FROM shard.cell_warnings w "
    "WHERE run_id = ?1 AND EXISTS (SELECT 1 FROM shard.cells c WHERE c.run_id = ?1 AND c.id = w.cell_id) "
    "ORDER BY cell_id, seq",
    "INSERT INTO main.cell_measurements (run_id, cell_id, seq, name, value, unit) "
    "SELECT ?2, cell_id, seq, name, value, unit FROM shard.cell_measurements m "
    "WHERE run_id = ?1 AND EXISTS (SELECT 1 FROM shard.cells c WHERE c.run_id = ?1 AND c.id = m.cell_id) "
    "ORDER BY cell_id, seq",
};
constexpr std::size_t kInsertCells = 1;  // the statement whose changes() are the cells copied

}  // namespace

Result<std::size_t> Store::copy_cells(const Store& from, int64_t from_run, int64_t to_run) {
  std::string what = fmt::format("copy the cells of run {} of {} into run {}", from_run, from.path(), to_run);
  auto attached = Attachment::attach(db_, from.path(), what);
  if (!attached) return attached.error();
  // Deferred, not IMMEDIATE: BEGIN IMMEDIATE would take the write lock of the attached source too
  // (refused for a read-only file); the first DELETE takes this store's.
  auto txn = sql::Transaction::begin(db_, sql::TransactionKind::kRead, what);
  if (!txn) return txn.error();
  if (auto valid = check_source_cells(db_, from.path(), from_run, what); !valid) return valid.error();
  std::size_t copied = 0;
  for (std::size_t i = 0; i < std::size(kCopy); ++i) {
    auto stmt = db_.prepare(kCopy[i], what);
    if (!stmt) return stmt.error();
    stmt->bind(from_run, to_run);
    if (auto done = stmt->run(); !done) return done.error();
    if (i == kInsertCells) copied = static_cast<std::size_t>(db_.changes());
  }
  if (auto done = txn->commit(); !done) return done.error();
  return copied;
}

}  // namespace crossload
