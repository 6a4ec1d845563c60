#include "harness/store/store.h"
#include "harness/store/schema.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crossload {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

// ---- helpers ----

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "crossload-store-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Direct SQLite access, to look at the file the way an outside tool would.
std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

Store open_ok(const std::string& path, const StoreOptions& options = {}) {
  auto store = Store::open(path, options);
  if (!store) ADD_FAILURE() << store.error().message;
  return std::move(store).value();
}

CellRecord make_cell(const std::string& fixture, const std::string& consumer) {
  CellRecord cell;
  cell.fixture = fixture;
  cell.format = "pickle-5";
  cell.producer = "bookworm-amd64";
  cell.consumer = consumer;
  cell.id = cell_id(cell.fixture, cell.format, cell.producer, cell.consumer);
  return cell;
}

// The cell the crash test's child writes as its i-th; the parent rebuilds it to compare.
CellRecord numbered_cell(int i) {
  CellRecord cell = make_cell("fixture-" + std::to_string(i), "sid-s390x");
  cell.outcome = i % 3 == 0 ? Outcome::kOkExact : i % 3 == 1 ? Outcome::kMismatch
                                                               : Outcome::kLoadError;
  cell.detail = {{"index", i}, {"note", "größte Abweichung ✓"}, {"samples", {i, i + 1}}};
  for (int w = 0; w < i % 3; ++w)
    cell.warnings.push_back({"InconsistentVersionWarning", "warning " + std::to_string(w),
                             w == 0 ? std::optional<std::string>("1.2.2") : std::nullopt});
  for (int m = 0; m <= i % 4; ++m)
    cell.measurements.push_back({"m" + std::to_string(m), i + m / 8.0, "s"});
  return cell;
}

// ---- schema and opening ----

TEST(StoreTest, CreatesSchemaInWalModeAndReopens) {
  TempDir dir;
  std::string path = dir.file("results.db");
  { Store store = open_ok(path); }
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key = 'schema_version'"), "2");
  EXPECT_EQ(raw_query(path, "PRAGMA journal_mode"), "wal");
  Store again = open_ok(path);
  EXPECT_TRUE(again.check_integrity().ok());
  auto latest = again.latest_run();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
}

TEST(StoreTest, MissingDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/results.db");
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_THAT(store.error().message, HasSubstr("unable to open"));
}

TEST(StoreTest, IsMovable) {
  TempDir dir;
  Store first = open_ok(dir.file("results.db"));
  Store second = std::move(first);
  Store third = open_ok(dir.file("other.db"));
  third = std::move(second);
  EXPECT_TRUE(third.begin_run("m.toml", "abc", "0.1.0").ok());
  EXPECT_EQ(third.path(), dir.file("results.db"));
}

// ---- runs ----

TEST(StoreTest, RunLifecycle) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  auto run = store.begin_run("matrix/quick.toml", "sha-1", "0.1.0");
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_GT(run->id, 0);
  EXPECT_EQ(run->status, "running");
  EXPECT_EQ(run->finished_at, "");
  EXPECT_THAT(run->started_at, ::testing::MatchesRegex("....-..-..T..:..:..Z"));
  EXPECT_EQ(run->matrix_path, "matrix/quick.toml");
  EXPECT_EQ(run->matrix_sha256, "sha-1");
  EXPECT_EQ(run->crossload_version, "0.1.0");

  auto read = store.run(run->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *run);

  ASSERT_TRUE(store.mark_run(run->id, "finished").ok());
  read = store.run(run->id);
  EXPECT_EQ(read->status, "finished");
  EXPECT_FALSE(read->finished_at.empty());

  // Resuming a run makes it running again, without a finish time.
  ASSERT_TRUE(store.mark_run(run->id, "running").ok());
  EXPECT_EQ(store.run(run->id)->finished_at, "");

  auto second = store.begin_run("matrix/full.toml", "sha-2", "0.1.0");
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->id, run->id);
  EXPECT_EQ(store.latest_run()->value(), *second);
  auto all = store.runs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, run->id);
}

TEST(StoreTest, RunErrorsAreClear) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  auto run = store.begin_run("m.toml", "sha", "0.1.0");
  auto bad = store.mark_run(run->id, "done");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("'done' is not one of running, finished"));
  auto missing = store.mark_run(999, "finished");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("has no run 999"));
  EXPECT_THAT(store.run(999).error().message, HasSubstr(dir.file("results.db")));
}

