#include "harness/core/environments.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "harness/core/protocol.h"
#include "harness/env/native_onnx.h"
#include "harness/sandbox/sandbox.h"
#include "harness/util/interrupt.h"

namespace crossload {

namespace {

constexpr std::chrono::seconds kStartTimeout{600};  // imports under QEMU take tens of seconds

Status greet(WorkerClient& worker, EnvRecord& record) {
  auto greeted = greet_worker(worker, kStartTimeout);
  if (!greeted) return greeted.error();
  record.fingerprint = greeted->fingerprint;
  return ok_status();
}

// What the workers of one environment are started from, and which it needs.
struct Roles {
  bool produces = false, consumes = false;
  std::vector<std::string> load_formats;  // the matrix's format patterns, for prepare_loads
};

const char* where_loads(bool sandbox) { return sandbox ? "; loads sandboxed" : "; loads NOT sandboxed (--no-sandbox)"; }

// The consumer worker imports the runtimes of the formats it will load now, at start-up, not
// inside the first cell of each format (seconds under QEMU). Best effort: a worker that cannot
// (the native ONNX consumer knows no such op) warms each runtime at its first load instead.
void prepare_loads(WorkerClient& loader, const std::vector<std::string>& formats) {
  (void)call(loader, PrepareLoadsRequest{formats}, kStartTimeout);
}

Result<std::unique_ptr<WorkerClient>> start_worker(const std::string& name, const Launch& launch,
                                                   const std::string& log_path, const ProvisionContext& ctx,
                                                   EnvRecord& record) {
  auto worker = WorkerClient::start(name, launch, ctx.source_root, log_path);
  if (!worker) return worker.error();
  if (auto st = greet(**worker, record); !st) return st.error();
  return std::move(*worker);
}

std::string log_stem(const EnvSession& s, const ProvisionContext& ctx) {
  return ctx.run_dir + "/logs/" + env_file_name(s.spec.name);
}

// The consumer worker's launch: the native ONNX consumer where the environment has one, inside
// the sandbox unless --no-sandbox.
Result<Launch> loading_launch(const Launch& launch, const ProvisionContext& ctx, bool sandbox) {
  Result<Launch> loading = consumer_launch(launch);
  if (sandbox && loading) loading = sandbox_launch(*loading, {ctx.run_dir, ctx.source_root, ctx.cache_dir});
  return loading;
}

// `park`: each worker stops once greeted (its fingerprint told), before the next one starts.
Status start_workers(EnvSession& s, const Launch& launch, const ProvisionContext& ctx, bool sandbox, bool park) {
  std::string logs = log_stem(s, ctx);
  if (s.produces) {
    auto w = start_worker(s.spec.name, launch, logs + ".worker.log", ctx, s.record);
    if (!w) return w.error();
    if (!park) s.worker = std::move(*w);
  }
  if (!s.consumes) return ok_status();
  Result<Launch> loading = loading_launch(launch, ctx, sandbox);
  if (!loading) return loading.error();
  auto l = start_worker(s.spec.name + " consumer", *loading, logs + ".consumer.worker.log", ctx, s.record);
  if (!l) return make_error((sandbox ? "the sandboxed consumer worker: " : "the consumer worker: ") + l.error().message);
  s.loading = *loading;
  s.record.where += where_loads(sandbox);
  if (park) return ok_status();
  s.loader = std::move(*l);
  prepare_loads(*s.loader, s.load_formats);
  return ok_status();
}

EnvSession pending_session(const EnvSpec& spec, const Roles& roles, Result<Launch> launch, double provision_seconds,
                           RunLog& log) {
  EnvSession s;
  s.spec = spec;
  s.record.name = spec.name;
  s.record.provider = spec.provider;
  s.record.status = "unavailable";
  s.record.provision_seconds = provision_seconds;
  s.produces = roles.produces;
  s.consumes = roles.consumes;
  s.load_formats = roles.load_formats;
  if (!launch) {
    s.record.reason = launch.error().message;
    if (!interrupted()) log.error("environment {} unavailable: {}", spec.name, s.record.reason);  // stopping: no news
    return s;
  }
  s.record.where = launch->where;
  s.emulated = launch->emulated;
  s.provisioned = std::move(*launch);
  s.pending = true;
  return s;
}

// Workers must be spawned from the main thread: bwrap's --die-with-parent (PR_SET_PDEATHSIG)
// fires when the *thread* that forked it ends, so a worker started from a pool thread dies
// with that thread.
void start_session(EnvSession& s, const ProvisionContext& ctx, bool sandbox, RunLog& log, bool park) {
  const Launch& launch = s.provisioned;
  s.pending = false;
  s.record.where = launch.where;  // an adopted fingerprint's session said "loads sandboxed" already
  s.record.status = "unavailable";
  Stopwatch clock;
  if (auto st = start_workers(s, launch, ctx, sandbox, park); st) s.record.status = "ok";
  else s.record.reason = st.error().message;
  s.record.provision_seconds += clock.seconds();
  if (s.record.status == "ok")
    log.info("environment {}: ready in {:.1f} s  [{}]", s.spec.name, s.record.provision_seconds, s.record.where);
  else if (!interrupted())  // a start cut short by SIGINT/SIGTERM is not the environment's fault
    log.error("environment {} unavailable: {}", s.spec.name, s.record.reason);
}

// A Debian launch clears the environment inside bwrap: variables go in as --setenv there.
Launch with_worker_env(Launch launch, const std::map<std::string, std::string>& worker_env) {
  auto& argv = launch.python;
  auto clear = std::find(argv.begin(), argv.end(), "--clearenv");
  for (const auto& [name, value] : worker_env) {
    launch.env[name] = value;
    if (clear != argv.end()) clear = argv.insert(clear + 1, {"--setenv", name, value}) - 1;
  }
  return launch;
}

struct Provisioned {
  Result<Launch> launch;
  double seconds;
};

Provisioned provision_one(const EnvSpec& spec, const ProvisionContext& ctx) {
  Stopwatch clock;
  auto launch = make_provider(spec.provider)->provision(spec, ctx);
  return {std::move(launch), clock.seconds()};
}

}  // namespace

namespace {

bool restart(EnvSession& s, WorkerClient* worker, const char* which, RunLog& log) {
  if (!worker || interrupted()) return false;  // an interrupted run revives no worker
  if (auto st = worker->restart(); !st) {
    s.record.status = "unavailable";
    s.record.reason = st.error().message;
    return false;
  }
  if (auto st = greet(*worker, s.record); !st) {
    s.record.status = "unavailable";
    s.record.reason = fmt::format("the {} did not come back after a restart: {}", which, st.error().message);
    log.error("environment {}: {}", s.spec.name, s.record.reason);
    return false;
  }
  log.info("environment {}: {} restarted", s.spec.name, which);
  return true;
}

}  // namespace

bool EnvSession::revive(RunLog& log) { return restart(*this, worker.get(), "worker", log); }
bool EnvSession::revive_loader(RunLog& log) { return restart(*this, loader.get(), "consumer worker", log); }

Result<EnvSession> another_loader(const EnvSession& s, int index, const ProvisionContext& ctx) {
  EnvSession copy;
  copy.spec = s.spec;
  copy.record = s.record;
  copy.emulated = s.emulated;
  copy.loading = s.loading;
  copy.load_formats = s.load_formats;
  std::string log = fmt::format("{}/logs/{}.consumer-{}.worker.log", ctx.run_dir, env_file_name(s.spec.name), index);
  auto l = start_worker(fmt::format("{} consumer #{}", s.spec.name, index), s.loading, log, ctx, copy.record);
  if (!l) return l.error();
  copy.loader = std::move(*l);
  prepare_loads(*copy.loader, copy.load_formats);
  return Result<EnvSession>(std::move(copy));
}

EnvSessions provision_environments(const Matrix& m, const ProvisionContext& ctx, RunLog& log,
                                   const std::map<std::string, std::string>& worker_env) {
  std::filesystem::create_directories(ctx.run_dir + "/logs");
  std::map<std::string, Roles> roles;
  for (const auto& name : m.producers) roles[name].produces = true;
  for (const auto& name : m.consumers) {
    roles[name].consumes = true;
    roles[name].load_formats = m.formats;
  }
  // Provisioning is mostly waiting (downloads, QEMU byte-compiling): build side by side; the
  // workers start later, on the main thread (start_pending).
  std::map<std::string, std::future<Provisioned>> pending;
  for (const auto& [name, r] : roles)
    pending[name] = std::async(std::launch::async, provision_one, std::cref(*m.find_env(name)), std::cref(ctx));
  EnvSessions sessions;
  for (auto& [name, f] : pending) {
    Provisioned p = f.get();
    if (p.launch && !worker_env.empty()) p.launch = with_worker_env(std::move(*p.launch), worker_env);
    sessions.emplace(name, pending_session(*m.find_env(name), roles[name], std::move(p.launch), p.seconds, log));
  }
  return sessions;
}

bool start_pending(EnvSessions& sessions, const ProvisionContext& ctx, bool sandbox, RunLog& log, bool park) {
  bool started = false;
  for (auto& [name, s] : sessions) {
    if (!s.pending) continue;
    start_session(s, ctx, sandbox, log, park);
    started = true;
  }
  return started;
}

void park_pending(EnvSessions& sessions, const ProvisionContext& ctx, bool sandbox) {
  for (auto& [name, s] : sessions) {
    if (!s.pending) continue;
    s.pending = false;
    if (!s.consumes) continue;
    auto loading = loading_launch(s.provisioned, ctx, sandbox);
    if (loading) {
      s.loading = *loading;
      continue;
    }
    s.record.status = "unavailable";
    s.record.reason = loading.error().message;
  }
}

Status start_producer(EnvSession& s, const ProvisionContext& ctx) {
  auto w = start_worker(s.spec.name, s.provisioned, log_stem(s, ctx) + ".worker.log", ctx, s.record);
  if (!w) return w.error();
  s.worker = std::move(*w);
  return ok_status();
}

void adopt_fingerprint(EnvSession& s, const nlohmann::json& fingerprint, bool sandbox) {
  s.record.status = "ok";
  s.record.fingerprint = fingerprint;
  s.record.where = s.provisioned.where + (s.consumes ? where_loads(sandbox) : "");
}

EnvSessions start_environments(const Matrix& m, const ProvisionContext& ctx, bool sandbox, RunLog& log,
                               const std::map<std::string, std::string>& worker_env) {
  EnvSessions sessions = provision_environments(m, ctx, log, worker_env);
  start_pending(sessions, ctx, sandbox, log);
  return sessions;
}

}  // namespace crossload
