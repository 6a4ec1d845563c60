#pragma once
// Forecasting artifacts in environments and rendering the result: the screen of
// `crossload forecast`, the short section `check` prints before it loads anything and
// `inspect --forecast`, and the JSON of `forecast --json` (docs/forecast.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/inspection/record.h"
#include "harness/forecast/environments.h"
#include "harness/forecast/forecast.h"

namespace crossload::forecast {

struct EnvForecast {
  const EnvFacts* env;
  Forecast forecast;
};

struct ArtifactForecast {
  std::string path;
  Facts facts;
  std::vector<EnvForecast> envs;
  bool any_failure() const;
};

ArtifactForecast forecast_artifact(const audit::InspectionRecord& rec, const std::vector<EnvFacts>& envs,
                                   std::string_view variant = {});

// The full screen: the artifact's main facts, then one line per environment with its cause and
// evidence, and where each environment's facts came from.
std::string render_text(const ArtifactForecast& a);
// A few lines: one per environment (for check and inspect).
std::string render_short(const ArtifactForecast& a);
nlohmann::json to_json(const ArtifactForecast& a);

}  // namespace crossload::forecast
