// merge_stores: shards joined into a new store (bulk loaded beside it, renamed into place) or into
// an existing one, with the same cells either way.
#include "harness/run/merge.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/compare/testing.h"
#include "harness/store/store.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Read the way an outside tool would: the first column of every row.
std::vector<std::string> raw_column(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      out.emplace_back(sqlite3_column_text(stmt, 0) ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

CellRecord shard_cell(const std::string& fixture, const std::string& consumer) {
  CellRecord cell;
  cell.fixture = fixture, cell.format = "joblib", cell.producer = "host", cell.consumer = consumer;
  cell.id = cell_id(cell.fixture, cell.format, cell.producer, cell.consumer);
  cell.outcome = Outcome::kOkExact;
  cell.detail = {{"max_abs_diff", 0}};
  cell.reuse_key = "key-" + cell.id;
  cell.warnings.push_back({"InconsistentVersionWarning", "from " + fixture, std::nullopt});
  cell.measurements.push_back({"load_s", 0.25, "s"});
  return cell;
}

// A shard's store: one run of matrix m.toml holding a cell per fixture.
std::string make_shard(const std::string& dir, const std::string& name, const std::vector<std::string>& fixtures) {
  std::string path = dir + "/" + name + ".db";
  auto store = Store::open(path);
  EXPECT_TRUE(store.ok());
  int64_t run = store->begin_run("m.toml", "sha-of-m", "0.1.0")->id;
  for (const auto& f : fixtures) EXPECT_TRUE(store->put_cell(run, shard_cell(f, "host")).ok());
  return path;
}

std::vector<std::string> cell_ids(const std::string& store_path) {
  return raw_column(store_path, "SELECT id FROM cells ORDER BY id");
}

TEST(MergeTest, IntoANewDirectoryLeavesAWalStoreWithItsIndexesAndNothingBeside) {
  testutil::TempDir tmp;
  std::string a = make_shard(tmp.path(), "a", {"f1", "f2"}), b = make_shard(tmp.path(), "b", {"f3"});
  std::string out = tmp.path() + "/merged", db = out + "/results.db";

  auto merged = merge_stores({a, b}, out);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->cells, 3u);
  EXPECT_EQ(merged->inputs, 2u);
  EXPECT_EQ(raw_column(db, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(raw_column(db, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  // The indexes dropped for the copy are back, as the schema made them.
  auto indexes = raw_column(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL");
  EXPECT_THAT(indexes, ::testing::IsSupersetOf({"cells_by_reuse_key", "artifacts_by_reuse_key", "runs_by_matrix"}));
  EXPECT_EQ(raw_column(db, "SELECT count(*) FROM cell_warnings"), std::vector<std::string>{"3"});
  EXPECT_EQ(raw_column(db, "SELECT status FROM runs"), std::vector<std::string>{"finished"});
  EXPECT_FALSE(fs::exists(db + ".merging"));
  // The reuse index answers: a rerun finds a merged cell by its key.
  auto store = Store::open(db);
  ASSERT_TRUE(store.ok());
  auto found = store->reusable_cell(shard_cell("f3", "host").reuse_key);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, shard_cell("f3", "host").id);
}

// The second merge goes into the existing store (its WAL, its lock): the same run, the same cells.
TEST(MergeTest, AgainIntoTheSameDirectoryChangesNothing) {
  testutil::TempDir tmp;
  std::string a = make_shard(tmp.path(), "a", {"f1", "f2"}), b = make_shard(tmp.path(), "b", {"f3"});
  std::string out = tmp.path() + "/merged";
  auto first = merge_stores({a, b}, out);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto ids = cell_ids(out + "/results.db");

  auto second = merge_stores({b, a}, out);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->run_id, first->run_id);
  EXPECT_EQ(cell_ids(out + "/results.db"), ids);
  EXPECT_EQ(raw_column(out + "/results.db", "SELECT count(*) FROM runs"), std::vector<std::string>{"1"});
}

// A shard that cannot be merged stops the merge naming it; the shards before it are in the store,
// whose run stays 'running' (not finished), and no half-built file is left beside it.
TEST(MergeTest, ABadShardMidwayKeepsTheShardsBeforeItAndNamesTheFile) {
  testutil::TempDir tmp;
  std::string a = make_shard(tmp.path(), "a", {"f1", "f2"}), b = make_shard(tmp.path(), "b", {"f3", "f4"});
  {
    sqlite3* db = nullptr;
    sqlite3_open(b.c_str(), &db);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE cells SET detail = '{oops' WHERE fixture = 'f4'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::string out = tmp.path() + "/merged", db = out + "/results.db";

  auto merged = merge_stores({a, b}, out);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error().message, HasSubstr(b));
  EXPECT_THAT(merged.error().message, HasSubstr("not valid JSON"));
  EXPECT_EQ(cell_ids(db), (std::vector<std::string>{shard_cell("f1", "host").id, shard_cell("f2", "host").id}));
  EXPECT_EQ(raw_column(db, "SELECT status FROM runs"), std::vector<std::string>{"running"});
  EXPECT_EQ(raw_column(db, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_FALSE(fs::exists(db + ".merging"));
}

// What a merge killed midway left beside the store is not a store to extend: it is replaced.
TEST(MergeTest, TheLeftoverOfAKilledMergeIsReplaced) {
  testutil::TempDir tmp;
  std::string a = make_shard(tmp.path(), "a", {"f1"});
  std::string out = tmp.path() + "/merged";
  fs::create_directories(out);
  std::ofstream(out + "/results.db.merging") << "half a page of a store that was being written";
  std::ofstream(out + "/results.db.merging-journal") << "junk";

  auto merged = merge_stores({a}, out);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(cell_ids(out + "/results.db"), std::vector<std::string>{shard_cell("f1", "host").id});
  EXPECT_FALSE(fs::exists(out + "/results.db.merging"));
}

}  // namespace
}  // namespace crossload
