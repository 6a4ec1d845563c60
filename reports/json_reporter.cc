#include "reports/json_reporter.h"

#include <map>

#include "harness/causes/classify.h"

namespace crossload {

using json = nlohmann::json;

json cell_to_json(const CellRecord& c) {
  json warnings = json::array();
  for (const auto& w : c.warnings) {
    json jw = {{"category", w.category}, {"message", w.message}};
    if (w.original_sklearn_version) jw["original_sklearn_version"] = *w.original_sklearn_version;
    warnings.push_back(jw);
  }
  json measurements = json::object();
  for (const auto& m : c.measurements) measurements[m.name] = {{"value", m.value}, {"unit", m.unit}};
  json cell = {{"id", c.id},           {"fixture", c.fixture},   {"format", c.format},
               {"producer", c.producer}, {"consumer", c.consumer}, {"outcome", to_string(c.outcome)},
               {"detail", c.detail},   {"warnings", warnings},   {"measurements", measurements}};
  // The catalogue's cause (docs/causes.md) of every cell that is not OK; recomputed when read back.
  if (std::string cause = cause_id(c); !cause.empty()) cell["cause"] = cause;
  if (c.reused_from) cell["reused_from_run"] = c.reused_from;  // copied from an earlier run (README "Incremental runs")
  return cell;
}

namespace {

json env_to_json(const EnvRecord& e) {
  return {{"name", e.name}, {"provider", e.provider}, {"where", e.where}, {"status", e.status},
          {"reason", e.reason}, {"fingerprint", e.fingerprint}, {"provision_seconds", e.provision_seconds}};
}

json artifact_to_json(const ArtifactRecord& a) {
  return {{"producer", a.producer}, {"fixture", a.fixture}, {"format", a.format}, {"path", a.path},
          {"sha256", a.sha256}, {"size_bytes", a.size_bytes}, {"status", a.status}, {"reason", a.reason},
          {"manifest", a.manifest}};
}

}  // namespace

void JsonReporter::write(const RunData& d, std::ostream& out) const {
  json envs = json::array(), artifacts = json::array(), cells = json::array();
  std::map<std::string, std::size_t> counts, causes;
  for (const auto& e : d.envs) envs.push_back(env_to_json(e));
  for (const auto& a : d.artifacts) artifacts.push_back(artifact_to_json(a));
  for (const auto& c : d.cells) {
    cells.push_back(cell_to_json(c));
    counts[std::string(to_string(c.outcome))]++;
    if (cells.back().contains("cause")) causes[cells.back()["cause"].get<std::string>()]++;
  }
  json doc = {{"schema_version", kResultsSchemaVersion},
              {"crossload_version", d.run.crossload_version},
              {"run", {{"id", d.run.id}, {"started_at", d.run.started_at}, {"finished_at", d.run.finished_at},
                       {"matrix", d.run.matrix_path}, {"matrix_sha256", d.run.matrix_sha256},
                       {"status", d.run.status}}},
              {"summary", {{"cells", d.cells.size()}, {"outcomes", counts}, {"causes", causes}}},
              {"environments", envs},
              {"artifacts", artifacts},
              {"cells", cells}};
  out << doc.dump(2) << '\n';
}

}  // namespace crossload
