#pragma once
// One environment of a bench: provisioned like a run's (cached), with one worker that trains,
// dumps and measures (each measurement in a forked child), and the launch the cold starts use.
#include <memory>
#include <optional>
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

// The worker's answer's result decoded as the step's (R: protocol_answers.h), or what went wrong
// in which stage.
struct StepError {
  std::string stage;  // the protocol's stage, or "crash"/"timeout" when the worker itself went
  std::string message;
};
template <class R>
using StepResult = std::variant<R, StepError>;

// The StepError of an answer that is no result: no answer at all, or the worker's error.
StepError step_error(const std::optional<WorkerFailure>& failure, const std::optional<WorkerError>& error);

template <class R>
StepResult<R> request_step(BenchEnv& env, const BenchRequest& req, std::chrono::milliseconds timeout) {
  if (!env.ready()) return StepError{"environment", "environment unavailable: " + env.info.reason};
  auto d = ask_as<R>(*env.worker, req, timeout);
  if (d.result) return std::move(*d.result);
  return step_error(d.failure, d.error);
}

}  // namespace crossload::bench
