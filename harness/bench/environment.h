#pragma once
// One environment of a bench: provisioned like a run's (cached), with one worker that trains,
// dumps and measures (each measurement in a forked child), and the launch the cold starts use.
#include <memory>
#include <string>
#include <variant>

#include "harness/bench/records.h"
#include "harness/env/provider.h"
#include "harness/core/log.h"
#include "harness/core/protocol.h"
#include "harness/core/worker_client.h"

namespace crossload::bench {

struct BenchEnv {
  EnvironmentInfo info;  // status "unavailable" with the reason, or "ok"
  Launch launch;
  std::unique_ptr<WorkerClient> worker;
  bool ready() const { return info.status == "ok" && worker && worker->running(); }
  // Starts the worker again after it died or timed out; false if it cannot come back.
  bool revive(RunLog& log);
};

// Never fails as a whole: an environment that cannot start is returned unavailable.
BenchEnv start_bench_env(const EnvSpec& spec, const ProvisionContext& ctx, RunLog& log);

// The worker's answer's result, or an Error saying what went wrong in which stage.
struct StepError {
  std::string stage;  // the protocol's stage, or "crash"/"timeout" when the worker itself went
  std::string message;
};
using StepResult = std::variant<nlohmann::json, StepError>;
StepResult request_step(BenchEnv& env, const BenchRequest& req, std::chrono::milliseconds timeout);

}  // namespace crossload::bench
