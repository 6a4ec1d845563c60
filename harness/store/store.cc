#include "harness/store/store.h"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join

#include "harness/store/json_reader.h"
#include "harness/store/schema.h"

namespace crossload {

namespace {

using nlohmann::json;
using sql::Statement;
using sql::Transaction;
using sql::TransactionKind;

constexpr std::string_view kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

constexpr std::array<std::string_view, 3> kRunStatuses{"running", "finished", "interrupted"};
constexpr std::array<std::string_view, 2> kEnvStatuses{"ok", "unavailable"};
constexpr std::array<std::string_view, 3> kArtifactStatuses{"ok", "unsupported", "error"};

template <size_t N>
Status check_one_of(const std::string& store, std::string_view what, const std::string& value,
                    const std::array<std::string_view, N>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return ok_status();
  return make_error(ErrorKind::kStore, fmt::format("results store {}: {} '{}' is not one of {}", store, what,
                                value, fmt::join(allowed, ", ")));
}

// Invalid UTF-8 (say, a Python error message with raw bytes) must not throw out of the
// store: it is replaced with U+FFFD, which keeps the rest of the text readable.
std::string json_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> parse_json(JsonReader& reader, const std::string& store, const std::string& text,
                        std::string_view where) {
  json value = reader.parse(text);
  if (value.is_discarded())
    return make_error(ErrorKind::kStore, fmt::format("results store {}: {} is not valid JSON; the file was "
                                  "modified outside crossload",
                                  store, where));
  return value;
}

// Runs a query and turns each row into a Row with `read`, which may fail (bad JSON).
template <class Row, class Read>
Result<std::vector<Row>> collect(Statement& stmt, Read read) {
  std::vector<Row> rows;
  for (;;) {
    auto has_row = stmt.step();
    if (!has_row) return has_row.error();
    if (!*has_row) return rows;
    Result<Row> row = read(stmt);
    if (!row) return row.error();
    rows.push_back(std::move(row).value());
  }
}

constexpr std::string_view kRunColumns =
    "id, started_at, finished_at, matrix_path, matrix_sha256, crossload_version, status";

Result<RunRecord> read_run(const Statement& s) {
  return RunRecord{s.integer(0), s.text(1), s.text(2), s.text(3),
                   s.text(4),    s.text(5), s.text(6)};
}

Result<std::vector<RunRecord>> query_runs(const sql::Connection& db, std::string_view where,
                                          std::string what, auto... args) {
  auto stmt = db.prepare(fmt::format("SELECT {} FROM runs {}", kRunColumns, where),
                         std::move(what));
  if (!stmt) return stmt.error();
  stmt->bind(args...);
  return collect<RunRecord>(*stmt, read_run);
}

Result<std::optional<RunRecord>> first_run(Result<std::vector<RunRecord>> runs) {
  if (!runs) return runs.error();
  if (runs->empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs->front()));
}

Status check_cell(const std::string& store, const CellRecord& cell) {
  std::string expected = cell_id(cell.fixture, cell.format, cell.producer, cell.consumer);
  if (cell.id == expected) return ok_status();
  return make_error(ErrorKind::kStore, fmt::format("results store {}: cell id '{}' does not match its fields "
                                "(expected '{}')",
                                store, cell.id, expected));
}

// The statements that write a cell, prepared once for all the cells of a transaction (a merge
// writes a million: preparing five statements per cell cost more than running them) and reset
// before each use.
struct CellStatements {
  Statement upsert, delete_warnings, delete_measurements, insert_warning, insert_measurement;
};

Result<CellStatements> prepare_cell_statements(const sql::Connection& db, const std::string& what) {
  const char* sql[] = {
      "INSERT INTO cells (run_id, id, fixture, format, producer, consumer, outcome, detail, "
      "reuse_key, reused_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT (run_id, id) DO UPDATE SET fixture = excluded.fixture, "
      "format = excluded.format, producer = excluded.producer, consumer = excluded.consumer, "
      "outcome = excluded.outcome, detail = excluded.detail, reuse_key = excluded.reuse_key, "
      "reused_from = excluded.reused_from",
      // An upsert keeps the cell row, so its old children must go explicitly: a re-run cell
      // with fewer warnings must not inherit the previous attempt's.
      "DELETE FROM cell_warnings WHERE run_id = ?1 AND cell_id = ?2",
      "DELETE FROM cell_measurements WHERE run_id = ?1 AND cell_id = ?2",
      "INSERT INTO cell_warnings (run_id, cell_id, seq, category, message, "
      "original_sklearn_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      "INSERT INTO cell_measurements (run_id, cell_id, seq, name, value, unit) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
  std::vector<Statement> prepared;
  for (const char* text : sql) {
    auto stmt = db.prepare(text, what);
    if (!stmt) return stmt.error();
    prepared.push_back(std::move(stmt).value());
  }
  return CellStatements{std::move(prepared[0]), std::move(prepared[1]), std::move(prepared[2]),
                        std::move(prepared[3]), std::move(prepared[4])};
}

// `stmt` reset, bound to `args` and run.
template <class... Args>
Status run_again(Statement& stmt, const Args&... args) {
  stmt.reset();
  stmt.bind(args...);
  return stmt.run();
}

Status write_cell(CellStatements& w, const std::string& store, int64_t run_id, const CellRecord& cell) {
  if (auto valid = check_cell(store, cell); !valid) return valid;
  if (auto done = run_again(w.upsert, run_id, cell.id, cell.fixture, cell.format, cell.producer, cell.consumer,
                            to_string(cell.outcome), json_text(cell.detail), cell.reuse_key, cell.reused_from);
      !done)
    return done;
  for (Statement* children : {&w.delete_warnings, &w.delete_measurements})
    if (auto done = run_again(*children, run_id, cell.id); !done) return done;
  // One child row per warning and measurement, numbered by `seq` in order.
  for (std::size_t i = 0; i < cell.warnings.size(); ++i) {
    const CellWarning& x = cell.warnings[i];
    if (auto done = run_again(w.insert_warning, run_id, cell.id, i, x.category, x.message, x.original_sklearn_version);
        !done)
      return done;
  }
  for (std::size_t i = 0; i < cell.measurements.size(); ++i) {
    const Measurement& m = cell.measurements[i];
    if (auto done = run_again(w.insert_measurement, run_id, cell.id, i, m.name, m.value, m.unit); !done) return done;
  }
  return ok_status();
}

}  // namespace

// ---- opening ----

Result<Store> Store::open(const std::string& path, const StoreOptions& options) {
  auto db = sql::Connection::open(path, options.busy_timeout);
  if (!db) return db.error();
  Store store(std::move(db).value());
  if (auto configured = store.configure(options); !configured) return configured.error();
  if (auto migrated = store.migrate(); !migrated) return migrated.error();
  return store;
}

Status Store::configure(const StoreOptions& options) {
  // The first statement reads the file: this is where garbage reports "not a database".
  if (options.bulk_load)
    return db_.exec("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;",
                    "read it as an SQLite database");
  // WAL lets reporters read while a run writes. synchronous=NORMAL in WAL survives any
  // process crash (SIGKILL included); only a power cut can drop the last few cells, which
  // a resumed run recomputes, whereas an fsync per cell would cost more than most loads.
  return db_.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
      "read it as an SQLite database");
}

