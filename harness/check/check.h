#pragma once
// `crossload check ARTIFACT --inputs X`: a user's own artifact, audited first, then loaded and
// predicted (sandboxed, one forked child per load) in every chosen environment and compared with
// reference predictions, given or computed where the artifact's recorded scikit-learn lives.
#include <optional>
#include <string>
#include <vector>

#include "harness/core/log.h"
#include "harness/core/matrix.h"
#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload::check {

struct CheckOptions {
  std::string artifact;
  std::string inputs;                 // .npy, .npz, .csv/.tsv/.txt, .parquet: converted in an environment
  std::string inputs_key;             // .npz: the array to use (default: the first)
  std::string reference;              // .npy of expected `predict` output; empty: computed
  std::string format = "auto";        // auto|pickle|joblib|cloudpickle|skops|onnx
  std::string matrix_path;  // the matrix file (the CLI gives the default: harness/cli/flag_groups.h)
  std::vector<std::string> envs;      // empty: the matrix's consumers
  std::string out_dir = "crossload-check";
  std::string source_root, cache_dir;
  bool allow_unsafe = false;          // load an UNSAFE artifact anyway (always sandboxed)
  std::string recipe;                 // the recipe that trained it: retrained where it fails (retrain.h)
  bool rebuild_reference = true;      // no environment has the recorded stack: rebuild it (rebuild.h)
  double rtol = 1e-6, atol = 1e-9;
};

// One environment's verdict on the artifact: a cell whose producer is the reference.
struct EnvCheck {
  CellRecord cell;
  std::string where;            // how the environment runs ("host", "... under qemu-s390x")
  std::string versions;         // "python 3.11.7, numpy 1.26.4, scikit-learn 1.5.2"
  std::string explanation;      // one plain sentence for a failure (reports/explain)
  bool reference = false;       // computed the reference predictions
  bool trusted = true;          // the reference, from the recorded stack (false: a stand-in of another version)
};

// The producer's environment rebuilt from the artifact's recorded versions (rebuild.h): set when
// no chosen environment has them and no reference was given.
struct RebuiltReference {
  std::string spec;     // the pip: spec tried; empty when none could be chosen
  std::string failure;  // why it gives no reference (not built, cannot load, turned off); empty: it does
};

struct CheckReport {
  std::string artifact, variant, verdict;   // as audited
  std::string audit_finding;                // UNSAFE, loaded anyway (--allow-unsafe): the audit's reason
  std::vector<std::string> recorded_versions;
  int recorded_numpy_major = 0;             // from the numpy module names it imports; 0: names neither
  std::optional<RebuiltReference> rebuilt;
  std::string reference_note;               // which environment gave the reference, and why
  std::vector<std::string> reference_outputs;
  std::vector<EnvCheck> envs;
  std::optional<std::string> bad_input;     // found while loading (the inputs' width): exit 3
  std::optional<std::string> unavailable;   // the sandbox does not work here: nothing loaded, exit 4
};

// An Error is a failure of the user's input before any environment could judge the artifact:
// unreadable or refused artifact, bad inputs, unknown environment. It names the file and the
// problem. A machine whose sandbox does not work is no such error: the report says so in
// `unavailable` and holds no environment. SIGINT/SIGTERM (harness/util/interrupt.h) make it an
// Error of kind kInterrupted once every worker has stopped: no verdict from part of the answers.
Result<CheckReport> run_check(const CheckOptions& options, RunLog& log);

// 0 when every environment loads and predicts within tolerance, 1 when any does not,
// 3 (bad input) when the inputs turned out not to fit the model, 4 when the sandbox does not work.
int check_exit_code(const CheckReport& report);

}  // namespace crossload::check
