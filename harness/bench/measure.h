#pragma once
// One bench case: persist a trained fixture in one format, then measure loading it — warm loads,
// first prediction and batch throughput, the load's RSS growth, the PSS of concurrent loaders
// (each in its own forked child of the worker) and cold starts (fresh interpreters spawned
// through the environment's launch). A step that fails is recorded and the next one still runs.
#include <string>
#include <vector>

#include "harness/bench/environment.h"
#include "harness/bench/records.h"

namespace crossload::bench {

struct CaseSettings {
  std::string source_root;
  std::string out_dir;  // absolute: artifacts/ and cells/ go below it
  int repetitions = 9, cold_repetitions = 9, processes = 4;
  double wall_seconds = 300;  // per measuring step, enforced by the worker on its child
};

struct Trained {
  std::string fixture, dir, inputs;
  std::vector<std::string> outputs;
  double rtol = 1e-6, atol = 0;
};

// Trains the fixture in the environment's worker; an Error says why it could not.
Result<Trained> train_fixture(BenchEnv& env, const std::string& fixture, const CaseSettings& s);

BenchCase run_case(BenchEnv& env, const Trained& trained, const std::string& format, const CaseSettings& s,
                   RunLog& log);

}  // namespace crossload::bench