namespace {

// 0 for a fresh (empty) file; an error for an SQLite file that is not ours.
Result<int> schema_version(const sql::Connection& db) {
  auto tables = db.prepare(
      "SELECT count(*), EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'meta') "
      "FROM sqlite_master",
      "read its schema");
  if (!tables) return tables.error();
  if (auto row = tables->step(); !row) return row.error();
  if (tables->integer(1) == 0) {
    if (tables->integer(0) == 0) return 0;
    return make_error(ErrorKind::kStore, fmt::format("results store {}: this SQLite database is not a crossload "
                                  "results store (it has no meta table); choose another path",
                                  db.path()));
  }
  auto version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'",
                            "read its schema version");
  if (!version) return version.error();
  auto row = version->step();
  if (!row) return row.error();
  return *row ? static_cast<int>(version->integer(0)) : 0;
}

Status apply_migrations(const sql::Connection& db, int from) {
  auto migrations = schema::migrations();
  for (int v = from; v < static_cast<int>(migrations.size()); ++v) {
    auto done = db.exec(migrations[v], fmt::format("migrate it to schema version {}", v + 1));
    if (!done) return done;
  }
  auto stmt = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      "record its schema version");
  if (!stmt) return stmt.error();
  stmt->bind(std::to_string(migrations.size()));
  return stmt->run();
}

}  // namespace

