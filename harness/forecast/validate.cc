#include "harness/forecast/validate.h"

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "harness/audit/inspect.h"
#include "harness/env/env_spec.h"

namespace crossload::forecast {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::array kClasses{Outcome::kOk, Outcome::kLoadError, Outcome::kPredictError, Outcome::kCrash,
                              Outcome::kUnknown};

Result<json> read_results(const std::string& run_dir) {
  fs::path p = fs::path(run_dir) / "results.json";
  std::ifstream in(p);
  if (!in) return make_error(fmt::format("{}: cannot read (is {} a run's --out directory?)", p.string(), run_dir));
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("cells"))
    return make_error(fmt::format("{}: not a crossload results.json", p.string()));
  return doc;
}

// "<producer>\n<fixture>\n<format>" -> the artifact's facts (each artifact is inspected once).
using ArtifactKey = std::string;

struct Replay {
  const std::string& run_dir;
  std::map<std::string, Facts> envs;
  std::map<ArtifactKey, std::string> paths;
  std::map<ArtifactKey, std::optional<Facts>> artifacts;
  audit::Policy policy;

  const Facts* artifact(const json& cell) {
    ArtifactKey key = cell.value("producer", "") + "\n" + cell.value("fixture", "") + "\n" + cell.value("format", "");
    auto found = artifacts.find(key);
    if (found != artifacts.end()) return found->second ? &*found->second : nullptr;
    std::optional<Facts> facts;
    if (auto p = paths.find(key); p != paths.end())
      if (auto rec = audit::inspect_file(p->second, policy)) facts = artifact_facts(*rec, cell.value("format", ""));
    auto& slot = artifacts[key] = std::move(facts);
    return slot ? &*slot : nullptr;
  }
};

void index(const json& doc, Replay& r) {
  for (const auto& e : doc.value("environments", json::array()))
    r.envs[e.value("name", "")] = env_facts(e.value("fingerprint", json()));
  for (const auto& a : doc.value("artifacts", json::array())) {
    if (a.value("status", "") != "ok" || !a.contains("manifest")) continue;
    std::string producer = a.value("producer", "");
    fs::path p = fs::path(r.run_dir) / "artifacts" / env_file_name(producer) / a.value("fixture", "") /
                 a["manifest"].value("artifact", "");
    r.paths[producer + "\n" + a.value("fixture", "") + "\n" + a.value("format", "")] = p.string();
  }
}

void count(Validation& v, const json& cell, Outcome actual, const Forecast& f) {
  ++v.cells;
  ++v.confusion[std::string(outcome_name(actual))][std::string(outcome_name(f.outcome))];
  if (actual == f.outcome) ++v.correct;
  else
    v.wrong.push_back(fmt::format("{}: ran {}, forecast {}{}", cell.value("id", "?"), cell.value("outcome", "?"),
                                  outcome_name(f.outcome), f.cause.empty() ? "" : " (" + f.cause + ")"));
  if (is_failure(actual)) {
    ++v.failing;
    if (is_failure(f.outcome)) ++v.failing_caught;
  }
  if (is_failure(f.outcome)) {
    ++v.forecast_failing;
    if (is_failure(actual)) ++v.forecast_failing_right;
  }
}

}  // namespace

std::optional<Outcome> run_outcome_class(std::string_view o) {
  if (o == "OK_EXACT" || o == "OK_TOLERANCE") return Outcome::kOk;
  if (o == "LOAD_ERROR") return Outcome::kLoadError;
  if (o == "PREDICT_ERROR" || o == "MISMATCH") return Outcome::kPredictError;
  if (o == "CRASH" || o == "TIMEOUT") return Outcome::kCrash;
  return std::nullopt;
}

Result<Validation> validate_run(const std::string& run_dir) {
  auto doc = read_results(run_dir);
  if (!doc) return doc.error();
  Replay r{run_dir, {}, {}, {}, {}};
  index(*doc, r);
  Validation v;
  for (const auto& cell : (*doc)["cells"]) {
    auto actual = run_outcome_class(cell.value("outcome", ""));
    const Facts* art = actual ? r.artifact(cell) : nullptr;
    auto env = r.envs.find(cell.value("consumer", ""));
    if (!actual || !art || env == r.envs.end()) {
      ++v.skipped;
      continue;
    }
    count(v, cell, *actual, forecast_one(*art, env->second));
  }
  return v;
}

json to_json(const Validation& v) {
  json confusion = json::object();
  for (const auto& [actual, row] : v.confusion)
    for (const auto& [forecast, n] : row) confusion[actual][forecast] = n;
  return {{"cells", v.cells}, {"correct", v.correct}, {"agreement", v.agreement()},
          {"failing_recall", v.failing_recall()}, {"failing_precision", v.failing_precision()},
          {"confusion", confusion}, {"skipped", v.skipped}, {"failing", v.failing}};
}

std::string render_text(const Validation& v, const std::string& run_dir) {
  std::string out = fmt::format("{}: {} cells forecast ({} skipped: no load to forecast)\n\n", run_dir, v.cells,
                                v.skipped);
  out += fmt::format("{:<16}", "ran \\ forecast");
  for (Outcome f : kClasses) out += fmt::format("{:>15}", outcome_name(f));
  out += '\n';
  for (Outcome a : kClasses) {
    auto row = v.confusion.find(std::string(outcome_name(a)));
    if (row == v.confusion.end()) continue;
    out += fmt::format("{:<16}", outcome_name(a));
    for (Outcome f : kClasses) {
      auto n = row->second.find(std::string(outcome_name(f)));
      out += fmt::format("{:>15}", n == row->second.end() ? 0 : n->second);
    }
    out += '\n';
  }
  out += fmt::format("\nagreement {:.1f} % ({} of {}); failing cells: recall {:.1f} % ({} of {}), precision {:.1f} %\n",
                     100 * v.agreement(), v.correct, v.cells, 100 * v.failing_recall(), v.failing_caught, v.failing,
                     100 * v.failing_precision());
  return out;
}

}  // namespace crossload::forecast
