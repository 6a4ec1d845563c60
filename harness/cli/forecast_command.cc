// `crossload forecast ARTIFACT...`: the outcome of each artifact in each environment, predicted
// from the static audit's facts and the environments' cached fingerprints through the
// catalogue's rules, without loading anything or starting Python; `forecast --validate RUN_DIR`
// replays a stored run through the forecast and measures its agreement (docs/forecast.md).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/audit/inspect.h"
#include "harness/cli/commands.h"
#include "harness/cli/forecast_envs.h"
#include "harness/cli/paths.h"
#include "harness/forecast/report.h"
#include "harness/forecast/validate.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

struct ForecastFlags {
  std::vector<std::string> artifacts;
  std::vector<std::string> envs;
  std::string validate;
  bool json = false;
};

int run_validate(const ForecastFlags& f) {
  auto v = forecast::validate_run(f.validate);
  if (!v) return fail(v.error());
  if (f.json) std::cout << forecast::to_json(*v).dump(2) << '\n';
  else std::cout << forecast::render_text(*v, f.validate);
  return exit_code::kOk;
}

int run_forecast(const ForecastFlags& f, const CommandFlags& groups) {
  if (!f.validate.empty()) {
    if (!f.artifacts.empty())
      return fail(make_error(ErrorKind::kUsage, "forecast --validate replays a run: give no ARTIFACT beside it"));
    return run_validate(f);
  }
  if (f.artifacts.empty())
    return fail(make_error(ErrorKind::kUsage, "forecast: give ARTIFACT... (or --validate RUN_DIR)"));
  auto envs = forecast_envs(groups.matrix, f.envs, groups.cache_dir);
  if (!envs) return fail(envs.error());
  audit::Policy policy;
  nlohmann::json all = nlohmann::json::array();
  bool failing = false;
  for (const auto& path : f.artifacts) {
    auto rec = audit::inspect_file(path, policy);
    if (!rec) return fail(rec.error());
    auto a = forecast::forecast_artifact(*rec, *envs);
    failing = failing || a.any_failure();
    if (f.json) all.push_back(forecast::to_json(a));
    else std::cout << forecast::render_text(a);
  }
  if (f.json) std::cout << nlohmann::json{{"schema_version", 1}, {"artifacts", all}}.dump(2) << '\n';
  return failing ? exit_code::kCellsFailed : exit_code::kOk;
}

}  // namespace

CommandRun forecast_command(CLI::App& cmd) {
  auto flags = std::make_shared<ForecastFlags>();
  cmd.add_option("ARTIFACT", flags->artifacts, "model files (pickle, joblib, cloudpickle, skops, ONNX)");
  cmd.add_option("--env", flags->envs,
                 "an environment of the matrix or a spec such as debian:trixie/armhf (repeatable; default: the "
                 "matrix's consumers)");
  cmd.add_option("--consumers", flags->envs, "the same as --env (as run names them)");
  cmd.add_option("--validate", flags->validate,
                 "replay a stored run (a --out directory with results.json and artifacts/) and measure agreement");
  cmd.add_flag("--json", flags->json, "print the result as JSON");
  return [flags](const CommandFlags& f) { return run_forecast(*flags, f); };
}

}  // namespace crossload::cli