Status Store::migrate() {
  auto version = schema_version(db_);
  if (!version) return version.error();
  if (*version == schema::current_version()) return ok_status();  // the common case: no lock
  // Two crossload processes may open a fresh store at once: migrate under the write lock,
  // and look at the version again once we hold it.
  auto txn = Transaction::begin(db_, TransactionKind::kWrite, "migrate its schema");
  if (!txn) return txn.error();
  if (auto created = db_.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                              "value TEXT NOT NULL)",
                              "create its meta table");
      !created)
    return created;
  version = schema_version(db_);
  if (!version) return version.error();
  if (*version > schema::current_version())
    return make_error(ErrorKind::kStore, fmt::format("results store {} has schema version {}, newer than this "
                                  "crossload understands ({}); use a newer crossload",
                                  path(), *version, schema::current_version()));
  if (auto done = apply_migrations(db_, *version); !done) return done;
  return txn->commit();
}

Status Store::lock_for_writing() {
  if (lock_) return ok_status();
  auto lock = WriteLock::acquire(path());
  if (!lock) return lock.error();
  lock_.emplace(std::move(lock).value());
  return ok_status();
}

Status Store::check_integrity() const {
  auto stmt = db_.prepare("PRAGMA integrity_check", "check its integrity");
  if (!stmt) return stmt.error();
  auto problems = collect<std::string>(*stmt, [](const Statement& s) -> Result<std::string> {
    return s.text(0);
  });
  if (!problems) return problems.error();
  if (problems->size() == 1 && problems->front() == "ok") return ok_status();
  return make_error(ErrorKind::kStore, fmt::format("results store {} is damaged: {}", path(),
                                fmt::join(*problems, "; ")));
}

// ---- runs ----

Result<RunRecord> Store::begin_run(const std::string& matrix_path,
                                   const std::string& matrix_sha256,
                                   const std::string& version) {
  auto txn = Transaction::begin(db_, TransactionKind::kWrite, "record a new run");
  if (!txn) return txn.error();
  auto stmt = db_.prepare(
      fmt::format("INSERT INTO runs (started_at, matrix_path, matrix_sha256, "
                  "crossload_version, status) VALUES ({}, ?1, ?2, ?3, 'running')",
                  kNow),
      "record a new run");
  if (!stmt) return stmt.error();
  stmt->bind(matrix_path, matrix_sha256, version);
  if (auto done = stmt->run(); !done) return done.error();
  auto record = run(db_.last_insert_id());
  if (!record) return record.error();
  if (auto done = txn->commit(); !done) return done.error();
  return record;
}

Result<std::optional<RunRecord>> Store::resumable_run(const std::string& matrix_sha256) const {
  auto latest = first_run(query_runs(db_, "WHERE matrix_sha256 = ?1 ORDER BY id DESC LIMIT 1",
                                     "look for a run to resume", matrix_sha256));
  if (!latest) return latest.error();
  if (*latest && (*latest)->status == "finished") return std::optional<RunRecord>();
  return latest;
}

Status Store::mark_run(int64_t run_id, const std::string& status) {
  if (auto valid = check_one_of(path(), "run status", status, kRunStatuses); !valid)
    return valid;
  auto stmt = db_.prepare(
      fmt::format("UPDATE runs SET status = ?2, finished_at = CASE WHEN ?2 = 'finished' "
                  "THEN {} ELSE '' END WHERE id = ?1",
                  kNow),
      fmt::format("mark run {} {}", run_id, status));
  if (!stmt) return stmt.error();
  stmt->bind(run_id, status);
  if (auto done = stmt->run(); !done) return done;
  if (db_.changes() == 0)
    return make_error(fmt::format("results store {} has no run {}", path(), run_id));
  return ok_status();
}

Result<std::optional<RunRecord>> Store::latest_run() const {
  return first_run(query_runs(db_, "ORDER BY id DESC LIMIT 1", "read the latest run"));
}

Result<RunRecord> Store::run(int64_t run_id) const {
  auto found = first_run(
      query_runs(db_, "WHERE id = ?1", fmt::format("read run {}", run_id), run_id));
  if (!found) return found.error();
  if (!*found) return make_error(fmt::format("results store {} has no run {}", path(), run_id));
  return std::move(**found);
}

Result<std::vector<RunRecord>> Store::runs() const {
  return query_runs(db_, "ORDER BY id", "list its runs");
}

// ---- environments and artifacts ----

