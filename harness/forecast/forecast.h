#pragma once
// The forecast of one artifact in one environment, without loading the artifact and without
// starting Python: the catalogue's rules (rules.h) matched against the artifact's and the
// environment's facts (facts.h). Of the rules whose every condition holds, the one of the
// earliest stage (LOAD_ERROR, then CRASH, then PREDICT_ERROR: a load that fails never reaches
// predict), first in file order, gives the outcome, its cause and the facts that matched. A rule that could hold but needs a fact nobody knows
// makes the forecast UNKNOWN, naming the fact: an unknown is never dressed as OK.
#include <string>
#include <vector>

#include "harness/forecast/facts.h"
#include "harness/forecast/rules.h"

namespace crossload::forecast {

struct Forecast {
  Outcome outcome = Outcome::kOk;
  std::string cause;                  // the catalogue id; empty for OK
  std::vector<std::string> evidence;  // "artifact.sklearn = 1.2.1 (< 1.3)", ...
  std::vector<std::string> missing;   // UNKNOWN: the facts that would decide it
};

Forecast forecast_one(const Facts& artifact, const Facts& env, const std::vector<Rule>& rules);
inline Forecast forecast_one(const Facts& artifact, const Facts& env) {
  return forecast_one(artifact, env, builtin_rules());
}

nlohmann::json to_json(const Forecast& f);

}  // namespace crossload::forecast