TEST(StoreTest, ResumableRunIsTheLatestUnfinishedRunOfThatMatrix) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  EXPECT_FALSE(store.resumable_run("sha-a")->has_value());

  auto old = store.begin_run("a.toml", "sha-a", "0.1.0");
  ASSERT_TRUE(store.mark_run(old->id, "interrupted").ok());
  auto other = store.begin_run("b.toml", "sha-b", "0.1.0");  // another matrix: irrelevant
  auto found = store.resumable_run("sha-a");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, old->id);
  EXPECT_EQ((*found)->status, "interrupted");

  auto newer = store.begin_run("a.toml", "sha-a", "0.1.0");  // still "running": crashed
  EXPECT_EQ(store.resumable_run("sha-a")->value().id, newer->id);

  // Once the latest run finished there is nothing to resume, not even the old one.
  ASSERT_TRUE(store.mark_run(newer->id, "finished").ok());
  EXPECT_FALSE(store.resumable_run("sha-a")->has_value());
  EXPECT_EQ(store.resumable_run("sha-b")->value().id, other->id);
}

// ---- environments and artifacts ----

TEST(StoreTest, EnvironmentRoundTripAndUpsert) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;

  EnvRecord s390x{"bookworm-s390x", "debian", "rootfs unter qemu-s390x-static — 大端",
                  "ok", "",
                  {{"byteorder", "big"}, {"versions", {{"numpy", "1.24.2"}}}, {"bits", 64}},
                  17.25};
  EnvRecord trixie{"trixie-ppc64el", "debian", "rootfs", "unavailable",
                   "pool file libc6 missing", json::object(), 3.5};
  ASSERT_TRUE(store.put_environment(run, trixie).ok());
  ASSERT_TRUE(store.put_environment(run, s390x).ok());
  auto envs = store.environments(run);
  ASSERT_TRUE(envs.ok()) << envs.error().message;
  ASSERT_EQ(envs->size(), 2u);
  EXPECT_EQ((*envs)[0], s390x);  // sorted by name
  EXPECT_EQ((*envs)[1], trixie);

  trixie.status = "ok";
  trixie.reason = "";
  trixie.fingerprint = {{"byteorder", "big"}};
  ASSERT_TRUE(store.put_environment(run, trixie).ok());
  envs = store.environments(run);
  ASSERT_EQ(envs->size(), 2u);
  EXPECT_EQ((*envs)[1], trixie);

  auto bad = store.put_environment(run, {"x", "host", "", "broken", "", {}, 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("environment status 'broken'"));
}

TEST(StoreTest, ArtifactRoundTripAndUpsert) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;

  ArtifactRecord pickle{"bookworm-amd64", "random_forest", "pickle-5", "artifacts/ab.pkl",
                        std::string(64, 'a'), 5'000'000'000LL, "ok", "",
                        {{"sklearn", "1.2.1"}, {"cv_score", 0.9731}, {"nested", {1, 2, 3}}}};
  ArtifactRecord onnx{"bookworm-amd64", "lambda_pipeline", "onnx", "", "", 0, "unsupported",
                      "no skl2onnx converter for FunctionTransformer", nullptr};
  ASSERT_TRUE(store.put_artifact(run, pickle).ok());
  ASSERT_TRUE(store.put_artifact(run, onnx).ok());
  auto read = store.artifacts(run);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0], onnx);
  EXPECT_EQ((*read)[1], pickle);

  pickle.sha256 = std::string(64, 'b');
  pickle.status = "error";
  pickle.reason = "dump raised PicklingError: Can't pickle <lambda>";
  ASSERT_TRUE(store.put_artifact(run, pickle).ok());
  read = store.artifacts(run);
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[1], pickle);
}

// ---- cells ----

