#include "harness/bench/gbench_json.h"

#include <gtest/gtest.h>

#include "harness/bench/test_support.h"

namespace crossload::bench {
namespace {

using json = nlohmann::json;
using testing::make_case;
using testing::results_of;

json entries_named(const json& doc, const std::string& name, const std::string& run_type) {
  json out = json::array();
  for (const auto& b : doc["benchmarks"])
    if (b["run_name"] == name && b["run_type"] == run_type) out.push_back(b);
  return out;
}

TEST(BenchJson, OneIterationEntryPerRepetitionThenAggregates) {
  BenchCase c = make_case("iris", "pickle-p5", {0.001, 0.002, 0.003}, {{kSizeBytes, 1234}});
  json doc = to_gbench_json(results_of({c}), {.executable = "crossload", .date = "2026-01-01T00:00:00+0000"});
  json it = entries_named(doc, "load_warm/iris/pickle-p5/host", "iteration");
  ASSERT_EQ(it.size(), 3u);
  EXPECT_EQ(it[1]["repetitions"], 3);
  EXPECT_EQ(it[1]["repetition_index"], 1);
  EXPECT_EQ(it[1]["iterations"], 1);
  EXPECT_EQ(it[1]["time_unit"], "ms");
  EXPECT_DOUBLE_EQ(it[1]["real_time"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(it[1]["artifact_bytes"].get<double>(), 1234);  // a counter
  json agg = entries_named(doc, "load_warm/iris/pickle-p5/host", "aggregate");
  std::vector<std::string> names;
  for (const auto& a : agg) names.push_back(a["aggregate_name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"mean", "median", "stddev", "cv", "iqr"}));
  EXPECT_DOUBLE_EQ(agg[1]["real_time"].get<double>(), 2.0);
  EXPECT_EQ(agg[1]["name"], "load_warm/iris/pickle-p5/host_median");
  EXPECT_EQ(agg[3]["aggregate_unit"], "percentage");
  EXPECT_EQ(doc["context"]["json_schema_version"], 1);
  EXPECT_EQ(doc["context"]["executable"], "crossload");
}

TEST(BenchJson, EverySampleCarriesItsRoundAndTheMachineLoad) {
  BenchCase c = testing::in_rounds("iris", "pickle-p5", {{0.001, 0.002}, {0.003}}, {},
                                   {MachineLoad{0.5, 0.4, 0.3, 1, 50, 2, true}, testing::busy_machine()});
  json doc = to_gbench_json(results_of({c}), {});
  json it = entries_named(doc, "load_warm/iris/pickle-p5/host", "iteration");
  ASSERT_EQ(it.size(), 3u);
  EXPECT_EQ(it[0]["round"], 1);
  EXPECT_EQ(it[1]["round"], 1);
  EXPECT_EQ(it[2]["round"], 2);
  EXPECT_DOUBLE_EQ(it[0]["load_avg_1m"].get<double>(), 0.5);
  EXPECT_EQ(it[0]["machine_busy"], 0);
  EXPECT_DOUBLE_EQ(it[2]["load_avg_1m"].get<double>(), 7.7);
  EXPECT_EQ(it[2]["machine_busy"], 1);
  const json& loads = doc["context"]["crossload"]["machine_load"];
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[1]["case"], "iris/pickle-p5/host");
  EXPECT_EQ(loads[1]["round"], 2);
  EXPECT_EQ(loads[1]["load"]["busy"], "load average 7.70 > 2 CPUs");
  EXPECT_DOUBLE_EQ(loads[0]["load"]["steal_percent"].get<double>(), 1);
  EXPECT_DOUBLE_EQ(doc["context"]["crossload"]["busy_rule"]["steal_percent_above"].get<double>(), kBusyStealPercent);
}

TEST(BenchJson, AFailedStepIsAnErrorEntryAndOtherSeriesStay) {
  BenchCase c = make_case("iris", "pickle-p5", {});
  c.samples.erase(kWarmLoad);
  c.failures["measure"] = "crash: Signal: killed by SIGSEGV";
  c.samples[kColdLoad] = {0.5, 0.6};
  json doc = to_gbench_json(results_of({c}), {});
  json failed = entries_named(doc, "load_warm/iris/pickle-p5/host", "iteration");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_TRUE(failed[0]["error_occurred"].get<bool>());
  EXPECT_NE(failed[0]["error_message"].get<std::string>().find("SIGSEGV"), std::string::npos);
  EXPECT_EQ(entries_named(doc, "load_cold/iris/pickle-p5/host", "iteration").size(), 2u);
  EXPECT_EQ(doc["context"]["crossload"]["failures"][0]["step"], "measure");
}

TEST(BenchJson, EmulatedTimesAreLabelled) {
  json doc = to_gbench_json(results_of({[] {
                              BenchCase c = make_case("iris", "onnx", {0.01});
                              c.emulated = true;
                              return c;
                            }()}),
                            {});
  EXPECT_NE(doc["benchmarks"][0]["label"].get<std::string>().find("QEMU"), std::string::npos);
}

TEST(BenchJson, ReadsBackItsOwnSeriesInSeconds) {
  json doc = to_gbench_json(results_of({make_case("iris", "joblib", {0.001, 0.004})}), {});
  auto series = read_series(doc, "a.json");
  ASSERT_TRUE(series.ok()) << series.error().message;
  const Series& s = series->at("load_warm/iris/joblib/host");
  ASSERT_EQ(s.seconds.size(), 2u);  // the aggregates are not samples
  EXPECT_DOUBLE_EQ(s.seconds[1], 0.004);
}

TEST(BenchJson, ReadsGoogleBenchmarkUnitsAndRejectsOtherJson) {
  json doc = {{"benchmarks", {{{"name", "BM_X"}, {"run_type", "iteration"}, {"real_time", 1500.0}, {"time_unit", "us"}},
                              {{"name", "BM_X"}, {"real_time", 2.0}, {"time_unit", "ns"}}}}};
  auto series = read_series(doc, "gb.json");
  ASSERT_TRUE(series.ok());
  EXPECT_DOUBLE_EQ(series->at("BM_X").seconds[0], 1.5e-3);
  EXPECT_DOUBLE_EQ(series->at("BM_X").seconds[1], 2e-9);
  auto bad = read_series(json{{"cells", json::array()}}, "results.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("results.json"), std::string::npos);
  json wrong_unit = {{"benchmarks", {{{"name", "BM_Y"}, {"real_time", 1.0}, {"time_unit", "fortnights"}}}}};
  EXPECT_FALSE(read_series(wrong_unit, "x.json").ok());
}

}  // namespace
}  // namespace crossload::bench
