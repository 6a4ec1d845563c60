#include "harness/run/environments.h"

#include <filesystem>
#include <set>

namespace crossload {

namespace {

constexpr std::chrono::seconds kStartTimeout{600};  // imports under QEMU take tens of seconds

Status greet(WorkerClient& worker, EnvRecord& record) {
  auto hello = worker.request({{"op", "hello"}}, kStartTimeout);
  if (!hello.ok()) return make_error(hello.failure.message);
  if (!hello.answer.value("ok", false))
    return make_error("the worker refused 'hello': " + hello.answer.dump());
  auto fp = worker.request({{"op", "fingerprint"}}, kStartTimeout);
  if (!fp.ok()) return make_error(fp.failure.message);
  if (!fp.answer.value("ok", false))
    return make_error("fingerprint failed: " + fp.answer["error"].value("message", std::string()));
  record.fingerprint = fp.answer["result"];
  return ok_status();
}

EnvSession start_one(const EnvSpec& spec, const ProvisionContext& ctx, RunLog& log) {
  EnvSession s;
  s.spec = spec;
  s.record.name = spec.name;
  s.record.provider = spec.provider;
  s.record.status = "unavailable";
  Stopwatch clock;
  auto provider = make_provider(spec.provider);
  auto launch = provider->provision(spec, ctx);
  if (!launch) {
    s.record.reason = launch.error().message;
    log.error("environment {} unavailable: {}", spec.name, s.record.reason);
    return s;
  }
  s.record.where = launch->where;
  std::string log_path = ctx.run_dir + "/logs/" + spec.name + ".worker.log";
  auto worker = WorkerClient::start(spec.name, *launch, ctx.source_root, log_path);
  if (worker) {
    s.worker = std::move(*worker);
    if (auto st = greet(*s.worker, s.record); st) s.record.status = "ok";
    else s.record.reason = st.error().message;
  } else {
    s.record.reason = worker.error().message;
  }
  s.record.provision_seconds = clock.seconds();
  if (s.record.status == "ok")
    log.info("environment {}: ready in {:.1f} s  [{}]", spec.name, clock.seconds(), launch->where);
  else
    log.error("environment {} unavailable: {}", spec.name, s.record.reason);
  return s;
}

}  // namespace

bool EnvSession::revive(RunLog& log) {
  if (!worker) return false;
  if (auto st = worker->restart(); !st) {
    record.status = "unavailable";
    record.reason = st.error().message;
    return false;
  }
  if (auto st = greet(*worker, record); !st) {
    record.status = "unavailable";
    record.reason = "the worker did not come back after a restart: " + st.error().message;
    log.error("environment {}: {}", spec.name, record.reason);
    return false;
  }
  log.info("environment {}: worker restarted", spec.name);
  return true;
}

EnvSessions start_environments(const Matrix& m, const ProvisionContext& ctx, RunLog& log) {
  std::filesystem::create_directories(ctx.run_dir + "/logs");
  std::set<std::string> names(m.producers.begin(), m.producers.end());
  names.insert(m.consumers.begin(), m.consumers.end());
  EnvSessions sessions;
  for (const auto& name : names) sessions.emplace(name, start_one(*m.find_env(name), ctx, log));
  return sessions;
}

}  // namespace crossload
