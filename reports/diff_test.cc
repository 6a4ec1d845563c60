#include "reports/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/store/store.h"
#include "reports/json_reporter.h"
#include "reports/testing.h"

namespace crossload {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testutil;
namespace fs = std::filesystem;

ResultsSource source(const std::string& label, RunData d) { return {label, std::move(d)}; }

CellRecord* find(RunData& d, const std::string& id) {
  for (auto& c : d.cells)
    if (c.id == id) return &c;
  ADD_FAILURE() << "no cell " << id;
  return nullptr;
}

std::vector<std::string> ids(const std::vector<OutcomeChange>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) out.push_back(c.id);
  return out;
}

void set_measurement(CellRecord& c, const std::string& name, std::vector<double> samples) {
  std::erase_if(c.measurements, [&](const Measurement& m) { return m.name == name; });
  for (double v : samples) c.measurements.push_back({name, v, "s"});
}

// A baseline and a current run that differ in every way the diff reports.
std::pair<RunData, RunData> changed_runs(bool cut_utf8 = true) {
  RunData before = sample_run(cut_utf8), after = sample_run(cut_utf8);
  find(after, "iris_tree/joblib/new/new")->outcome = Outcome::kLoadError;         // regression
  find(after, "iris_tree/joblib/new/new")->detail = error("load", "KeyError", "118");
  find(after, "iris_tree/pickle-p5/new/old")->outcome = Outcome::kOkExact;        // fix
  find(after, "iris_tree/pickle-p5/new/old")->detail = compared("OK_EXACT", 0, 0, 0);
  std::erase_if(after.cells, [](const CellRecord& c) { return c.id == "iris_tree/onnx/new/old"; });  // vanished
  after.cells.push_back(cell("iris_tree", "cloudpickle", "new", "old", Outcome::kMismatch, compared("MISMATCH", 1, 1, 3)));
  after.cells.push_back(cell("iris_tree", "cloudpickle", "new", "new", Outcome::kOkExact));
  set_measurement(*find(after, "iris_tree/skops/new/new"), "load", {0.004});       // 2x slower
  set_measurement(*find(after, "iris_tree/pickle-p5/new/new"), "load", {0.00033}); // 1.1x: noise
  return {before, after};
}

TEST(Diff, FindsRegressionsFixesNewAndVanishedCells) {
  auto [before, after] = changed_runs();
  DiffResult d = diff_runs(source("base", before), source("cur", after), {});
  EXPECT_THAT(ids(d.regressions), ElementsAre("iris_tree/joblib/new/new"));
  EXPECT_EQ(d.regressions[0].before, Outcome::kOkExact);
  EXPECT_EQ(d.regressions[0].after, Outcome::kLoadError);
  EXPECT_EQ(d.regressions[0].text, "KeyError: 118");
  EXPECT_THAT(ids(d.fixes), ElementsAre("iris_tree/pickle-p5/new/old"));
  EXPECT_EQ(d.fixes[0].text, "ModuleNotFoundError: No module named 'numpy._core'");  // what was fixed
  EXPECT_THAT(ids(d.new_cells), ElementsAre("iris_tree/cloudpickle/new/old", "iris_tree/cloudpickle/new/new"));
  EXPECT_THAT(ids(d.vanished), ElementsAre("iris_tree/onnx/new/old"));
  ASSERT_EQ(new_failures(d).size(), 1u);
  EXPECT_EQ(new_failures(d)[0]->id, "iris_tree/cloudpickle/new/old");
  EXPECT_EQ(d.common_cells, before.cells.size() - 1);
}

TEST(Diff, PassesExpectedFailuresThroughWithoutCallingThemRegressions) {
  RunData before = sample_run(), after = sample_run();
  find(after, "iris_tree/joblib/new/new")->outcome = Outcome::kXfail;
  DiffResult d = diff_runs(source("b", before), source("c", after), {});
  EXPECT_TRUE(d.regressions.empty());
  EXPECT_THAT(ids(d.xfail), ElementsAre("iris_tree/joblib/new/new", "lambda_pipeline/cloudpickle/old/old"));
  EXPECT_THAT(ids(d.xpass), ElementsAre("lambda_pipeline/cloudpickle/new/new"));
}