Status Store::put_environment(int64_t run_id, const EnvRecord& env) {
  if (auto valid = check_one_of(path(), "environment status", env.status, kEnvStatuses); !valid)
    return valid;
  auto stmt = db_.prepare(
      "INSERT INTO environments (run_id, name, provider, location, status, reason, "
      "fingerprint, provision_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT (run_id, name) DO UPDATE SET provider = excluded.provider, "
      "location = excluded.location, status = excluded.status, reason = excluded.reason, "
      "fingerprint = excluded.fingerprint, provision_seconds = excluded.provision_seconds",
      fmt::format("save environment {} of run {}", env.name, run_id));
  if (!stmt) return stmt.error();
  stmt->bind(run_id, env.name, env.provider, env.where, env.status, env.reason,
             json_text(env.fingerprint), env.provision_seconds);
  return stmt->run();
}

Result<std::vector<EnvRecord>> Store::environments(int64_t run_id) const {
  auto stmt = db_.prepare(
      "SELECT name, provider, location, status, reason, fingerprint, provision_seconds "
      "FROM environments WHERE run_id = ?1 ORDER BY name",
      fmt::format("read the environments of run {}", run_id));
  if (!stmt) return stmt.error();
  stmt->bind(run_id);
  JsonReader reader;
  return collect<EnvRecord>(*stmt, [&](const Statement& s) -> Result<EnvRecord> {
    auto fingerprint =
        parse_json(reader, path(), s.text(5), fmt::format("the fingerprint of environment {}", s.text(0)));
    if (!fingerprint) return fingerprint.error();
    return EnvRecord{s.text(0), s.text(1), s.text(2), s.text(3),
                     s.text(4), std::move(fingerprint).value(), s.real(6)};
  });
}

Status Store::put_artifact(int64_t run_id, const ArtifactRecord& a) {
  if (auto valid = check_one_of(path(), "artifact status", a.status, kArtifactStatuses); !valid)
    return valid;
  auto stmt = db_.prepare(
      "INSERT INTO artifacts (run_id, producer, fixture, format, path, sha256, size_bytes, "
      "status, reason, manifest, reuse_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
      "ON CONFLICT (run_id, producer, fixture, format) DO UPDATE SET path = excluded.path, "
      "sha256 = excluded.sha256, size_bytes = excluded.size_bytes, status = excluded.status, "
      "reason = excluded.reason, manifest = excluded.manifest, reuse_key = excluded.reuse_key",
      fmt::format("save artifact {}/{}/{} of run {}", a.fixture, a.format, a.producer, run_id));
  if (!stmt) return stmt.error();
  stmt->bind(run_id, a.producer, a.fixture, a.format, a.path, a.sha256, a.size_bytes, a.status,
             a.reason, json_text(a.manifest), a.reuse_key);
  return stmt->run();
}

namespace {

Result<std::vector<ArtifactRecord>> query_artifacts(const sql::Connection& db, std::string_view where,
                                                    std::string what, auto... args) {
  auto stmt = db.prepare(
      fmt::format("SELECT producer, fixture, format, path, sha256, size_bytes, status, reason, "
                  "manifest, reuse_key FROM artifacts {}",
                  where),
      std::move(what));
  if (!stmt) return stmt.error();
  stmt->bind(args...);
  JsonReader reader;
  return collect<ArtifactRecord>(*stmt, [&](const Statement& s) -> Result<ArtifactRecord> {
    auto manifest = parse_json(
        reader, db.path(), s.text(8),
        fmt::format("the manifest of artifact {}/{}/{}", s.text(1), s.text(2), s.text(0)));
    if (!manifest) return manifest.error();
    return ArtifactRecord{s.text(0),    s.text(1), s.text(2), s.text(3),
                          s.text(4),    s.integer(5), s.text(6), s.text(7),
                          std::move(manifest).value(), s.text(9)};
  });
}

}  // namespace

Result<std::vector<ArtifactRecord>> Store::artifacts(int64_t run_id) const {
  return query_artifacts(db_, "WHERE run_id = ?1 ORDER BY producer, fixture, format",
                         fmt::format("read the artifacts of run {}", run_id), run_id);
}

Result<std::optional<ArtifactRecord>> Store::reusable_artifact(const std::string& key) const {
  if (key.empty()) return std::optional<ArtifactRecord>();
  auto found = query_artifacts(db_, "WHERE reuse_key = ?1 ORDER BY run_id DESC LIMIT 1",
                               "look up a reusable artifact", key);
  if (!found) return found.error();
  if (found->empty()) return std::optional<ArtifactRecord>();
  return std::optional<ArtifactRecord>(std::move(found->front()));
}

// ---- cells ----

Status Store::put_cell(int64_t run_id, const CellRecord& cell) {
  return put_cells(run_id, std::span<const CellRecord>(&cell, 1), fmt::format("save cell {} of run {}", cell.id, run_id));
}

