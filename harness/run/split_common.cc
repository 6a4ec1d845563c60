#include "harness/run/split_common.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/sandbox/sandbox.h"
#include "harness/util/interrupt.h"
#include "harness/util/sha256.h"
#include "harness/util/text.h"

namespace crossload {

Result<RoleMatrix> load_role_matrix(const std::string& path, const std::string& env, SplitRole role) {
  auto m = load_matrix(path);
  if (!m) return m.error();
  bool producing = role == SplitRole::kProducer;
  const std::vector<std::string>& allowed = producing ? m->producers : m->consumers;
  auto it = std::find(allowed.begin(), allowed.end(), env);
  if (it == allowed.end())
    return make_error(ErrorKind::kUsage, fmt::format("{}: '{}' is not one of the [matrix] {} ({})", path, env,
                                  producing ? "producers" : "consumers", join(allowed, ", ")));
  auto sha = sha256_file(path);
  if (!sha) return sha.error();
  RoleMatrix out{*m, static_cast<std::size_t>(it - allowed.begin()), *sha};
  out.matrix.producers = producing ? std::vector<std::string>{env} : std::vector<std::string>{};
  out.matrix.consumers = producing ? std::vector<std::string>{} : std::vector<std::string>{env};
  return out;
}

Result<std::vector<FixtureInfo>> list_fixtures(EnvSession& producer) {
  auto r = ask(*producer.worker, list_request(), std::chrono::seconds(120));
  if (r.result) return r.result->fixtures;
  if (r.error && r.error->is_malformed_answer()) return make_error(r.why());
  return make_error(fmt::format("listing the fixtures in {}: {}", producer.spec.name, r.why()));
}

Status check_sandbox(bool sandbox, RunLog& log) {
  if (!sandbox) {  // shown even with --quiet
    log.always("warning: --no-sandbox: artifacts load WITHOUT the sandbox: with network access, and able "
               "to write wherever the worker's user can. Use it only for artifacts you trust.");
    return ok_status();
  }
  if (auto st = probe_sandbox(nullptr); !st)
    return make_error(ErrorKind::kEnvironment, "the consumer sandbox does not work on this machine: " + st.error().message +
                      ". Install or fix bubblewrap, or pass --no-sandbox to load artifacts unsandboxed "
                      "(only for artifacts you trust)");
  log.info("loads run sandboxed: bwrap, no network, own PID namespace, output directory read-only but cells/, "
           "private /tmp (docs/isolation.md)");
  return ok_status();
}

Error interrupted_before_starting(const std::string& what, const std::string& where) {
  return make_error(ErrorKind::kInterrupted, fmt::format("interrupted by {} before anything was {}d: {} is as it was; "
                                                         "rerun the same command to {}",
                                                         interrupt_signal_name(), what, where, what));
}

}  // namespace crossload
