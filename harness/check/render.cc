#include "harness/check/render.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/causes/classify.h"
#include "harness/check/rebuild.h"
#include "harness/util/text.h"

namespace crossload::check {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMessageWidth = 160;

std::string shorten(std::string text, std::size_t width = kMessageWidth) {
  if (auto nl = text.find('\n'); nl != std::string::npos) text = text.substr(0, nl);
  return one_line(text, width);
}

bool passed(const EnvCheck& e) {
  return e.cell.outcome == Outcome::kOkExact || e.cell.outcome == Outcome::kOkTolerance;
}

std::string max_diff(const EnvCheck& e) {
  if (!passed(e) && e.cell.outcome != Outcome::kMismatch) return "-";
  return fmt::format("{:.3g}", e.cell.detail.value("max_abs", 0.0));
}

// A reference of another version than the artifact records is no OK: it is what the others are
// compared with, and nothing says it is right.
std::string outcome_label(const EnvCheck& e) {
  if (e.reference && !e.trusted && passed(e)) return "ref: not trusted";
  return std::string(to_string(e.cell.outcome)) + (e.reference ? " (ref)" : "");
}

bool trusted(const CheckReport& r) {
  for (const auto& e : r.envs)
    if (e.reference && !e.trusted) return false;
  return true;
}

std::string rebuild_line(const CheckReport& r) {
  if (!r.rebuilt || r.rebuilt->failure.empty()) return "";
  std::string what = r.rebuilt->spec.empty() ? "" : " (" + r.rebuilt->spec + ")";
  return fmt::format("reference: not rebuilt from the artifact's recorded versions{}: {}\n", what, r.rebuilt->failure);
}

json rebuild_json(const CheckReport& r) {
  if (!r.rebuilt) return json();
  return {{"spec", r.rebuilt->spec.empty() ? json() : json(r.rebuilt->spec)},
          {"status", r.rebuilt->failure.empty() ? "rebuilt" : "failed"},
          {"reason", r.rebuilt->failure.empty() ? json() : json(r.rebuilt->failure)}};
}

std::string warning_line(const CellWarning& w) {
  std::string saved = w.original_sklearn_version ? " (saved with scikit-learn " + *w.original_sklearn_version + ")" : "";
  return fmt::format("    warning: {}{}: {}\n", w.category, saved, shorten(w.message, 120));
}

std::string failure_lines(const EnvCheck& e) {
  std::string out;
  const json& d = e.cell.detail;
  if (d.contains("summary")) out += fmt::format("    differs: {}\n", shorten(d["summary"].get<std::string>()));
  if (d.contains("message")) {
    std::string type = d.value("error_type", std::string());
    out += fmt::format("    error: {}{}\n", type.empty() ? "" : type + ": ", shorten(d["message"].get<std::string>()));
  }
  if (!e.explanation.empty()) out += fmt::format("    means: {}\n", e.explanation);
  return out;
}

std::string versions_line(const CheckReport& r) {
  if (r.recorded_versions.empty()) return "records no scikit-learn version";
  std::string v;
  for (const auto& s : r.recorded_versions) v += (v.empty() ? "" : ", ") + s;
  return "records scikit-learn " + v + (r.recorded_numpy_major ? ", " + numpy_words(r.recorded_numpy_major) : "");
}

}  // namespace

std::string render_text(const CheckReport& r) {
  std::string out = fmt::format("crossload check {}  ({}, audit {}, {})\n", r.artifact, r.variant, r.verdict,
                                versions_line(r));
  if (!r.audit_finding.empty())  // on the screen, not only in the log: loading it may have run code
    out += fmt::format("audit: {}: {}; loaded anyway (--allow-unsafe), only in the sandbox\n", r.verdict,
                       r.audit_finding);
  out += rebuild_line(r) + r.reference_note + "\n";
  if (!r.reference_outputs.empty()) {
    std::string outputs;
    for (const auto& o : r.reference_outputs) outputs += (outputs.empty() ? "" : ", ") + o;
    out += "outputs compared: " + outputs + "\n";
  }
  std::size_t width = 20;  // a spec's name (the rebuilt producer's: pip:scikit-learn==...) widens the column
  for (const auto& e : r.envs) width = std::max(width, e.cell.consumer.size());
  out += fmt::format("\n{:<{}} {:<21} {:>9}  {}\n", "environment", width, "outcome", "max diff", "versions");
  std::size_t failed = 0;
  for (const auto& e : r.envs) {
    failed += passed(e) ? 0 : 1;
    out += fmt::format("{:<{}} {:<21} {:>9}  {}\n", e.cell.consumer, width, outcome_label(e), max_diff(e), e.versions);
    if (!passed(e)) out += failure_lines(e);
    if (e.reference && !e.trusted) out += "    reference: a different version than the artifact records: not trusted\n";
    for (const auto& w : e.cell.warnings) out += warning_line(w);
    if (passed(e) && !e.cell.warnings.empty() && !e.explanation.empty())
      out += fmt::format("    means: {}\n", e.explanation);
  }
  out += "\n";
  if (r.bad_input) out += "error: " + *r.bad_input + "\n";
  else if (failed == 0)
    out += fmt::format("loads and predicts within tolerance in all {} environments{}\n", r.envs.size(),
                       trusted(r) ? "" : ", compared with a reference that is not trusted");
  else out += fmt::format("fails in {} of {} environments\n", failed, r.envs.size());
  return out;
}

json render_json(const CheckReport& r) {
  json envs = json::array();
  for (const auto& e : r.envs) {
    json warnings = json::array();
    for (const auto& w : e.cell.warnings) {
      json j = {{"category", w.category}, {"message", w.message}};
      if (w.original_sklearn_version) j["original_sklearn_version"] = *w.original_sklearn_version;
      warnings.push_back(j);
    }
    envs.push_back({{"name", e.cell.consumer}, {"where", e.where}, {"versions", e.versions},
                    {"reference", e.reference}, {"reference_trusted", e.reference ? json(e.trusted) : json()},
                    {"outcome", to_string(e.cell.outcome)},
                    {"max_abs", passed(e) || e.cell.outcome == Outcome::kMismatch ? json(e.cell.detail.value("max_abs", 0.0)) : json()},
                    {"detail", e.cell.detail}, {"warnings", warnings}, {"explanation", e.explanation}});
    if (std::string cause = cause_id(e.cell); !cause.empty()) envs.back()["cause"] = cause;  // docs/causes.md
  }
  return {{"schema_version", 1}, {"artifact", r.artifact}, {"format", r.variant}, {"verdict", r.verdict},
          {"audit_finding", r.audit_finding.empty() ? json() : json(r.audit_finding)},
          {"recorded_versions", r.recorded_versions},
          {"recorded_numpy_major", r.recorded_numpy_major ? json(r.recorded_numpy_major) : json()},
          {"reference", {{"note", r.reference_note}, {"outputs", r.reference_outputs}, {"trusted", trusted(r)},
                         {"rebuilt", rebuild_json(r)}}},
          {"environments", envs}, {"bad_input", r.bad_input ? json(*r.bad_input) : json()},
          {"exit_code", check_exit_code(r)}};
}

}  // namespace crossload::check