Status Store::put_cells(int64_t run_id, const std::vector<CellRecord>& cells) {
  if (cells.empty()) return ok_status();
  return put_cells(run_id, cells, fmt::format("save {} cells of run {} (from {})", cells.size(), run_id, cells.front().id));
}

Status Store::put_cells(int64_t run_id, std::span<const CellRecord> cells, const std::string& what) {
  auto txn = Transaction::begin(db_, TransactionKind::kWrite, what);
  if (!txn) return txn.error();
  auto statements = prepare_cell_statements(db_, what);
  if (!statements) return statements.error();
  for (const auto& cell : cells)
    if (auto done = write_cell(*statements, path(), run_id, cell); !done) return done;
  return txn->commit();
}

Result<sql::Transaction> Store::batch(std::string what) {
  return Transaction::begin(db_, TransactionKind::kWrite, std::move(what));
}

Result<std::size_t> Store::cell_count(int64_t run_id) const {
  auto stmt = db_.prepare("SELECT count(*) FROM cells WHERE run_id = ?1", fmt::format("count the cells of run {}", run_id));
  if (!stmt) return stmt.error();
  stmt->bind(run_id);
  auto row = stmt->step();
  if (!row) return row.error();
  return static_cast<std::size_t>(stmt->integer(0));
}

Result<std::set<std::string>> Store::finished_cell_ids(int64_t run_id) const {
  auto stmt = db_.prepare("SELECT id FROM cells WHERE run_id = ?1",
                          fmt::format("read the finished cells of run {}", run_id));
  if (!stmt) return stmt.error();
  stmt->bind(run_id);
  auto ids = collect<std::string>(*stmt, [](const Statement& s) -> Result<std::string> {
    return s.text(0);
  });
  if (!ids) return ids.error();
  return std::set<std::string>(ids->begin(), ids->end());
}

namespace {

// `only_id` empty: every cell of the run; otherwise that one cell, found by key (an `OR` in the
// condition would keep SQLite from using the key and scan the run for each cell).
std::string only_id_where(const std::string& only_id, std::string_view column) {
  return only_id.empty() ? "run_id = ?1 AND ?2 = ''" : fmt::format("run_id = ?1 AND {} = ?2", column);
}

Result<CellRecord> read_cell_row(const sql::Connection& db, int64_t run_id, const Statement& s, CellDetail want,
                                 JsonReader& reader) {
  std::string id = s.text(0);
  std::string outcome_name = s.text(5);
  auto outcome = outcome_from_string(outcome_name);
  if (!outcome)
    return make_error(ErrorKind::kStore, fmt::format("results store {}: cell {} of run {} has unknown outcome "
                                  "'{}'; was it written by a newer crossload?",
                                  db.path(), id, run_id, outcome_name));
  Result<nlohmann::json> detail = nlohmann::json();
  if (want == CellDetail::kParsed)
    detail = parse_json(reader, db.path(), s.text(6), fmt::format("the detail of cell {} of run {}", id, run_id));
  if (!detail) return detail.error();
  return CellRecord{id,        s.text(1), s.text(2), s.text(3),
                    s.text(4), *outcome,  std::move(detail).value(), {}, {},
                    s.text(7), s.integer(8)};
}

// A child table (warnings, measurements) read in step with the cells: both are ordered by cell
// id, so one pass over each attaches every child without holding the run in memory.
class ChildCursor {
 public:
  ChildCursor(Statement stmt) : stmt_(std::move(stmt)) {}
  Status start() { return advance(); }
  // Calls `take` on each row of cell `id`, skipping rows of ids before it (orphans).
  template <class Take>
  Status attach(const std::string& id, Take take) {
    while (has_row_ && stmt_.text(0) < id)
      if (auto st = advance(); !st) return st;
    while (has_row_ && stmt_.text(0) == id) {
      take(stmt_);
      if (auto st = advance(); !st) return st;
    }
    return ok_status();
  }

