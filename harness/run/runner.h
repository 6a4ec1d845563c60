#pragma once
// `crossload run`: plan the matrix, provision environments, produce, consume, compare,
// store one transaction per cell, and render the reports.
#include <map>
#include <string>
#include <vector>

#include "harness/compare/outcome.h"
#include "harness/core/log.h"
#include "harness/run/narrow.h"
#include "harness/util/result.h"

namespace crossload {

struct RunOptions {
  std::string matrix_path;  // the matrix file (the CLI gives the default: harness/cli/flag_groups.h)
  std::string out_dir = "crossload-out";
  std::string source_root;          // where harness/worker, formats, fixtures live
  std::string cache_dir;            // built environments
  bool resume = false;              // continue the latest unfinished run of this matrix
  bool rerun = false;               // compute every cell again, reusing nothing from earlier runs
  int jobs = 0;                     // trainings and loads at once; 0: the number of cores
  int max_workers = 0;              // --max-workers: workers running at once; 0: every one from the start
  bool sandbox = true;              // false (--no-sandbox): loads run without bwrap, said loudly
  std::string isolation = "batch";  // --isolation batch|cell (ConsumeContext::isolation)
  bool allow_unsafe = false;        // --allow-unsafe: load artifacts the audit judged UNSAFE (sandboxed only)
  std::string shard;                // "K/N": run only that slice of the (producer, fixture) pairs
  std::vector<std::string> recipes; // --recipe FILE.py: user recipes, crossed instead of the matrix's fixtures
  Narrowing narrow;                 // --producers/--consumers/--fixtures/--formats override the file's lists
  std::vector<std::string> reports{"md", "json", "html", "junit"};
  std::string qemu;                 // --qemu BUILD: every emulated environment under it (harness/env/qemu.h)
  bool second_opinion = true;       // re-run an emulation-only failure under the other QEMU build
};

struct RunSummary {
  int64_t run_id = 0;
  std::map<Outcome, std::size_t> counts;  // of every cell of the run, the resumed ones too
  std::size_t cells = 0, skipped = 0;   // cells: recorded now; skipped: already in the resumed run
  std::size_t reused = 0;                // of `cells`, copied from earlier runs (equal keys)
  std::vector<std::string> bad_inputs;   // artifacts that could not be judged, one line each
  std::vector<std::string> written;      // report files
};

// An Error is a failure before any cell could run (bad matrix, unusable store, no environment).
Result<RunSummary> run_matrix(const RunOptions& options, RunLog& log);

}  // namespace crossload
