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
// queued loads than consumer workers) or when no load can start. Under a worker budget
// (--max-workers) the scheduler produces first instead: every artifact is on disk before most
// consuming environments get their turn, so each one's worker starts once and loads all it has.
NextStep next_step(const SlotView& v);

struct LaneView {
  bool idle = false;
  std::size_t queued = 0;  // loads queued for the lane's environment
};
// The idle lane whose environment has the longest queue (the slowest environment, usually under
// QEMU, is the run's critical path); -1 when none can start.
int pick_lane(const std::vector<LaneView>& lanes);

// Under --max-workers, which running worker stops to make room for another.
struct WorkerView {
  bool stoppable = false;  // running and idle (neither busy nor starting)
  std::size_t work = 0;    // fixtures left to produce, or loads queued for its environment
  bool consumer = false;
};
// An idle worker with nothing left to do; for a producer that needs room, failing that, the idle
// consumer worker with the fewest queued loads (production comes first). -1: none may stop.
int pick_to_stop(const std::vector<WorkerView>& workers, bool for_producer);

struct ParkedView {
  bool parked = false;  // its consumer worker is stopped (or never started) and may start
  bool emulated = false;
  std::size_t queued = 0;
};
// The parked environment to start next: one under QEMU first (the slowest are the run's critical
// path), then the longest queue; -1 when none has a load waiting.
int pick_to_wake(const std::vector<ParkedView>& lanes);

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
  // At most this many workers (producing and consuming) run at once; 0: no limit, every
  // environment's workers run from the start (run --max-workers, docs/scale.md).
  int max_workers = 0;
  // Runs on the lane's thread after each load, with the lane's own session (its worker is free).
  std::function<void(EnvSession&, const ArtifactRecord&, CellRecord&)> after_load;
};

// Runs every job to the end. Loader lanes take over the sessions' consumer workers.
void run_scheduler(EnvSessions& envs, std::vector<ProduceJob> produce, std::vector<LoadJob> loads,
                   const SchedulerOptions& options, SchedulerSink& sink, RunLog& log);

}  // namespace crossload