TEST(StoreTest, CellRoundTripWithUnicodeAndJson) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;

  CellRecord cell = make_cell("árbol_决策树", "sid-s390x");
  cell.outcome = Outcome::kPredictError;
  cell.detail = {{"error", "ValueError: Buffer dtype mismatch — 'ü' ✗"},
                 {"max_abs", 1.5e-300},
                 {"max_ulp", 4},
                 {"state_identical", true},
                 {"samples", {{{"row", 3}, {"expected", 1}, {"got", 2}}}}};
  cell.warnings = {{"InconsistentVersionWarning",
                    "Trying to unpickle estimator DecisionTreeClassifier from version 1.2.1",
                    "1.2.1"},
                   {"UserWarning", "ünïcödé with a\nnewline", std::nullopt}};
  cell.measurements = {{"load", 0.000271, "s"},
                       {"max_rss", 123456789, "bytes"},
                       {"predict", std::numeric_limits<double>::infinity(), "s"},
                       {"tiny", std::numeric_limits<double>::denorm_min(), "s"}};
  auto put = store.put_cell(run, cell);
  ASSERT_TRUE(put.ok()) << put.error().message;

  auto cells = store.cells(run);
  ASSERT_TRUE(cells.ok()) << cells.error().message;
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ((*cells)[0], cell);
  EXPECT_EQ((*cells)[0].id, "árbol_决策树/pickle-5/bookworm-amd64/sid-s390x");
}

TEST(StoreTest, NanMeasurementSurvives) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord cell = make_cell("nan", "host");
  cell.measurements = {{"max_ulp", std::numeric_limits<double>::quiet_NaN(), "ulp"}};
  ASSERT_TRUE(store.put_cell(run, cell).ok());
  auto cells = store.cells(run);
  ASSERT_EQ(cells->at(0).measurements.size(), 1u);
  EXPECT_TRUE(std::isnan(cells->at(0).measurements[0].value));
}

TEST(StoreTest, InvalidUtf8InDetailIsReplacedNotThrown) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord cell = make_cell("bytes", "host");
  cell.outcome = Outcome::kLoadError;
  cell.detail = {{"error", std::string("UnpicklingError: invalid load key '\xff'.")}};
  ASSERT_TRUE(store.put_cell(run, cell).ok());
  auto cells = store.cells(run);
  ASSERT_TRUE(cells.ok());
  EXPECT_THAT(cells->at(0).detail["error"].get<std::string>(), HasSubstr("\xEF\xBF\xBD"));
}

TEST(StoreTest, CellUpsertReplacesWarningsAndMeasurements) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord first = numbered_cell(5);  // 2 warnings, 2 measurements
  ASSERT_TRUE(store.put_cell(run, first).ok());

  CellRecord retry = first;
  retry.outcome = Outcome::kTimeout;
  retry.detail = {{"timeout_s", 60}};
  retry.warnings = {{"DeprecationWarning", "only this one", std::nullopt}};
  retry.measurements.clear();
  ASSERT_TRUE(store.put_cell(run, retry).ok());

  auto cells = store.cells(run);
  ASSERT_TRUE(cells.ok());
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ((*cells)[0], retry);
  EXPECT_EQ(raw_query(dir.file("results.db"), "SELECT count(*) FROM cell_measurements"), "0");
}

// Streaming attaches each cell's children by walking three ordered queries side by side: cells
// with none, cells of other runs interleaved by id, and ids that sort between others must all
// come out exactly as the whole-run read gives them.
TEST(StoreTest, ForEachCellStreamsTheSameCellsAsCells) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  int64_t other = store.begin_run("m.toml", "sha", "0.1.0")->id;
  std::vector<CellRecord> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(numbered_cell(i));
  ASSERT_TRUE(store.put_cells(run, batch).ok());
  for (int i = 0; i < 40; i += 3) ASSERT_TRUE(store.put_cell(other, numbered_cell(i + 100)).ok());
  auto whole = store.cells(run);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_EQ(whole->size(), 40u);
  std::vector<CellRecord> streamed;
  auto st = store.for_each_cell(run, [&](const CellRecord& c) { return streamed.push_back(c), ok_status(); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(streamed, *whole);
  std::map<std::string, CellRecord> written;
  for (const auto& c : batch) written[c.id] = c;
  for (const auto& c : streamed) EXPECT_EQ(c, written.at(c.id)) << c.id;
}

// A diff's baseline pass wants outcomes and measurements, not the detail: skipped, it is null and
// everything else is as streamed whole.
TEST(StoreTest, ForEachCellWithoutDetailLeavesOnlyTheDetailOut) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  std::vector<CellRecord> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(numbered_cell(i));
  ASSERT_TRUE(store.put_cells(run, batch).ok());
  auto whole = store.cells(run);
  ASSERT_TRUE(whole.ok());
  std::vector<CellRecord> streamed;
  auto st = store.for_each_cell(run, [&](const CellRecord& c) { return streamed.push_back(c), ok_status(); },
                                CellDetail::kSkipped);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(streamed.size(), whole->size());
  for (std::size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_TRUE(streamed[i].detail.is_null()) << streamed[i].id;
    EXPECT_FALSE((*whole)[i].detail.is_null()) << streamed[i].id;  // the test means something
    CellRecord expected = (*whole)[i];
    expected.detail = nlohmann::json();
    EXPECT_EQ(streamed[i], expected);
  }
}

