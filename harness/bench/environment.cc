#include "harness/bench/environment.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "harness/util/interrupt.h"

namespace crossload::bench {

using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kStartTimeout{600};  // imports under QEMU take tens of seconds

Status greet(BenchEnv& env) {
  auto greeted = greet_worker(*env.worker, kStartTimeout);
  if (!greeted) return greeted.error();
  env.info.fingerprint = greeted->fingerprint;
  return ok_status();
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

namespace {

// Said unless SIGINT/SIGTERM cut the start short: that is not the environment's fault.
BenchEnv unavailable(BenchEnv env, std::string reason, RunLog& log) {
  env.info.reason = std::move(reason);
  if (!interrupted()) log.error("environment {} unavailable: {}", env.info.name, env.info.reason);
  return env;
}

}  // namespace

BenchEnv start_bench_env(const EnvSpec& spec, const ProvisionContext& ctx, RunLog& log) {
  BenchEnv env;
  env.info.name = spec.name;
  env.info.status = "unavailable";
  Stopwatch clock;
  auto provider = make_provider(spec.provider);
  auto launch = provider ? provider->provision(spec, ctx)
                         : Result<Launch>(make_error(fmt::format("unknown provider '{}'", spec.provider)));
  if (!launch) return unavailable(std::move(env), launch.error().message, log);
  env.launch = *launch;
  env.info.where = launch->where;
  env.info.emulated = launch->emulated;
  std::filesystem::create_directories(ctx.run_dir + "/logs");
  auto worker = WorkerClient::start(spec.name, *launch, ctx.source_root, ctx.run_dir + "/logs/" + env_file_name(spec.name) + ".bench.log");
  if (!worker) return unavailable(std::move(env), worker.error().message, log);
  env.worker = std::move(*worker);
  if (auto st = greet(env); !st) return unavailable(std::move(env), st.error().message, log);
  env.info.status = "ok";
  log.info("environment {}: ready in {:.1f} s  [{}{}]", spec.name, clock.seconds(), env.info.where,
           env.info.emulated ? "; absolute times are QEMU's" : "");
  return env;
}

bool BenchEnv::revive(RunLog& log) {
  if (!worker) return false;
  if (auto st = worker->restart(); !st || !greet(*this)) {
    info.status = "unavailable";
    info.reason = "the bench worker did not come back after a restart";
    log.error("environment {}: {}", info.name, info.reason);
    return false;
  }
  log.info("environment {}: bench worker restarted", info.name);
  return true;
}

StepError step_error(const std::optional<WorkerFailure>& failure, const std::optional<WorkerError>& error) {
  if (failure) return StepError{failure->kind == WorkerFailure::Kind::kTimeout ? "timeout" : "crash", failure->message};
  const WorkerError& e = *error;
  std::string type = e.type.empty() && !e.raw.contains("type") ? "Error" : e.type;
  std::string message = fmt::format("{}: {}", type, first_line(e.message));
  if (e.signal) message += fmt::format(" (signal {})", *e.signal);
  if (e.exit_status) message += fmt::format(" (exit status {})", *e.exit_status);
  return StepError{e.raw.contains("stage") ? e.stage : "protocol", message};
}

}  // namespace crossload::bench
