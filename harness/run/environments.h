#pragma once
// The environments of one run: each provisioned once, with one long-lived worker that
// imports the stack once and then serves every request of the run.
#include <map>
#include <memory>
#include <string>

#include "harness/env/provider.h"
#include "harness/run/log.h"
#include "harness/run/matrix.h"
#include "harness/run/worker_client.h"
#include "harness/store/records.h"

namespace crossload {

struct EnvSession {
  EnvSpec spec;
  EnvRecord record;                        // status "unavailable" with the reason, or "ok"
  std::unique_ptr<WorkerClient> worker;    // null when unavailable
  bool available() const { return record.status == "ok" && worker && worker->running(); }
  // Restarts a worker that died or timed out; false (and unavailable) if it cannot come back.
  bool revive(RunLog& log);
};

using EnvSessions = std::map<std::string, EnvSession>;

// Provisions every environment the matrix names as producer or consumer, starts its worker
// and takes its fingerprint. Never fails as a whole: a bad environment is recorded unavailable.
EnvSessions start_environments(const Matrix& m, const ProvisionContext& ctx, RunLog& log);

}  // namespace crossload