TEST(StoreTest, ForEachCellStopsAtTheVisitorsError) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store.put_cell(run, numbered_cell(i)).ok());
  int seen = 0;
  auto st = store.for_each_cell(run, [&](const CellRecord&) -> Status {
    return ++seen == 2 ? Status(make_error("enough")) : ok_status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "enough");
  EXPECT_EQ(seen, 2);
}

TEST(StoreTest, PutCellsIsOneTransactionThatUpsertsLikePutCell) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord retry = numbered_cell(5);
  retry.warnings.clear();
  ASSERT_TRUE(store.put_cells(run, {numbered_cell(4), numbered_cell(5)}).ok());
  ASSERT_TRUE(store.put_cells(run, {retry}).ok());
  EXPECT_EQ(*store.cells(run), (std::vector<CellRecord>{numbered_cell(4), retry}));
  // A bad cell in a batch leaves none of the batch behind.
  CellRecord bad = numbered_cell(6);
  bad.id = "not/its/own/id";
  EXPECT_FALSE(store.put_cells(run, {numbered_cell(7), bad}).ok());
  EXPECT_EQ(store.cells(run)->size(), 2u);
}

// Merge copies a run's cells by SQLite itself: what comes out of the target must be exactly what
// went into the source, children (NaN measurements, warnings without a version) included.
TEST(StoreCopyTest, CopiedCellsReadBackAsWritten) {
  TempDir dir;
  Store source = open_ok(dir.file("source.db"));
  int64_t from = source.begin_run("m.toml", "sha", "0.1.0")->id;
  std::vector<CellRecord> written;
  for (int i = 0; i < 30; ++i) written.push_back(numbered_cell(i));
  written[7].reuse_key = "key-7", written[7].reused_from = 3;
  ASSERT_TRUE(source.put_cells(from, written).ok());
  CellRecord nan = numbered_cell(30);  // NaN != NaN: compared apart from the others
  nan.measurements = {{"load", std::numeric_limits<double>::quiet_NaN(), "s"}};
  ASSERT_TRUE(source.put_cell(from, nan).ok());
  Store target = open_ok(dir.file("target.db"));
  int64_t other = target.begin_run("other.toml", "sha2", "0.1.0")->id;
  ASSERT_TRUE(target.put_cell(other, numbered_cell(1)).ok());
  int64_t to = target.begin_run("merged:m.toml", "sha", "0.1.0")->id;

  auto copied = target.copy_cells(source, from, to);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(*copied, 31u);
  std::map<std::string, CellRecord> back;
  auto st = target.for_each_cell(to, [&](const CellRecord& c) { return back[c.id] = c, ok_status(); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(back.size(), 31u);
  for (const auto& c : written) EXPECT_EQ(back.at(c.id), c) << c.id;
  ASSERT_EQ(back.at(nan.id).measurements.size(), 1u);
  EXPECT_TRUE(std::isnan(back.at(nan.id).measurements[0].value));
  EXPECT_EQ(target.cells(other)->size(), 1u);  // the other run is untouched
}

// A cell the target run already has is replaced whole, as put_cell's upsert does: no warning or
// measurement of the earlier cell is left behind; cells only the target has stay.
TEST(StoreCopyTest, ACellTheTargetHasIsReplacedWithItsChildren) {
  TempDir dir;
  Store source = open_ok(dir.file("source.db"));
  int64_t from = source.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord retry = numbered_cell(5);  // two warnings, two measurements in the target's copy
  retry.warnings.clear();
  retry.measurements.resize(1);
  retry.outcome = Outcome::kOkExact;
  ASSERT_TRUE(source.put_cells(from, {retry, numbered_cell(6)}).ok());
  Store target = open_ok(dir.file("target.db"));
  int64_t to = target.begin_run("merged:m.toml", "sha", "0.1.0")->id;
  ASSERT_TRUE(target.put_cells(to, {numbered_cell(4), numbered_cell(5)}).ok());

  auto copied = target.copy_cells(source, from, to);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(*copied, 2u);
  EXPECT_EQ(*target.cells(to), (std::vector<CellRecord>{numbered_cell(4), retry, numbered_cell(6)}));
  EXPECT_EQ(raw_query(dir.file("target.db"), "SELECT count(*) FROM cell_warnings WHERE cell_id = '" + retry.id + "'"),
            "0");
  // Copying the same run again changes nothing (merge is idempotent).
  ASSERT_TRUE(target.copy_cells(source, from, to).ok());
  EXPECT_EQ(*target.cells(to), (std::vector<CellRecord>{numbered_cell(4), retry, numbered_cell(6)}));
}

// What reading the source cell by cell would refuse is refused before anything is copied, naming
// the source file and the cell; the target keeps what it had.
TEST(StoreCopyTest, ABadSourceCellIsAnErrorNamingTheSourceAndCopiesNothing) {
  struct Case {
    std::string edit, expected;
  };
  const std::string id = numbered_cell(2).id;
  for (const auto& c : std::vector<Case>{
           {"UPDATE cells SET outcome = 'SOMETHING_NEW' WHERE id = '" + id + "'", "unknown outcome 'SOMETHING_NEW'"},
           {"UPDATE cells SET detail = '{not json' WHERE id = '" + id + "'",
            "the detail of cell " + id + " of run 1 is not valid JSON"},
           {"UPDATE cells SET consumer = 'elsewhere' WHERE id = '" + id + "'",
            "cell id '" + id + "' does not match its fields"},
       }) {
    TempDir dir;
    {
      Store source = open_ok(dir.file("source.db"));
      int64_t from = source.begin_run("m.toml", "sha", "0.1.0")->id;
      ASSERT_TRUE(source.put_cells(from, {numbered_cell(1), numbered_cell(2), numbered_cell(3)}).ok());
    }
    raw_exec(dir.file("source.db"), c.edit);
    Store source = open_ok(dir.file("source.db"));
    Store target = open_ok(dir.file("target.db"));
    int64_t to = target.begin_run("merged:m.toml", "sha", "0.1.0")->id;
    ASSERT_TRUE(target.put_cell(to, numbered_cell(9)).ok());
    auto copied = target.copy_cells(source, 1, to);
    ASSERT_FALSE(copied.ok()) << c.edit;
    EXPECT_THAT(copied.error().message, HasSubstr(c.expected));
    EXPECT_THAT(copied.error().message, HasSubstr(dir.file("source.db")));
    EXPECT_EQ(*target.cells(to), std::vector<CellRecord>{numbered_cell(9)});
    // The source is detached again: the target stays usable.
    EXPECT_TRUE(target.put_cell(to, numbered_cell(8)).ok());
  }
}

TEST(StoreTest, FinishedCellIdsBelongToTheirRun) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t a = store.begin_run("m.toml", "sha", "0.1.0")->id;
  int64_t b = store.begin_run("m.toml", "sha", "0.1.0")->id;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store.put_cell(a, numbered_cell(i)).ok());
  ASSERT_TRUE(store.put_cell(b, numbered_cell(7)).ok());
  ASSERT_TRUE(store.put_cell(a, numbered_cell(2)).ok());  // upsert: still four

  auto ids = store.finished_cell_ids(a);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::set<std::string>{numbered_cell(0).id, numbered_cell(1).id,
                                         numbered_cell(2).id, numbered_cell(3).id}));
  EXPECT_EQ(*store.finished_cell_ids(b), std::set<std::string>{numbered_cell(7).id});
  EXPECT_TRUE(store.finished_cell_ids(99)->empty());

  auto cells = store.cells(a);
  ASSERT_EQ(cells->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*cells)[i], numbered_cell(i));  // sorted by id
}

