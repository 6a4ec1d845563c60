#pragma once
// An environment's facts without starting it: its fingerprint as the environment cache keeps it
// (<cache>/fingerprints/, written by every run: harness/run/known_envs.*), else the versions its
// declaration pins (pip requirements) or implies (a Debian suite's own packages, from the table
// in environments.cc), else nothing (every rule needing a version then forecasts UNKNOWN).
#include <string>

#include "harness/env/env_spec.h"
#include "harness/forecast/facts.h"

namespace crossload::forecast {

struct EnvFacts {
  std::string name;
  Facts facts;
  std::string source;  // where the facts came from, shown with the forecast
};

EnvFacts resolve_env(const EnvSpec& spec, const std::string& cache_dir);

// The packages a Debian suite ships (python3-numpy, ...), as facts; empty for a suite the table
// does not know.
Facts debian_suite_facts(const std::string& suite);

}  // namespace crossload::forecast
