#pragma once
// `crossload forecast --validate RUN_DIR`: replays a stored run (its results.json and artifacts/)
// through the forecast and compares with what happened. Each cell is forecast from its artifact
// (inspected statically) and its consumer's recorded fingerprint. Run outcomes map onto the
// forecast's classes (docs/forecast.md): OK_EXACT, OK_TOLERANCE -> OK; LOAD_ERROR; PREDICT_ERROR
// and MISMATCH -> PREDICT_ERROR (loaded, does not answer like the producer); CRASH, TIMEOUT ->
// CRASH. Cells with no load to forecast (UNSUPPORTED, ENV_UNAVAILABLE, BLOCKED, XFAIL, XPASS,
// or whose artifact is missing) are left out and counted as skipped.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/forecast/forecast.h"
#include "harness/util/result.h"

namespace crossload::forecast {

struct Validation {
  std::size_t cells = 0, correct = 0, skipped = 0;
  std::size_t failing = 0, failing_caught = 0;  // actual failures; of them forecast as failures
  std::size_t forecast_failing = 0, forecast_failing_right = 0;  // forecast failures; of them failing
  std::map<std::string, std::map<std::string, std::size_t>> confusion;  // actual -> forecast -> n
  std::vector<std::string> wrong;  // "cell id: actual X, forecast Y (cause)", for the curious

  double agreement() const { return cells ? double(correct) / double(cells) : 0; }
  double failing_recall() const { return failing ? double(failing_caught) / double(failing) : 0; }
  double failing_precision() const {
    return forecast_failing ? double(forecast_failing_right) / double(forecast_failing) : 0;
  }
};

// The forecast class a run's outcome falls in; nullopt for outcomes with no load to forecast.
std::optional<Outcome> run_outcome_class(std::string_view run_outcome);

Result<Validation> validate_run(const std::string& run_dir);

nlohmann::json to_json(const Validation& v);
std::string render_text(const Validation& v, const std::string& run_dir);

}  // namespace crossload::forecast