TEST(StoreTest, RejectsCellWhoseIdDisagreesWithItsFields) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord cell = make_cell("tree", "host");
  cell.id = "tree/pickle-5/host";
  auto put = store.put_cell(run, cell);
  ASSERT_FALSE(put.ok());
  EXPECT_THAT(put.error().message, HasSubstr("expected 'tree/pickle-5/bookworm-amd64/host'"));
}

TEST(StoreTest, CellOfUnknownRunIsRejectedAndLeavesNothing) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  auto put = store.put_cell(42, numbered_cell(5));
  ASSERT_FALSE(put.ok());
  EXPECT_THAT(put.error().message, HasSubstr("FOREIGN KEY"));
  EXPECT_THAT(put.error().message, HasSubstr("save cell fixture-5/"));
  EXPECT_EQ(raw_query(dir.file("results.db"), "SELECT count(*) FROM cells"), "0");
}

// ---- damaged and foreign files ----

TEST(StoreCorruptTest, GarbageFileIsAClearError) {
  TempDir dir;
  std::string path = dir.file("results.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not a database, it is garbage \x01\x02\xff";
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_THAT(store.error().message, HasSubstr("file is not a database"));
  EXPECT_THAT(store.error().message, HasSubstr("move it aside"));
}

TEST(StoreCorruptTest, ForeignSqliteDatabaseIsRefused) {
  TempDir dir;
  std::string path = dir.file("other.db");
  raw_exec(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY)");
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr("not a crossload results store"));
}

