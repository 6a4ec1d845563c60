#pragma once
// Loading an artifact in a consumer worker, the part `run`, `consume` and `check` share: the
// limits and timeouts of a load, and the cell a load's answer makes (an error answer's stage
// becomes the outcome; the predictions are compared with the reference .npy files).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/compare/compare.h"
#include "harness/core/matrix.h"
#include "harness/core/protocol.h"
#include "harness/core/worker_client.h"
#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

struct ConsumeContext {
  std::string cells_dir;                 // <out>/cells
  LoadLimits limits;
  // How long the harness waits for the worker's answer: longer than the wall limit, so the
  // worker, which kills only the load's child, normally reports the timeout itself.
  std::chrono::milliseconds timeout{330'000};
  // `run --allow-unsafe`: load artifacts the audit judged UNSAFE (the runner refuses it without
  // the sandbox); otherwise their cells are BLOCKED.
  bool allow_unsafe = false;
  // `--isolation`: "batch" (one confined child serves load after load, a fresh one after a crash,
  // a timeout or a load that changed its process) or "cell" (a fresh child per load). The
  // verdicts are the same (docs/isolation.md), so it is not part of a cell's reuse key.
  std::string isolation = "batch";
};

// The limits of the matrix ([matrix] cell_timeout, cpu_limit, memory_limit_mb) for cells under cells_dir.
ConsumeContext make_consume_context(const Matrix& m, const std::string& cells_dir);

// The outcome of a worker error by the stage it failed in ("load", "predict", "crash", ...).
Outcome outcome_of_stage(const std::string& stage);

// A worker's error answer (stage, type, message, traceback cut to whole UTF-8 characters,
// signal, limits, RSS) into the cell; and a worker that gave no answer at all.
void record_worker_error(CellRecord& c, const nlohmann::json& error);
inline void record_worker_error(CellRecord& c, const WorkerError& error) { record_worker_error(c, error.raw); }
void record_worker_failure(CellRecord& c, const WorkerFailure& f);

// Compares a load's outputs (<out_prefix>.<output>.npy) with the reference .npy of each output:
// the worst outcome, "outputs" and "summary" in the detail. An unreadable reference is an Error
// naming it; unreadable predictions are the cell's PREDICT_ERROR.
Status compare_to_references(CellRecord& c, const std::map<std::string, std::string>& references,
                             const std::string& out_prefix, Tolerance tolerance);

}  // namespace crossload
