#pragma once
// `crossload bench`: every planned case in every chosen environment, then the results three
// ways: the store (a bench run), Google-Benchmark JSON, and the bench report with the verdicts.
#include <string>
#include <vector>

#include "harness/bench/measure.h"
#include "harness/bench/records.h"
#include "harness/core/log.h"
#include "harness/core/matrix.h"
#include "harness/util/result.h"

namespace crossload::bench {

struct BenchOptions {
  std::string matrix_path;  // where the environments are defined (the CLI gives the default)
  std::vector<std::string> envs{"host"};
  std::vector<std::string> fixtures, formats;     // both empty: the guide's claims
  std::string out_dir = "crossload-bench";
  std::string cache_dir;
  std::string executable;  // argv[0], for the JSON context
  CaseSettings settings;   // source_root, repetitions, ...; out_dir is filled in
};

struct BenchSummary {
  int64_t run_id = 0;
  std::size_t cases = 0, failed_steps = 0;
  std::vector<std::string> written;  // files
};

// An Error is a failure before anything could be measured (bad matrix or flags, no store).
Result<BenchSummary> run_bench(const BenchOptions& options, RunLog& log);

}  // namespace crossload::bench