TEST(StoreCorruptTest, NewerSchemaIsRefused) {
  TempDir dir;
  std::string path = dir.file("results.db");
  { Store store = open_ok(path); }
  raw_exec(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr("schema version 99, newer than"));
}

TEST(StoreCorruptTest, DamagedPagesGiveErrorsNotCrashes) {
  TempDir dir;
  std::string path = dir.file("results.db");
  int64_t run = 0;
  {
    Store store = open_ok(path);
    run = store.begin_run("m.toml", "sha", "0.1.0")->id;
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(store.put_cell(run, numbered_cell(i)).ok());
  }  // closing checkpoints the WAL into the main file
  auto size = fs::file_size(path);
  ASSERT_GT(size, 8 * 4096u);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 2));  // well past the header page
    std::string garbage(3 * 4096, '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto store = Store::open(path);
  if (!store.ok()) {
    EXPECT_THAT(store.error().message, HasSubstr(path));
    return;
  }
  auto integrity = store->check_integrity();
  ASSERT_FALSE(integrity.ok());
  EXPECT_THAT(integrity.error().message, HasSubstr(path));
  EXPECT_THAT(integrity.error().message, HasSubstr("damaged"));
  auto cells = store->cells(run);  // may or may not touch the damaged pages; must not crash
  if (!cells.ok()) {
    EXPECT_THAT(cells.error().message, HasSubstr(path));
  }
}

// ---- two writers ----

TEST(StoreLockTest, SecondHolderIsRefusedWithThePid) {
  TempDir dir;
  std::string path = dir.file("results.db");
  Store first = open_ok(path);
  Store second = open_ok(path);
  ASSERT_TRUE(first.lock_for_writing().ok());
  EXPECT_TRUE(first.lock_for_writing().ok());  // idempotent
  auto refused = second.lock_for_writing();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message,
              HasSubstr("results store " + path + " is in use by another crossload run (pid " +
                        std::to_string(getpid()) + ")"));
  { Store gone = std::move(first); }  // destroying the holder releases the lock
  EXPECT_TRUE(second.lock_for_writing().ok());
}

TEST(StoreLockTest, LockHeldByAnotherProcessIsReleasedWhenItDies) {
  TempDir dir;
  std::string path = dir.file("results.db");
  { Store create = open_ok(path); }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    auto store = Store::open(path);
    char ok = store && store->lock_for_writing().ok() ? 'y' : 'n';
    (void)!write(ready[1], &ok, 1);
    pause();  // hold the lock until killed
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  ASSERT_EQ(ok, 'y');

  Store store = open_ok(path);
  auto refused = store.lock_for_writing();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("(pid " + std::to_string(child) + ")"));

  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(store.lock_for_writing().ok());
}

TEST(StoreBusyTest, WriterWaitsForAnotherProcesssTransaction) {
  TempDir dir;
  std::string path = dir.file("results.db");
  Store store = open_ok(path);
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto start = std::chrono::steady_clock::now();
  auto put = store.put_cell(run, numbered_cell(1));
  auto waited = std::chrono::steady_clock::now() - start;
  release.join();
  sqlite3_close(other);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(200));
}

