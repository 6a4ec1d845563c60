#include "harness/forecast/report.h"

#include <fmt/format.h>

namespace crossload::forecast {

namespace {

std::string first(const Facts& f, const char* name, const char* otherwise) {
  const auto* v = f.find(name);
  return v && !v->empty() ? fmt::format("{}", fmt::join(*v, ", ")) : otherwise;
}

std::string summary(const Facts& f) {
  return fmt::format("{}; scikit-learn {}; numpy {}; byte order {}; code {}", first(f, "format", "?"),
                     first(f, "artifact.sklearn", "not recorded"), first(f, "artifact.numpy", "?"),
                     first(f, "artifact.byteorder", "?"), first(f, "artifact.code", "?"));
}

std::string env_line(const EnvForecast& e, std::size_t width) {
  const Forecast& f = e.forecast;
  std::string line = fmt::format("  {:<{}}  {:<13}", e.env->name, width, outcome_name(f.outcome));
  if (!f.cause.empty()) line += "  " + f.cause;
  if (!f.missing.empty()) line += fmt::format("  unknown: {}", fmt::join(f.missing, ", "));
  line.erase(line.find_last_not_of(' ') + 1);
  return line + '\n';
}

std::size_t name_width(const ArtifactForecast& a) {
  std::size_t w = 4;
  for (const auto& e : a.envs) w = std::max(w, e.env->name.size());
  return w;
}

}  // namespace

bool ArtifactForecast::any_failure() const {
  for (const auto& e : envs)
    if (is_failure(e.forecast.outcome)) return true;
  return false;
}

ArtifactForecast forecast_artifact(const audit::InspectionRecord& rec, const std::vector<EnvFacts>& envs,
                                   std::string_view variant) {
  ArtifactForecast a{rec.path, artifact_facts(rec, variant), {}};
  for (const auto& env : envs) a.envs.push_back({&env, forecast_one(a.facts, env.facts)});
  return a;
}

std::string render_text(const ArtifactForecast& a) {
  std::string out = fmt::format("{}\n  {}\n", a.path, summary(a.facts));
  std::size_t w = name_width(a);
  for (const auto& e : a.envs) {
    out += env_line(e, w);
    for (const auto& ev : e.forecast.evidence) out += fmt::format("  {:<{}}    {}\n", "", w, ev);
    out += fmt::format("  {:<{}}    facts: {}\n", "", w, e.env->source);
  }
  return out;
}

std::string render_short(const ArtifactForecast& a) {
  std::string out = fmt::format("forecast (static, nothing loaded): {}\n", summary(a.facts));
  std::size_t w = name_width(a);
  for (const auto& e : a.envs) out += env_line(e, w);
  return out;
}

nlohmann::json to_json(const ArtifactForecast& a) {
  nlohmann::json facts = nlohmann::json::object();
  for (const auto& [k, v] : a.facts.values) facts[k] = v;
  nlohmann::json envs = nlohmann::json::array();
  for (const auto& e : a.envs) {
    nlohmann::json j = to_json(e.forecast);
    j["env"] = e.env->name;
    j["facts_source"] = e.env->source;
    envs.push_back(std::move(j));
  }
  return {{"path", a.path}, {"facts", facts}, {"environments", envs}};
}

}  // namespace crossload::forecast