TEST(Diff, SingleSamplesCompareByRatioAndSaySoPlainly) {
  auto [before, after] = changed_runs();
  DiffResult d = diff_runs(source("b", before), source("c", after), {});
  ASSERT_EQ(d.perf_regressions.size(), 1u);
  EXPECT_EQ(d.perf_regressions[0].id, "iris_tree/skops/new/new");
  EXPECT_EQ(d.perf_regressions[0].measurement, "load");
  EXPECT_DOUBLE_EQ(d.perf_regressions[0].ratio, 2.0);
  EXPECT_FALSE(d.perf_regressions[0].p_value);
  EXPECT_EQ(d.perf_tested, 0u);
  std::ostringstream text;
  write_diff_text(d, {FailOn::kPerf}, text);
  EXPECT_THAT(text.str(), HasSubstr("not a significance test"));
}

TEST(Diff, ThresholdIsConfigurable) {
  auto [before, after] = changed_runs();
  DiffOptions strict;
  strict.threshold = 1.05;
  EXPECT_EQ(diff_runs(source("b", before), source("c", after), strict).perf_regressions.size(), 2u);
  DiffOptions lax;
  lax.threshold = 3;
  EXPECT_TRUE(diff_runs(source("b", before), source("c", after), lax).perf_regressions.empty());
}

TEST(Diff, RepetitionsNeedASignificantMannWhitneyUToCount) {
  RunData before = sample_run(), slow = sample_run(), noisy = sample_run();
  const std::string id = "iris_tree/skops/new/new";
  set_measurement(*find(before, id), "load", {1.0, 1.1, 0.9, 1.05, 0.95, 1.02});
  set_measurement(*find(slow, id), "load", {2.0, 2.1, 1.9, 2.05, 1.95, 2.2});   // all slower: p = 1/924
  set_measurement(*find(noisy, id), "load", {0.5, 3.0, 0.6, 2.8, 0.7, 2.9});    // median 1.75, but overlapping
  DiffResult d = diff_runs(source("b", before), source("c", slow), {});
  ASSERT_EQ(d.perf_regressions.size(), 1u);
  ASSERT_TRUE(d.perf_regressions[0].p_value);
  EXPECT_NEAR(*d.perf_regressions[0].p_value, 1.0 / 924, 1e-12);
  EXPECT_EQ(d.perf_tested, 1u);
  DiffResult n = diff_runs(source("b", before), source("c", noisy), {});
  EXPECT_TRUE(n.perf_regressions.empty());
  EXPECT_EQ(n.perf_tested, 1u);
}

TEST(Diff, ImprovementsAreReportedNotFailed) {
  RunData before = sample_run(), after = sample_run();
  set_measurement(*find(after, "iris_tree/skops/new/new"), "load", {0.0005});
  DiffResult d = diff_runs(source("b", before), source("c", after), {});
  EXPECT_EQ(d.perf_improvements.size(), 1u);
  EXPECT_TRUE(failing(d, {FailOn::kPerf}).empty());
}