TEST(StoreBusyTest, ExpiredBusyTimeoutIsAClearError) {
  TempDir dir;
  std::string path = dir.file("results.db");
  Store store = open_ok(path, StoreOptions{std::chrono::milliseconds(50)});
  int64_t run = store.begin_run("m.toml", "sha", "0.1.0")->id;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto put = store.put_cell(run, numbered_cell(1));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_FALSE(put.ok());
  EXPECT_THAT(put.error().message, HasSubstr(path));
  EXPECT_THAT(put.error().message, HasSubstr("cannot save cell fixture-1/"));
  EXPECT_THAT(put.error().message, HasSubstr("database is locked"));
  EXPECT_THAT(put.error().message, HasSubstr("another crossload run"));
  EXPECT_TRUE(store.put_cell(run, numbered_cell(1)).ok());  // usable once the lock is gone
}

// ---- the crash test ----

// Runs in the forked child: writes every not-yet-finished cell, reporting each id on
// `fd` only after put_cell returned, i.e. after its transaction committed.
[[noreturn]] void write_cells_until_killed(const std::string& path, int64_t run, int fd,
                                           int count) {
  auto fail = [fd](const std::string& message) {
    std::string line = "ERROR " + message + "\n";
    (void)!write(fd, line.data(), line.size());
    _exit(2);
  };
  auto store = Store::open(path);
  if (!store) fail(store.error().message);
  if (auto locked = store->lock_for_writing(); !locked) fail(locked.error().message);
  auto done = store->finished_cell_ids(run);
  if (!done) fail(done.error().message);
  for (int i = 0; i < count; ++i) {
    CellRecord cell = numbered_cell(i);
    if (done->count(cell.id)) continue;
    if (auto put = store->put_cell(run, cell); !put) fail(put.error().message);
    std::string line = cell.id + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      fail("pipe write failed");
  }
  _exit(0);
}

// Reads the child's reports; after `kill_after` of them, lets it run on for `delay` and
// SIGKILLs it, then drains the pipe. Killing right on a report would always hit the child
// just after a commit; the delay makes the kill land anywhere, mid-transaction included.
std::vector<std::string> collect_reports(int fd, pid_t child, size_t kill_after,
                                         std::chrono::microseconds delay) {
  std::vector<std::string> ids;
  std::string pending;
  char buf[4096];
  bool killed = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      ids.push_back(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    if (!killed && ids.size() >= kill_after) {
      std::this_thread::sleep_for(delay);
      kill(child, SIGKILL);
      killed = true;
    }
  }
  return ids;
}

TEST(StoreCrashTest, SigkilledWriterLosesNoReportedCell) {
  constexpr int kCells = 200'000;  // far more than a child writes before it is killed
  TempDir dir;
  std::string path = dir.file("results.db");
  int64_t run = 0;
  {
    Store store = open_ok(path);
    run = store.begin_run("m.toml", "sha", "0.1.0")->id;
  }  // no connection may cross the fork

  // Several kills, each child resuming where the last one died, as `crossload run` would.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_us(0, 3000);
  std::vector<std::string> reported;
  for (size_t round = 0; round < 6; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      write_cells_until_killed(path, run, fds[1], kCells);
    }
    close(fds[1]);
    auto ids = collect_reports(fds[0], child, 20 + 20 * round,
                               std::chrono::microseconds(delay_us(random)));
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own: " << (ids.empty() ? "" : ids.back());
    for (const auto& id : ids) ASSERT_EQ(id.rfind("ERROR", 0), std::string::npos) << id;
    reported.insert(reported.end(), ids.begin(), ids.end());
  }

  Store store = open_ok(path);
  auto integrity = store.check_integrity();
  EXPECT_TRUE(integrity.ok()) << integrity.error().message;
  EXPECT_EQ(raw_query(path, "PRAGMA integrity_check"), "ok");
  auto cells = store.cells(run);
  ASSERT_TRUE(cells.ok()) << cells.error().message;
  std::map<std::string, const CellRecord*> stored;
  for (const CellRecord& cell : *cells)
    ASSERT_TRUE(stored.emplace(cell.id, &cell).second) << "duplicate " << cell.id;

  std::map<std::string, int> times_reported;
  for (const auto& id : reported) ++times_reported[id];
  for (const auto& [id, times] : times_reported) {
    EXPECT_EQ(times, 1) << id << " was written twice: resume did not see it";
    auto it = stored.find(id);
    ASSERT_NE(it, stored.end()) << "reported but lost: " << id;
    int index = std::stoi(id.substr(std::string("fixture-").size()));
    EXPECT_EQ(*it->second, numbered_cell(index)) << id;
  }
  // No half-written cell either: every stored cell, reported or not, is complete.
  for (const CellRecord& cell : *cells) {
    int index = std::stoi(cell.id.substr(std::string("fixture-").size()));
    EXPECT_EQ(cell, numbered_cell(index)) << cell.id;
  }
  // A child may die between commit and report, so the store can hold a few unreported
  // cells; it can never hold fewer.
  EXPECT_GE(cells->size(), reported.size());
  EXPECT_LT(cells->size(), static_cast<size_t>(kCells));
}

