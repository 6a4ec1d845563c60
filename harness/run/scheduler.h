#pragma once
// The run's scheduler: up to `jobs` trainings and loads at once. Each producing environment has
// one lane (its worker trains one fixture at a time); each consuming environment has up to
// loaders_per_consumer() lanes, each with its own consumer worker, started when the
// environment's queue needs them. A fixture is produced while the previous one's artifacts load.
// Results come back to the caller's thread (the main thread), which alone touches the store.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/run/consume.h"
#include "harness/core/environments.h"
#include "harness/run/plan.h"
#include "harness/store/records.h"

namespace crossload {

// ---- pure decisions (scheduler_test.cc) ----

// Consumer workers per consuming environment: the jobs shared out, at least one each.
int loaders_per_consumer(int jobs, int consumers);

struct SlotView {
  int free_slots = 0;              // jobs minus what is in flight
  std::size_t queued_loads = 0;    // loads waiting for a consumer worker
  int loader_lanes = 0;            // consumer workers of the run
  bool can_produce = false;        // an idle producer has a fixture to produce
  bool can_load = false;           // an idle consumer worker has a load queued for it
};
enum class NextStep { kWait, kProduce, kLoad };

// Loads first, so workers stay busy; production when the queue would otherwise run dry (fewer
// queued loads than consumer workers) or when no load can start.
NextStep next_step(const SlotView& v);

struct LaneView {
  bool idle = false;
  std::size_t queued = 0;  // loads queued for the lane's environment
};
// The idle lane whose environment has the longest queue (the slowest environment, usually under
// QEMU, is the run's critical path); -1 when none can start.
int pick_lane(const std::vector<LaneView>& lanes);

// Whether an environment with `queued` loads and `started` consumer workers (of `allowed`)
// should start another: only when the queue is longer than the workers it has.
bool should_start_loader(std::size_t queued, int started, int allowed);

// ---- the scheduler ----

struct ProduceJob {
  std::string producer;
  FixtureInfo fixture;
  std::vector<std::string> formats;  // only those whose artifacts cannot be reused
};

struct LoadJob {
  std::shared_ptr<const ArtifactRecord> artifact;
  std::string consumer;
};

// The runner, called on the scheduler's (main) thread.
class SchedulerSink {
 public:
  virtual ~SchedulerSink() = default;
  // A produced artifact; returns the consumers that must load it (the sink settles the rest).
  virtual std::vector<std::string> produced(const ArtifactRecord& artifact) = 0;
  virtual void loaded(const LoadJob& job, Result<CellRecord> cell) = 0;
  virtual void working_on(const std::string& what) = 0;  // for the progress line
  virtual void tick() = 0;                               // about once a second
};

struct SchedulerOptions {
  int jobs = 1;
  std::string artifacts_dir;
  ConsumeContext consume;
  ProvisionContext provision;  // to start more consumer workers
  // Runs on the lane's thread after each load, with the lane's own session (its worker is free).
  std::function<void(EnvSession&, const ArtifactRecord&, CellRecord&)> after_load;
};

// Runs every job to the end. Loader lanes take over the sessions' consumer workers.
void run_scheduler(EnvSessions& envs, std::vector<ProduceJob> produce, std::vector<LoadJob> loads,
                   const SchedulerOptions& options, SchedulerSink& sink, RunLog& log);

}  // namespace crossload
