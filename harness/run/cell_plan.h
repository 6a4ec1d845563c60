#pragma once
// The cells of one run, sorted before any work starts: resumed (already in this run), reused
// (an earlier run of the store computed an equal key, harness/run/reuse.h), or to compute —
// by loading an artifact an earlier run produced, or by producing it first. Then, as the
// scheduler reports, each cell is recorded (one transaction) and shown on the progress line.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "harness/core/expectations.h"
#include "harness/core/matrix.h"
#include "harness/run/progress.h"
#include "harness/run/reuse.h"
#include "harness/run/runner.h"
#include "harness/run/scheduler.h"
#include "harness/run/shard.h"
#include "harness/store/store.h"

namespace crossload {

struct CellPlanInputs {
  const Matrix& matrix;
  Store& store;
  int64_t run_id = 0;
  std::set<std::string> finished;                // resumed: this run has them already
  Fingerprints fingerprints;                     // of the environments that started
  std::map<std::string, std::string> recipes;    // fixture -> recipe_sha256 ("" when unknown)
  CodeVersions code;
  nlohmann::json load_policy;                    // limits and sandbox: part of every cell's key
  bool rerun = false;                            // --rerun: reuse nothing
};

class CellPlan : public SchedulerSink {
 public:
  CellPlan(CellPlanInputs in, RunSummary& summary, RunLog& log) : in_(std::move(in)), summary_(summary), log_(log) {}

  // Walks the shard's (producer, fixture) pairs; reused cells are recorded here and then.
  void plan(const Selection& sel, const Shard& shard, std::vector<ProduceJob>& produce, std::vector<LoadJob>& loads);

  std::vector<std::string> produced(const ArtifactRecord& artifact) override;
  void loaded(const LoadJob& job, Result<CellRecord> cell) override;
  void working_on(const std::string& what) override;
  void tick() override;

 private:
  using ArtifactId = std::tuple<std::string, std::string, std::string>;  // producer, fixture, format
  std::string artifact_key_of(const std::string& producer, const std::string& fixture, const std::string& format) const;
  std::string cell_key_of(const std::string& artifact_key, const std::string& consumer);
  bool reuse_cell(const std::string& key);
  std::shared_ptr<const ArtifactRecord> reuse_artifact(const std::string& key, bool will_load);
  void plan_artifact(const std::string& producer, const std::string& fixture, const std::string& format,
                     std::vector<std::string>& to_produce, std::vector<LoadJob>& loads);
  void record(CellRecord c, bool reused);

  CellPlanInputs in_;
  RunSummary& summary_;
  RunLog& log_;
  std::unique_ptr<Progress> progress_;
  std::map<ArtifactId, std::vector<std::string>> waiting_;
  std::map<std::string, std::string> consumer_dumps_;  // consumer -> its canonical fingerprint, dumped once
  std::string policy_dump_;  // consumers that load an artifact once produced
};

}  // namespace crossload
