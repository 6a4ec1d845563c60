#include "harness/cli/forecast_envs.h"

#include <fmt/format.h>

#include "harness/audit/inspect.h"
#include "harness/forecast/report.h"
#include "harness/core/matrix.h"

namespace crossload::cli {

Result<std::vector<forecast::EnvFacts>> forecast_envs(const std::string& matrix_path,
                                                      const std::vector<std::string>& names,
                                                      const std::string& cache_dir) {
  auto m = load_matrix(matrix_path);
  if (!m) return m.error();
  std::vector<std::string> chosen = names.empty() ? m->consumers : names;
  if (auto s = add_spec_envs(*m, chosen); !s) return s.error();
  std::vector<forecast::EnvFacts> out;
  for (const auto& name : chosen) {
    const EnvSpec* spec = m->find_env(name);
    if (!spec) {
      std::string known;
      for (const auto& e : m->envs) known += (known.empty() ? "" : ", ") + e.name;
      return make_error(ErrorKind::kUsage,
                        fmt::format("--env {}: {} has no such environment (it has: {}; or write a spec such as "
                                    "debian:trixie/armhf)",
                                    name, matrix_path, known));
    }
    out.push_back(forecast::resolve_env(*spec, cache_dir));
  }
  return out;
}

std::string forecast_section(const std::string& artifact, const std::string& matrix_path,
                             const std::vector<std::string>& names, const std::string& cache_dir) {
  audit::Policy policy;
  auto rec = audit::inspect_file(artifact, policy);
  if (!rec) return "";
  return forecast_section(*rec, matrix_path, names, cache_dir);
}

std::string forecast_section(const audit::InspectionRecord& record, const std::string& matrix_path,
                             const std::vector<std::string>& names, const std::string& cache_dir) {
  auto envs = forecast_envs(matrix_path, names, cache_dir);
  if (!envs) return "";
  return forecast::render_short(forecast::forecast_artifact(record, *envs));
}

}  // namespace crossload::cli