 private:
  Status advance() {
    auto row = stmt_.step();
    if (!row) return row.error();
    has_row_ = *row;
    return ok_status();
  }
  Statement stmt_;
  bool has_row_ = false;
};

Result<ChildCursor> child_cursor(const sql::Connection& db, std::string_view columns, std::string_view table,
                                 int64_t run_id, const std::string& only_id, const std::string& what) {
  auto stmt = db.prepare(fmt::format("SELECT cell_id, {} FROM {} WHERE {} ORDER BY cell_id, seq", columns, table,
                                     only_id_where(only_id, "cell_id")),
                         what);
  if (!stmt) return stmt.error();
  stmt->bind(run_id, only_id);
  ChildCursor cursor(std::move(stmt).value());
  if (auto st = cursor.start(); !st) return st.error();
  return cursor;
}

void take_warning(const Statement& s, CellRecord& cell) {
  std::optional<std::string> version;
  if (!s.is_null(3)) version = s.text(3);
  cell.warnings.push_back({s.text(1), s.text(2), std::move(version)});
}

void take_measurement(const Statement& s, CellRecord& cell) {
  cell.measurements.push_back({s.text(1), s.real(2), s.text(3)});
}

Status stream_cells(const sql::Connection& db, int64_t run_id, const std::string& only_id, const std::string& what,
                    const CellVisitor& visit, CellDetail want = CellDetail::kParsed) {
  // One read transaction: a concurrent writer cannot slip a cell in between the queries.
  auto txn = Transaction::begin(db, TransactionKind::kRead, what);
  if (!txn) return txn.error();
  // A detail not wanted is not even read: it is most of a cell's bytes.
  auto cells = db.prepare(fmt::format("SELECT id, fixture, format, producer, consumer, outcome, {}, reuse_key, "
                                      "reused_from FROM cells WHERE {} ORDER BY id",
                                      want == CellDetail::kParsed ? "detail" : "NULL", only_id_where(only_id, "id")),
                          what);
  if (!cells) return cells.error();
  cells->bind(run_id, only_id);
  auto warnings = child_cursor(db, "category, message, original_sklearn_version", "cell_warnings", run_id, only_id, what);
  if (!warnings) return warnings.error();
  auto measurements = child_cursor(db, "name, value, unit", "cell_measurements", run_id, only_id, what);
  if (!measurements) return measurements.error();
  JsonReader reader;
  for (;;) {
    auto row = cells->step();
    if (!row) return row.error();
    if (!*row) break;
    auto cell = read_cell_row(db, run_id, *cells, want, reader);
    if (!cell) return cell.error();
    auto st = warnings->attach(cell->id, [&](const Statement& s) { take_warning(s, *cell); });
    if (st) st = measurements->attach(cell->id, [&](const Statement& s) { take_measurement(s, *cell); });
    if (!st) return st;
    if (auto st = visit(*cell); !st) return st;
  }
  return txn->commit();
}

Result<std::vector<CellRecord>> read_cells(const sql::Connection& db, int64_t run_id, const std::string& only_id,
                                           const std::string& what) {
  std::vector<CellRecord> cells;
  auto done = stream_cells(db, run_id, only_id, what, [&](const CellRecord& c) {
    cells.push_back(c);
    return ok_status();
  });
  if (!done) return done.error();
  return cells;
}

}  // namespace

Status Store::for_each_cell(int64_t run_id, const CellVisitor& visit, CellDetail want) const {
  return stream_cells(db_, run_id, "", fmt::format("read the cells of run {}", run_id), visit, want);
}

Status Store::for_each_cell_of(int64_t run_id, const std::vector<std::string>& ids, const CellVisitor& visit) const {
  std::string what = fmt::format("read {} cells of run {}", ids.size(), run_id);
  for (const auto& id : ids)
    if (id.empty()) continue;  // '' would mean every cell to stream_cells
    else if (auto st = stream_cells(db_, run_id, id, what, visit); !st) return st;
  return ok_status();
}

Result<std::vector<CellRecord>> Store::cells(int64_t run_id) const {
  return read_cells(db_, run_id, "", fmt::format("read the cells of run {}", run_id));
}

Result<std::optional<CellRecord>> Store::reusable_cell(const std::string& key) const {
  if (key.empty()) return std::optional<CellRecord>();
  std::string what = "look up a reusable cell";
  int64_t run_id = 0;
  std::string id;
  {  // finished before read_cells opens its transaction
    auto stmt = db_.prepare("SELECT run_id, id FROM cells WHERE reuse_key = ?1 ORDER BY run_id DESC LIMIT 1",
                            what);
    if (!stmt) return stmt.error();
    stmt->bind(key);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<CellRecord>();
    run_id = stmt->integer(0), id = stmt->text(1);
  }
  auto cells = read_cells(db_, run_id, id, what);
  if (!cells) return cells.error();
  if (cells->empty()) return std::optional<CellRecord>();
  CellRecord cell = std::move(cells->front());
  if (!cell.reused_from) cell.reused_from = run_id;
  return std::optional<CellRecord>(std::move(cell));
}

}  // namespace crossload
