#pragma once
// Consuming: one artifact loaded and predicted in one consumer environment, its predictions
// compared with the producer's reference predictions — the outcome of one cell.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "harness/compare/compare.h"
#include "harness/run/environments.h"
#include "harness/run/matrix.h"
#include "harness/run/plan.h"
#include "harness/store/records.h"

namespace crossload {

// What one load+predict may use; the worker enforces it on the load's own child
// (harness/worker/PROTOCOL.md, docs/isolation.md).
struct LoadLimits {
  double wall_seconds = 300;
  double cpu_seconds = 300;
  int64_t address_space_bytes = int64_t{4096} << 20;  // on top of the worker's own at fork
  int processes = 256;                                // tasks (threads count) of the load
};

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

// The outcome of the cell (artifact × consumer). An Error means bad input the run cannot
// judge (the artifact or its reference predictions are missing or corrupt): it names the file.
Result<CellRecord> consume_cell(EnvSession& consumer, const ArtifactRecord& artifact,
                                const ConsumeContext& ctx, RunLog& log);

// The warnings a worker answer carries (harness/worker/PROTOCOL.md), with the version a
// model was saved with when the warning names it.
std::vector<CellWarning> parse_warnings(const nlohmann::json& list);

// The outcome of a worker error by the stage it failed in ("load", "predict", "crash", ...).
Outcome outcome_of_stage(const std::string& stage);

// A worker's error answer (stage, type, message, traceback cut to whole UTF-8 characters,
// signal, limits, RSS) into the cell; and a worker that gave no answer at all.
void record_worker_error(CellRecord& c, const nlohmann::json& error);
void record_worker_failure(CellRecord& c, const WorkerFailure& f);

// Compares a load's outputs (<out_prefix>.<output>.npy) with the reference .npy of each output:
// the worst outcome, "outputs" and "summary" in the detail. An unreadable reference is an Error
// naming it; unreadable predictions are the cell's PREDICT_ERROR.
Status compare_to_references(CellRecord& c, const std::map<std::string, std::string>& references,
                             const std::string& out_prefix, Tolerance tolerance);

// A cell that needs no load: UNSUPPORTED or ENV_UNAVAILABLE, from the artifact's or the
// environments' state, or BLOCKED by the artifact's audit (manifest "audit": UNSAFE, unparseable
// or missing) unless ctx.allow_unsafe; std::nullopt when the cell must really be consumed.
std::optional<CellRecord> settled_without_loading(const EnvSession& consumer, const ArtifactRecord& artifact,
                                                  const ConsumeContext& ctx);

// The BLOCKED cell of `artifact` in `consumer` when its audit refuses it; nullopt when it may load.
std::optional<CellRecord> blocked_by_audit(const ArtifactRecord& artifact, const std::string& consumer);

}  // namespace crossload