TEST(FailOn, ParsesNamesAndSuggestsForTypos) {
  auto parsed = parse_fail_on({"compat", "perf", "new-failure", "vanished"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 4u);
  auto none = parse_fail_on({"none"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto typo = parse_fail_on({"compt"});
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message,
            "--fail-on: unknown category 'compt' (did you mean 'compat'?) (known: compat, perf, new-failure, vanished, or none)");
  EXPECT_THAT(default_fail_on(), ElementsAre("compat", "new-failure"));
}

TEST(FailOn, EachCategoryFailsOnlyWhenNamed) {
  auto [before, after] = changed_runs();
  DiffResult d = diff_runs(source("b", before), source("c", after), {});
  EXPECT_THAT(failing(d, {FailOn::kCompat}), ElementsAre("1 compatibility regression"));
  EXPECT_THAT(failing(d, {FailOn::kNewFailure}), ElementsAre("1 new failing cell"));
  EXPECT_THAT(failing(d, {FailOn::kPerf}), ElementsAre("1 performance regression"));
  EXPECT_THAT(failing(d, {FailOn::kVanished}), ElementsAre("1 vanished cell"));
  EXPECT_TRUE(failing(d, {}).empty());
  DiffResult same = diff_runs(source("b", before), source("c", before), {});
  EXPECT_TRUE(failing(same, {FailOn::kCompat, FailOn::kPerf, FailOn::kNewFailure, FailOn::kVanished}).empty());
}

// ---- goldens of the three renderings ----

TEST(DiffGolden, TextMarkdownJson) {
  auto [before, after] = changed_runs();
  DiffResult d = diff_runs(source("old/results.json", before), source("new/results.db#2", after), {});
  std::vector<FailOn> defaults = *parse_fail_on(default_fail_on());
  std::ostringstream text, md;
  write_diff_text(d, defaults, text);
  write_diff_markdown(d, defaults, md);
  expect_golden("diff.txt", text.str());
  expect_golden("diff.md", md.str());
  expect_golden("diff.json", diff_to_json(d, defaults).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

// ---- reading results.json ----

std::string write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

class ResultsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crossload-diff-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ResultsFiles, JsonRoundTripsWhatTheDiffNeeds) {
  RunData d = sample_run(/*cut_utf8=*/false);
  std::string path = write_file(dir_ / "results.json", render(JsonReporter(), d));
  auto read = read_results_json(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->label, path);
  EXPECT_EQ(read->data.cells, d.cells);
  EXPECT_EQ(read->data.envs, d.envs);
  EXPECT_EQ(read->data.artifacts, d.artifacts);
  EXPECT_EQ(read->data.run.id, 7);
}

TEST_F(ResultsFiles, NewerSchemaIsRefusedNamingFileAndVersions) {
  std::string path = write_file(dir_ / "results.json", R"({"schema_version": 2, "cells": []})");
  auto read = read_results_json(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message, path + ": results schema_version 2 is newer than this crossload reads (1 to 1); "
                                         "use a newer crossload, or the one that wrote it");
}

TEST_F(ResultsFiles, OlderSchemaIsRefusedNamingFileAndVersions) {
  std::string path = write_file(dir_ / "results.json", R"({"schema_version": 0, "cells": []})");
  auto read = read_results_json(path);
  ASSERT_FALSE(read);
  EXPECT_THAT(read.error().message, HasSubstr(path + ": results schema_version 0 is older than this crossload reads (1 to 1)"));
}

TEST_F(ResultsFiles, NotResultsAtAllIsAClearError) {
  EXPECT_EQ(read_results_json(write_file(dir_ / "a.json", "[1, 2]")).error().message,
            (dir_ / "a.json").string() + ": not a crossload results.json (no integer \"schema_version\" at the top)");
  EXPECT_THAT(read_results_json(write_file(dir_ / "b.json", "{")).error().message,
              HasSubstr((dir_ / "b.json").string() + ": not valid JSON at byte 2"));
  EXPECT_THAT(read_results_json((dir_ / "missing.json").string()).error().message, HasSubstr("cannot read"));
  std::string unknown = write_file(dir_ / "c.json", R"({"schema_version": 1, "cells": [{"id": "a/b/c/d", "outcome": "MAYBE"}]})");
  EXPECT_EQ(read_results_json(unknown).error().message,
            unknown + ": cell a/b/c/d has unknown outcome 'MAYBE'; was it written by a newer crossload?");
}

TEST_F(ResultsFiles, RepetitionSamplesInJsonBecomeSeveralMeasurements) {
  std::string path = write_file(dir_ / "r.json", R"({"schema_version": 1, "cells": [{"id": "f/joblib/a/b", "outcome": "OK_EXACT",
      "measurements": {"load": {"samples": [0.1, 0.2, 0.3], "unit": "s"}, "size": {"value": 10, "unit": "bytes"}}}]})");
  auto read = read_results_json(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->data.cells[0].measurements.size(), 4u);
}

// ---- reading a results store ----

TEST(StoreSpec, NamesAStoreAndOptionallyARun) {
  EXPECT_EQ(parse_store_spec("out/results.db")->path, "out/results.db");
  EXPECT_EQ(parse_store_spec("out/results.db")->run_id, 0);
  EXPECT_EQ(parse_store_spec("out/results.db#12")->run_id, 12);
  EXPECT_FALSE(parse_store_spec("out/results.json"));
  EXPECT_FALSE(parse_store_spec("out/results.db#x"));
}

TEST_F(ResultsFiles, StoreReadsTheLatestRunOrTheOneNamed) {
  std::string path = (dir_ / "results.db").string();
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store) << store.error().message;
    for (Outcome o : {Outcome::kOkExact, Outcome::kLoadError}) {
      auto run = store->begin_run("m.toml", "sha", "0.1.0");
      ASSERT_TRUE(run) << run.error().message;
      auto st = store->put_cell(run->id, cell("iris_tree", "joblib", "host", "host", o));
      ASSERT_TRUE(st) << st.error().message;
    }
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store);
  auto latest = read_store_run(*store, *parse_store_spec(path));
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(latest->label, path + "#2");
  EXPECT_EQ(latest->data.cells.at(0).outcome, Outcome::kLoadError);
  auto first = read_store_run(*store, *parse_store_spec(path + "#1"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data.cells.at(0).outcome, Outcome::kOkExact);
  DiffResult d = diff_runs(*first, *latest, {});
  EXPECT_EQ(d.regressions.size(), 1u);
  EXPECT_FALSE(read_store_run(*store, *parse_store_spec(path + "#9")));
}

