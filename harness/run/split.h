#pragma once
// `crossload produce` and `crossload consume`: the two halves of `crossload run`, for CI systems
// that produce on one machine (an x86_64 runner) and load on another (a native arm64 runner).
// produce writes a movable directory (artifacts, manifests, reference predictions and the index
// DIR/artifacts.json); consume loads every artifact of such directories in one environment and
// records cells with the ids `run` gives them, so `crossload merge` joins the consumers' stores.
#include <map>
#include <string>
#include <vector>

#include "harness/compare/outcome.h"
#include "harness/core/log.h"
#include "harness/core/matrix.h"
#include "harness/util/result.h"

namespace crossload {

struct ProduceOptions {
  std::string matrix_path;  // the matrix file (the CLI gives the default: harness/cli/flag_groups.h)
  std::string env;       // one of the matrix's producers
  std::string out_dir;   // the directory to carry to the consumers
  std::string source_root, cache_dir;
  std::string shard;     // "K/N": the (producer, fixture) pairs `run --shard K/N` would produce
};

struct ProduceSummary {
  std::size_t ok = 0, unsupported = 0, failed = 0;
  std::string index_path;
  std::string unavailable;  // why the environment could not start; then nothing was produced
};

// An Error is bad input found before anything was produced: the matrix, the environment's name,
// the shard, or a file of the directory that cannot be written.
Result<ProduceSummary> produce_to_dir(const ProduceOptions& options, RunLog& log);

struct ConsumeOptions {
  std::string matrix_path;  // the matrix file (the CLI gives the default: harness/cli/flag_groups.h)
  std::string env;                   // one of the matrix's consumers
  std::vector<std::string> in_dirs;  // directories written by `crossload produce`
  std::string out_dir = "crossload-out";
  std::string source_root, cache_dir;
  bool sandbox = true;
  std::string isolation = "batch";  // --isolation batch|cell (ConsumeContext::isolation)
  bool allow_unsafe = false;  // load what the audit judged UNSAFE (otherwise BLOCKED); sandboxed only
  std::vector<std::string> reports{"md", "json", "html", "junit"};
};

struct ConsumeSummary {
  int64_t run_id = 0;
  std::map<Outcome, std::size_t> counts;
  std::size_t cells = 0;                 // the run's cells, those kept from its interrupted part included
  std::size_t kept = 0;                  // cells of the interrupted run this one continues, not loaded again
  double loading_seconds = 0;            // wall time of the cells themselves, environment start excluded
  std::vector<std::string> bad_inputs;   // artifacts that could not be judged, one line each, naming the file
  std::vector<std::string> written;      // report files
};

// An Error is a failure before any cell could be recorded (bad matrix, unusable index or store),
// or SIGINT/SIGTERM (kInterrupted): the cells stored stay, the run is marked interrupted, and the
// same command continues it (the latest run of the matrix in the store, if unfinished and of this
// environment with the same fingerprint: its cells whose artifact has the same sha256 are kept).
// A corrupt artifact is a bad input: named in the summary, and every other cell is still recorded.
Result<ConsumeSummary> consume_from_dirs(const ConsumeOptions& options, RunLog& log);

}  // namespace crossload
