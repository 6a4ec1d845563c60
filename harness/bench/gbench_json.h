#pragma once
// Bench results as Google Benchmark's JSON (json_schema_version 1), so its tools/compare.py
// reads them: one "iteration" entry per repetition (iterations 1, real_time in ms), then the
// aggregates it computes itself (mean, median, stddev, cv) plus the IQR. A step that failed is
// one entry with "error_occurred". Everything crossload adds lives under context.crossload and in
// counters (extra numeric fields), which compare.py ignores.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/bench/records.h"
#include "harness/util/result.h"

namespace crossload::bench {

struct WriteInfo {
  std::string executable;  // argv[0] of the run
  std::string date;        // ISO-8601, local time as Google Benchmark writes it
  nlohmann::json verdicts = nlohmann::json::array();
};

nlohmann::json to_gbench_json(const BenchResults& results, const WriteInfo& info);

// One benchmark's repetitions read back from such a file (or from Google Benchmark's own).
struct Series {
  std::vector<double> seconds;  // real_time of each iteration entry, in seconds
  std::string error;            // error_message when the run failed
  std::string label;
};

// Series by benchmark name, in file order of first appearance. An Error names the file and
// what is wrong with it.
Result<std::map<std::string, Series>> read_series(const nlohmann::json& doc, const std::string& path);
Result<nlohmann::json> read_json_file(const std::string& path);

}  // namespace crossload::bench