TEST_F(ResultsFiles, ReadResultsTakesEitherKindAndNeverCreatesAStore) {
  std::string json_path = write_file(dir_ / "results.json", render(JsonReporter(), sample_run(false)));
  auto from_json = read_results(json_path);
  ASSERT_TRUE(from_json) << from_json.error().message;
  EXPECT_EQ(from_json->data.cells.size(), sample_run().cells.size());
  std::string missing = (dir_ / "typo.db").string();
  auto none = read_results(missing + "#2");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, missing + ": no such file");
  EXPECT_FALSE(fs::exists(missing));
}

// ---- streaming: each side read cell by cell gives the diff the whole runs give ----

// What a diff found, without the labels (which name the files).
nlohmann::json findings(const DiffResult& d) {
  auto j = diff_to_json(d, *parse_fail_on(default_fail_on()));
  j.erase("baseline"), j.erase("current");
  return j;
}

std::string store_of(const fs::path& path, const RunData& d) {
  auto store = Store::open(path.string());
  EXPECT_TRUE(store) << store.error().message;
  auto run = store->begin_run("m.toml", "sha", "0.1.0");
  EXPECT_TRUE(run && store->put_cells(run->id, d.cells));
  return path.string();
}

CellStream opened_store(const std::string& path) {
  auto store = Store::open(path);
  EXPECT_TRUE(store) << store.error().message;
  return *store_stream(std::make_shared<const Store>(std::move(*store)), *parse_store_spec(path));
}

TEST_F(ResultsFiles, StreamedDiffOfStoresAndFilesGivesTheInMemoryDiff) {
  auto [before, after] = changed_runs(/*cut_utf8=*/false);  // results.json holds whole characters only
  auto by_id = [](const CellRecord& x, const CellRecord& y) { return x.id < y.id; };
  std::sort(after.cells.begin(), after.cells.end(), by_id);  // a store gives its cells in id order
  DiffResult in_memory = diff_runs(source("b", before), source("c", after), {});
  ASSERT_EQ(in_memory.regressions.size(), 1u);
  ASSERT_EQ(in_memory.fixes.size(), 1u);
  ASSERT_EQ(in_memory.vanished.size(), 1u);
  ASSERT_FALSE(in_memory.perf_regressions.empty());
  std::string b_json = write_file(dir_ / "b.json", render(JsonReporter(), before));
  std::string c_json = write_file(dir_ / "c.json", render(JsonReporter(), after));
  std::string b_db = store_of(dir_ / "b.db", before), c_db = store_of(dir_ / "c.db", after);
  for (const auto& [b, c] : {std::pair{json_stream(b_json), json_stream(c_json)},
                             std::pair{opened_store(b_db), opened_store(c_db)},
                             std::pair{json_stream(b_json), opened_store(c_db)}}) {
    auto streamed = diff_streams(b, c, {});
    ASSERT_TRUE(streamed) << streamed.error().message;
    EXPECT_EQ(findings(*streamed), findings(in_memory)) << b.label << " → " << c.label;
    EXPECT_EQ(streamed->fixes.at(0).text, in_memory.fixes.at(0).text);  // the baseline's text, read again
    EXPECT_EQ(streamed->baseline_cells, before.cells.size());
  }
}

TEST_F(ResultsFiles, StreamedDiffReportsTheFileThatCannotBeRead) {
  std::string good = write_file(dir_ / "good.json", render(JsonReporter(), sample_run(false)));
  std::string bad = write_file(dir_ / "bad.json", R"({"schema_version": 1, "cells": [{"id": "a/b/c/d", "outcome": "OK_EXACT"}, )");
  auto d = diff_streams(json_stream(good), json_stream(bad), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr(bad + ": not valid JSON"));
}

TEST_F(ResultsFiles, StreamingReadsEveryCellAndANewerSchemaOutranksItsUnknownOutcomes) {
  RunData d = sample_run(false);
  std::string path = write_file(dir_ / "r.json", render(JsonReporter(), d));
  std::vector<CellRecord> cells;
  RunData head;
  auto st = stream_results_json(path, [&](const CellRecord& c) { return cells.push_back(c), ok_status(); }, &head);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(cells, d.cells);
  EXPECT_EQ(head.envs, d.envs);
  EXPECT_TRUE(head.cells.empty());
  // "cells" comes before "schema_version" in the file: the schema's error is still the one given.
  std::string newer = write_file(dir_ / "n.json", R"({"cells": [{"id": "a/b/c/d", "outcome": "MAYBE"}], "schema_version": 2})");
  auto refused = stream_results_json(newer, [](const CellRecord&) { return ok_status(); });
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("results schema_version 2 is newer"));
}

}  // namespace
}  // namespace crossload