// ---- reuse ----

TEST(StoreReuseTest, ReusableCellIsTheLatestWithItsKeyAndNamesItsRun) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t first = store.begin_run("m.toml", "sha", "0.1.0")->id;
  int64_t second = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord old_cell = numbered_cell(1), new_cell = numbered_cell(2);
  old_cell.reuse_key = new_cell.reuse_key = "k1";
  ASSERT_TRUE(store.put_cell(first, old_cell).ok());
  ASSERT_TRUE(store.put_cell(second, new_cell).ok());

  auto found = store.reusable_cell("k1");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  CellRecord expected = new_cell;
  expected.reused_from = second;  // warnings and measurements come along
  EXPECT_EQ(**found, expected);
  EXPECT_FALSE(store.reusable_cell("k2")->has_value());
  EXPECT_FALSE(store.reusable_cell("")->has_value());  // cells without a key are never reused
}

TEST(StoreReuseTest, ACopyOfACopyStillNamesTheRunThatComputedIt) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t first = store.begin_run("m.toml", "sha", "0.1.0")->id;
  int64_t second = store.begin_run("m.toml", "sha", "0.1.0")->id;
  CellRecord cell = numbered_cell(3);
  cell.reuse_key = "k";
  ASSERT_TRUE(store.put_cell(first, cell).ok());
  CellRecord copy = **store.reusable_cell("k");
  ASSERT_TRUE(store.put_cell(second, copy).ok());
  EXPECT_EQ((*store.reusable_cell("k"))->reused_from, first);
  EXPECT_EQ((*store.cells(second))[0].reused_from, first);
}

TEST(StoreReuseTest, ReusableArtifactIsTheLatestWithItsKey) {
  TempDir dir;
  Store store = open_ok(dir.file("results.db"));
  int64_t first = store.begin_run("m.toml", "sha", "0.1.0")->id;
  int64_t second = store.begin_run("m.toml", "sha", "0.1.0")->id;
  ArtifactRecord a{"host", "tree", "joblib", "/a/model.joblib", std::string(64, 'a'), 10, "ok", "",
                   {{"outputs", {"predict"}}}, "key-a"};
  ASSERT_TRUE(store.put_artifact(first, a).ok());
  a.sha256 = std::string(64, 'b');
  ASSERT_TRUE(store.put_artifact(second, a).ok());
  auto found = store.reusable_artifact("key-a");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, a);
  EXPECT_FALSE(store.reusable_artifact("key-b")->has_value());
}

TEST(StoreReuseTest, AVersion1StoreIsMigratedAndKeepsItsCells) {
  TempDir dir;
  std::string path = dir.file("results.db");
  raw_exec(path, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" +
                     std::string(schema::migrations()[0]) +
                     "INSERT INTO meta VALUES ('schema_version', '1');"
                     "INSERT INTO runs (started_at, matrix_path, matrix_sha256, crossload_version, status) "
                     "VALUES ('2024-01-01T00:00:00Z', 'm.toml', 'sha', '0.1.0', 'finished');"
                     "INSERT INTO cells VALUES (1, 'f/joblib/a/b', 'f', 'joblib', 'a', 'b', 'OK_EXACT', '{}');");
  Store store = open_ok(path);
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key = 'schema_version'"), "2");
  auto cells = store.cells(1);
  ASSERT_TRUE(cells.ok()) << cells.error().message;
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ((*cells)[0].reuse_key, "");
  EXPECT_EQ((*cells)[0].reused_from, 0);
}

}  // namespace
}  // namespace crossload
