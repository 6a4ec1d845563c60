// The forecast's own cost, after the artifact is parsed (the audit's cost is inspect_bench.cc's):
// one artifact x one environment is the facts lookup and every rule of the catalogue. Artifacts
// are real: a random forest and a pipeline written by the project venv's Python. Environments'
// facts are those of a cached-fingerprint-like host and of Debian bookworm's table.
// Registered at static-initialisation time: crossload_bench's main is BENCHMARK_MAIN.
#include <benchmark/benchmark.h>

#include "harness/audit/test_support.h"
#include "harness/forecast/environments.h"
#include "harness/forecast/forecast.h"

namespace crossload::forecast {
namespace {

struct Parsed {
  std::optional<audit::InspectionRecord> record;
  std::vector<Facts> envs;
};

Parsed& parsed() {
  static Parsed p = [] {
    Parsed out;
    auto path = audit::testing::python_artifact(
        "import pickle\nfrom sklearn.datasets import load_wine\nfrom sklearn.ensemble import RandomForestClassifier\n"
        "X, y = load_wine(return_X_y=True)\n"
        "m = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)\n"
        "open(sys.argv[1], 'wb').write(pickle.dumps(m, protocol=5))\n",
        "forest.pkl");
    audit::Policy policy;
    if (path)
      if (auto rec = audit::inspect_file(*path, policy)) out.record = std::move(*rec);
    out.envs.push_back(debian_suite_facts("bookworm"));
    out.envs.push_back(debian_suite_facts("trixie"));
    out.envs.push_back(env_facts(nlohmann::json::parse(
        R"({"python": "3.11.7", "byteorder": "little", "pointer_bits": 64, "packages": {"numpy": "2.4.6",
            "scikit-learn": "1.9.1", "cloudpickle": "3.1.3", "skops": "0.16.0", "onnxruntime": "1.32.0"}})")));
    return out;
  }();
  return p;
}

// Facts already extracted: rules x (artifact, environment).
void ForecastOneEnv(benchmark::State& state) {
  auto& p = parsed();
  if (!p.record) return state.SkipWithError("no artifact (is .venv there?)");
  Facts art = artifact_facts(*p.record);
  std::size_t i = 0;
  for (auto _ : state) {
    Forecast f = forecast_one(art, p.envs[i++ % p.envs.size()]);
    benchmark::DoNotOptimize(f);
  }
  state.counters["rules"] = static_cast<double>(builtin_rules().size());
}
BENCHMARK(ForecastOneEnv);

// From the parsed record: the facts extraction too, then one environment.
void ForecastFromRecord(benchmark::State& state) {
  auto& p = parsed();
  if (!p.record) return state.SkipWithError("no artifact (is .venv there?)");
  for (auto _ : state) {
    Facts art = artifact_facts(*p.record);
    Forecast f = forecast_one(art, p.envs[0]);
    benchmark::DoNotOptimize(f);
  }
  state.counters["globals"] = static_cast<double>(p.record->globals.size());
  state.counters["arrays"] = static_cast<double>(p.record->arrays.size());
}
BENCHMARK(ForecastFromRecord);

}  // namespace
}  // namespace crossload::forecast
