#pragma once
// The worker requests of `check`: convert the inputs, load+predict the artifact in one
// environment (harness/worker/check_ops.py), and judge its predictions against the reference.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/compare/compare.h"
#include "harness/core/loading.h"
#include "harness/core/environments.h"
#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload::check {

struct LoadRequest {
  std::string variant, artifact, inputs, out_prefix;
  std::optional<std::vector<std::string>> outputs;  // none: every output the model serves
  LoadLimits limits;
  std::chrono::milliseconds timeout{330'000};
};

struct LoadResult {
  CellRecord cell;                   // outcome LOAD_ERROR/PREDICT_ERROR/CRASH/... or OK_EXACT (not compared yet)
  std::vector<std::string> outputs;  // written, when the load and the predictions worked
  std::string inputs_error;          // the worker's stage "inputs" message: the inputs do not fit
  nlohmann::json invariants = nlohmann::json::array();  // broken output invariants (harness/core/invariants.h)
  bool predicted() const { return inputs_error.empty() && !outputs.empty() && cell.outcome == Outcome::kOkExact; }
};

// Loads and predicts in `env`'s sandboxed consumer worker. `cell` arrives with its id and names.
LoadResult load_in(EnvSession& env, const LoadRequest& req, CellRecord cell);

// Compares each reference output (output -> .npy path) with `<out_prefix>.<output>.npy`; the
// cell's outcome becomes the worst. An Error names an unreadable reference file.
Status compare_with(CellRecord& cell, const std::map<std::string, std::string>& references,
                    const std::string& out_prefix, Tolerance tolerance);

struct InputsRead {
  std::string env;                  // the environment that read them
  std::vector<std::string> passed;  // "<env>: <why>" for each asked before it that lacked the reader
};

// Converts the inputs file to float64 .npy at `out` in the first environment of `order` that
// can read it (Parquet needs pyarrow where it is read). An Error names the file and the problem.
Result<InputsRead> convert_inputs(EnvSessions& envs, const std::vector<std::string>& order, const std::string& path,
                      const std::string& key, const std::string& out);

}  // namespace crossload::check
