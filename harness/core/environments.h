#pragma once
// The environments of one run: each provisioned once, with long-lived workers that import the
// stack once and then serve every request of the run. A producing environment gets a worker that
// trains and dumps (unsandboxed: it writes the artifacts); a consuming one gets a worker that
// loads them inside the sandbox (harness/sandbox/), one forked child per load. An environment
// that does both has both.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "harness/env/provider.h"
#include "harness/core/log.h"
#include "harness/core/matrix.h"
#include "harness/core/worker_client.h"
#include "harness/store/records.h"

namespace crossload {

struct EnvSession {
  EnvSpec spec;
  EnvRecord record;                        // status "unavailable" with the reason, or "ok"
  std::unique_ptr<WorkerClient> worker;    // trains, dumps, lists; null unless it produces
  std::unique_ptr<WorkerClient> loader;    // loads artifacts, sandboxed; null unless it consumes
  bool emulated = false;                   // runs under QEMU: minutes where native takes seconds
  std::map<std::string, nlohmann::json> retrained;  // retrain_cv answers by fixture (run --recipe)
  Launch loading;                          // how its consumer worker started: more can join (another_loader)
  std::vector<std::string> load_formats;   // what its consumer workers prepared to load
  bool produces = false, consumes = false; // which workers it needs
  Launch provisioned;                      // what its provider made (no argv: provisioning failed)
  // Provisioned, workers not started yet (start_pending): a rerun whose every cell is reusable
  // never starts them (harness/run/known_envs.h).
  bool pending = false;
  bool available() const { return record.status == "ok" && worker && worker->running(); }
  bool can_load() const { return record.status == "ok" && loader && loader->running(); }
  // Restarts a worker that died or timed out; false (and unavailable) if it cannot come back.
  bool revive(RunLog& log);
  bool revive_loader(RunLog& log);
};

using EnvSessions = std::map<std::string, EnvSession>;

// A copy of a consuming environment's session with a consumer worker of its own (its log is
// numbered `index`), so one environment loads several artifacts at once. Start it on the thread
// that will use it for the rest of the run (see start_one in environments.cc).
Result<EnvSession> another_loader(const EnvSession& s, int index, const ProvisionContext& ctx);

// Provisions every environment the matrix names as producer or consumer, starts the workers its
// roles need and takes its fingerprint. `sandbox` false runs loads unsandboxed (--no-sandbox).
// Never fails as a whole: a bad environment is recorded unavailable. `worker_env` reaches every
// worker, inside a Debian rootfs's cleared environment too (e.g. CROSSLOAD_RECIPES).
EnvSessions start_environments(const Matrix& m, const ProvisionContext& ctx, bool sandbox, RunLog& log,
                               const std::map<std::string, std::string>& worker_env = {});

// start_environments in two steps. The first provisions every environment (side by side) and
// starts no worker: a session is "unavailable" with the reason, or `pending` with its launch.
EnvSessions provision_environments(const Matrix& m, const ProvisionContext& ctx, RunLog& log,
                                   const std::map<std::string, std::string>& worker_env = {});
// The second starts the workers of every pending session, on the calling (main) thread; false
// when none was pending. With `park` (run --max-workers) each worker stops again once it has told
// its fingerprint, before the next starts: the session is parked (see park_pending).
bool start_pending(EnvSessions& sessions, const ProvisionContext& ctx, bool sandbox, RunLog& log, bool park = false);

// Makes every pending session ready to start its workers later, one at a time, without starting
// any now (run --max-workers): the consumer's sandboxed launch is prepared, the workers stay
// null while the status says "ok". The run's scheduler starts and stops them within its budget.
void park_pending(EnvSessions& sessions, const ProvisionContext& ctx, bool sandbox);

// Starts a parked producing session's worker, on the thread that will use it (start_session).
Status start_producer(EnvSession& s, const ProvisionContext& ctx);

// A pending session taken as ready from a fingerprint known from an earlier run, without a
// worker (it stays pending: start_pending starts its workers if a cell needs them after all).
void adopt_fingerprint(EnvSession& s, const nlohmann::json& fingerprint, bool sandbox);

}  // namespace crossload
