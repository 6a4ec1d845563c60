#include "reports/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "harness/causes/classify.h"
#include "harness/store/store.h"
#include "harness/util/text.h"
#include "reports/explain.h"
#include "reports/mann_whitney.h"
#include "reports/summaries.h"

namespace crossload {

using json = nlohmann::json;

// ---- reading either side ----

std::optional<StoreSpec> parse_store_spec(const std::string& spec) {
  std::string path = spec, run;
  if (auto hash = spec.rfind('#'); hash != std::string::npos) path = spec.substr(0, hash), run = spec.substr(hash + 1);
  if (path.size() < 3 || path.compare(path.size() - 3, 3, ".db") != 0) return std::nullopt;
  StoreSpec s{path, 0};
  if (run.empty()) return s;
  if (!std::all_of(run.begin(), run.end(), [](unsigned char c) { return std::isdigit(c); }) || run.size() > 15)
    return std::nullopt;
  s.run_id = std::stoll(run);
  return s;
}

Result<ResultsSource> read_store_run(const Store& store, const StoreSpec& spec) {
  int64_t id = spec.run_id;
  if (id == 0) {
    auto latest = store.latest_run();
    if (!latest) return latest.error();
    if (!*latest) return make_error(fmt::format("{}: no run recorded in this results store", spec.path));
    id = (*latest)->id;
  }
  auto data = load_run_data(store, id);
  if (!data) return data.error();
  return ResultsSource{fmt::format("{}#{}", spec.path, id), std::move(*data)};
}

namespace {

double number_or_nan(const json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

std::string str(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : std::string();
}

// A measurement is {"value": x, "unit": u}; repetition samples may come as "samples": [...].
std::vector<Measurement> measurements_from_json(const json& j) {
  std::vector<Measurement> out;
  if (!j.is_object()) return out;
  for (const auto& [name, m] : j.items()) {
    if (m.is_number()) { out.push_back({name, m.get<double>(), ""}); continue; }
    if (!m.is_object()) continue;
    std::string unit = str(m, "unit");
    if (m.contains("samples") && m["samples"].is_array()) {
      for (const auto& v : m["samples"]) out.push_back({name, number_or_nan(v), unit});
    } else if (m.contains("value")) {
      out.push_back({name, number_or_nan(m["value"]), unit});
    }
  }
  return out;
}

std::vector<CellWarning> warnings_from_json(const json& j) {
  std::vector<CellWarning> out;
  if (!j.is_array()) return out;
  for (const auto& w : j) {
    CellWarning cw{str(w, "category"), str(w, "message"), std::nullopt};
    if (w.contains("original_sklearn_version") && w["original_sklearn_version"].is_string())
      cw.original_sklearn_version = w["original_sklearn_version"].get<std::string>();
    out.push_back(std::move(cw));
  }
  return out;
}

Result<CellRecord> cell_from_json(const json& j, const std::string& path, std::size_t index) {
  if (!j.is_object() || !j.contains("id") || !j.contains("outcome"))
    return make_error(fmt::format("{}: cells[{}] has no id or outcome", path, index));
  auto outcome = outcome_from_string(str(j, "outcome"));
  if (!outcome)
    return make_error(fmt::format("{}: cell {} has unknown outcome '{}'; was it written by a newer crossload?",
                                  path, str(j, "id"), str(j, "outcome")));
  CellRecord c{str(j, "id"), str(j, "fixture"), str(j, "format"), str(j, "producer"), str(j, "consumer"),
               *outcome, j.value("detail", json::object()), warnings_from_json(j.value("warnings", json::array())),
               measurements_from_json(j.value("measurements", json::object()))};
  return c;
}

EnvRecord env_from_json(const json& j) {
  return {str(j, "name"), str(j, "provider"), str(j, "where"), str(j, "status"), str(j, "reason"),
          j.value("fingerprint", json::object()), j.contains("provision_seconds") ? number_or_nan(j["provision_seconds"]) : 0};
}

ArtifactRecord artifact_from_json(const json& j) {
  return {str(j, "producer"), str(j, "fixture"), str(j, "format"), str(j, "path"), str(j, "sha256"),
          j.value("size_bytes", int64_t{0}), str(j, "status"), str(j, "reason"), j.value("manifest", json::object())};
}

Status check_schema(const json& doc, const std::string& path) {
  if (!doc.is_object() || !doc.contains("schema_version") || !doc["schema_version"].is_number_integer())
    return make_error(fmt::format("{}: not a crossload results.json (no integer \"schema_version\" at the top)", path));
  int v = doc["schema_version"].get<int>();
  if (v > kResultsSchemaVersion)
    return make_error(fmt::format("{}: results schema_version {} is newer than this crossload reads ({} to {}); "
                                  "use a newer crossload, or the one that wrote it",
                                  path, v, kOldestReadableResultsSchema, kResultsSchemaVersion));
  if (v < kOldestReadableResultsSchema)
    return make_error(fmt::format("{}: results schema_version {} is older than this crossload reads ({} to {}); "
                                  "re-render it with `crossload report --report json` from its results.db",
                                  path, v, kOldestReadableResultsSchema, kResultsSchemaVersion));
  return ok_status();
}

}  // namespace

Result<RunData> run_data_from_json(const json& doc, const std::string& path) {
  if (auto st = check_schema(doc, path); !st) return st.error();
  RunData d;
  const json run = doc.value("run", json::object());
  d.run = {run.value("id", int64_t{0}), str(run, "started_at"), str(run, "finished_at"), str(run, "matrix"),
           str(run, "matrix_sha256"), str(doc, "crossload_version"), str(run, "status")};
  for (const auto& e : doc.value("environments", json::array())) d.envs.push_back(env_from_json(e));
  for (const auto& a : doc.value("artifacts", json::array())) d.artifacts.push_back(artifact_from_json(a));
  const json cells = doc.value("cells", json::array());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto c = cell_from_json(cells[i], path, i);
    if (!c) return c.error();
    d.cells.push_back(std::move(*c));
  }
  return d;
}

Result<ResultsSource> read_results_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read (no such file?)", path));
  json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(fmt::format("{}: not valid JSON", path));
  auto data = run_data_from_json(doc, path);
  if (!data) return data.error();
  return ResultsSource{path, std::move(*data)};
}

Result<ResultsSource> read_results(const std::string& spec) {
  auto store_spec = parse_store_spec(spec);
  if (!store_spec) return read_results_json(spec);
  // Opening creates a missing store: a mistyped baseline must not become an empty one.
  if (!std::filesystem::exists(store_spec->path)) return make_error(fmt::format("{}: no such file", store_spec->path));
  auto store = Store::open(store_spec->path);
  if (!store) return store.error();
  return read_store_run(*store, *store_spec);
}

// ---- comparing ----

namespace {

// `shown` is the side whose error text explains the change: the current cell for a regression,
// the baseline's for a fix (what was fixed) or a vanished cell.
OutcomeChange change(const CellRecord* before, const CellRecord* after, const CellRecord* shown) {
  OutcomeChange ch{shown->id, std::nullopt, std::nullopt, cell_error_text(*shown), explain(*shown), cause_id(*shown)};
  if (before) ch.before = before->outcome;
  if (after) ch.after = after->outcome;
  return ch;
}

void diff_outcome(const CellRecord& b, const CellRecord& c, DiffResult& r) {
  // An expected failure is the matrix's decision, not a regression; XPASS says the expectation is stale.
  if (c.outcome == Outcome::kXfail || c.outcome == Outcome::kXpass) return;
  if (severity(c.outcome) > severity(b.outcome)) r.regressions.push_back(change(&b, &c, &c));
  else if (severity(c.outcome) < severity(b.outcome)) r.fixes.push_back(change(&b, &c, &b));
}

std::optional<PerfChange> compare_measurement(const CellRecord& b, const CellRecord& c, const std::string& name) {
  auto before = measurement_samples(b, name), after = measurement_samples(c, name);
  if (before.empty() || after.empty()) return std::nullopt;
  PerfChange p{c.id, name, first_measurement(c, name)->unit, median(before), median(after), 0, before.size(), after.size(),
               std::nullopt};
  if (p.before <= 0 || p.after <= 0) return std::nullopt;  // a zero cannot be a ratio's base
  p.ratio = p.after / p.before;
  return p;
}

// With one sample a side all that can be said is the ratio; with repetitions, the ratio must
// also be significant (one-sided Mann-Whitney U in the direction of the change).
void judge_perf(const CellRecord& b, const CellRecord& c, const std::string& name, DiffResult& r) {
  auto p = compare_measurement(b, c, name);
  if (!p) return;
  r.perf_compared++;
  bool slower = p->ratio > r.options.threshold, faster = p->ratio < 1 / r.options.threshold;
  if (!slower && !faster) return;
  auto before = measurement_samples(b, name), after = measurement_samples(c, name);
  if (before.size() >= 2 && after.size() >= 2) {
    r.perf_tested++;
    auto test = slower ? mann_whitney_greater(before, after) : mann_whitney_greater(after, before);
    p->p_value = test->p_value;
    if (test->p_value >= r.options.alpha) return;
  }
  (slower ? r.perf_regressions : r.perf_improvements).push_back(*p);
}

}  // namespace

DiffResult diff_runs(const ResultsSource& baseline, const ResultsSource& current, const DiffOptions& options) {
  DiffResult r;
  r.baseline = baseline.label, r.current = current.label, r.options = options;
  r.baseline_cells = baseline.data.cells.size(), r.current_cells = current.data.cells.size();
  std::map<std::string, const CellRecord*> before;
  for (const auto& c : baseline.data.cells) before[c.id] = &c;
  for (const auto& c : current.data.cells) {
    auto it = before.find(c.id);
    const CellRecord* b = it == before.end() ? nullptr : it->second;
    if (c.outcome == Outcome::kXfail) r.xfail.push_back(change(b, &c, &c));
    if (c.outcome == Outcome::kXpass) r.xpass.push_back(change(b, &c, &c));
    if (!b) { r.new_cells.push_back(change(nullptr, &c, &c)); continue; }
    r.common_cells++;
    diff_outcome(*b, c, r);
    for (const auto& name : options.measurements) judge_perf(*b, c, name, r);
    before.erase(it);
  }
  for (const auto& [id, b] : before) r.vanished.push_back(change(b, nullptr, b));
  auto by_ratio = [](const PerfChange& x, const PerfChange& y) { return x.ratio > y.ratio; };
  std::stable_sort(r.perf_regressions.begin(), r.perf_regressions.end(), by_ratio);
  std::stable_sort(r.perf_improvements.rbegin(), r.perf_improvements.rend(), by_ratio);
  return r;
}

// ---- what fails CI ----

namespace {
struct FailOnName {
  FailOn value;
  const char* name;
};
constexpr FailOnName kFailOnNames[] = {
    {FailOn::kCompat, "compat"}, {FailOn::kPerf, "perf"}, {FailOn::kNewFailure, "new-failure"}, {FailOn::kVanished, "vanished"}};
}  // namespace

std::vector<std::string> fail_on_names() {
  std::vector<std::string> out;
  for (const auto& f : kFailOnNames) out.push_back(f.name);
  return out;
}

// Performance stays out of the default: one timing per cell on a shared CI runner is noise
// more often than news; name `perf` when baseline and current ran on the same quiet machine.
std::vector<std::string> default_fail_on() { return {"compat", "new-failure"}; }

Result<std::vector<FailOn>> parse_fail_on(const std::vector<std::string>& names) {
  std::vector<FailOn> out;
  for (const auto& n : names) {
    if (n == "none" || n.empty()) continue;
    auto it = std::find_if(std::begin(kFailOnNames), std::end(kFailOnNames), [&](const auto& f) { return n == f.name; });
    if (it == std::end(kFailOnNames))
      return make_error(fmt::format("--fail-on: unknown category '{}'{} (known: {}, or none)", n,
                                    did_you_mean(n, fail_on_names()), join(fail_on_names(), ", ")));
    out.push_back(it->value);
  }
  return out;
}

std::vector<const OutcomeChange*> new_failures(const DiffResult& d) {
  std::vector<const OutcomeChange*> out;
  for (const auto& c : d.new_cells)
    if (c.after && is_failure(*c.after)) out.push_back(&c);
  return out;
}

namespace {
std::string count_of(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}
bool has(const std::vector<FailOn>& set, FailOn f) { return std::find(set.begin(), set.end(), f) != set.end(); }
}  // namespace

std::vector<std::string> failing(const DiffResult& d, const std::vector<FailOn>& fail_on) {
  std::vector<std::string> out;
  if (has(fail_on, FailOn::kCompat) && !d.regressions.empty())
    out.push_back(count_of(d.regressions.size(), "compatibility regression", "compatibility regressions"));
  if (has(fail_on, FailOn::kNewFailure) && !new_failures(d).empty())
    out.push_back(count_of(new_failures(d).size(), "new failing cell", "new failing cells"));
  if (has(fail_on, FailOn::kPerf) && !d.perf_regressions.empty())
    out.push_back(count_of(d.perf_regressions.size(), "performance regression", "performance regressions"));
  if (has(fail_on, FailOn::kVanished) && !d.vanished.empty())
    out.push_back(count_of(d.vanished.size(), "vanished cell", "vanished cells"));
  return out;
}

// ---- rendering ----

namespace {

std::string outcome_name(const std::optional<Outcome>& o) { return o ? std::string(to_string(*o)) : "–"; }

std::vector<std::string> fail_on_list(const std::vector<FailOn>& fail_on) {
  std::vector<std::string> names;
  for (FailOn f : fail_on)
    for (const auto& n : kFailOnNames)
      if (n.value == f) names.push_back(n.name);
  return names;
}

std::string fail_on_text(const std::vector<FailOn>& fail_on) {
  auto names = fail_on_list(fail_on);
  return names.empty() ? "none" : join(names, ",");
}

std::string method_text(const DiffResult& d) {
  if (d.perf_tested == 0)
    return "one sample per cell on each side: a ratio past the threshold, not a significance test";
  return fmt::format("Mann-Whitney U (one-sided, alpha {}) where both sides have repetitions, a plain ratio elsewhere",
                     d.options.alpha);
}

std::string perf_line(const PerfChange& p) {
  std::string test = p.p_value ? fmt::format("  p={:.3g} (n={}/{})", *p.p_value, p.n_before, p.n_after) : "";
  return fmt::format("{:<9} {} → {}  ×{:.2f}  {}{}", p.measurement, human_value(p.before, p.unit),
                     human_value(p.after, p.unit), p.ratio, p.id, test);
}

void text_changes(const char* title, const std::vector<OutcomeChange>& list, std::ostream& out, bool explain_it) {
  if (list.empty()) return;
  out << fmt::format("\n{} ({}):\n", title, list.size());
  for (const auto& c : list) {
    out << fmt::format("  {} → {}  {}", outcome_name(c.before), outcome_name(c.after), c.id);
    if (!c.cause.empty()) out << "  [" << c.cause << "]";
    if (!c.text.empty()) out << "  " << c.text;
    out << '\n';
    if (explain_it && !c.explanation.empty()) out << "      " << c.explanation << '\n';
  }
}

}  // namespace

void write_diff_text(const DiffResult& d, const std::vector<FailOn>& fail_on, std::ostream& out) {
  out << fmt::format("crossload diff: baseline {} ({} cells) → current {} ({} cells), {} in common\n", d.baseline,
                     d.baseline_cells, d.current, d.current_cells, d.common_cells);
  text_changes("compatibility regressions", d.regressions, out, true);
  text_changes("fixes", d.fixes, out, false);
  text_changes("new cells", d.new_cells, out, true);
  text_changes("vanished cells", d.vanished, out, false);
  text_changes("expected failures, XFAIL", d.xfail, out, false);
  text_changes("unexpected passes, XPASS: the matrix's expectation is stale", d.xpass, out, false);
  out << fmt::format("\nperformance: {} measurements compared, threshold ×{:.2f}; {}\n", d.perf_compared,
                     d.options.threshold, method_text(d));
  if (!d.perf_regressions.empty()) out << fmt::format("performance regressions ({}):\n", d.perf_regressions.size());
  for (const auto& p : d.perf_regressions) out << "  " << perf_line(p) << '\n';
  if (!d.perf_improvements.empty()) out << fmt::format("performance improvements ({}):\n", d.perf_improvements.size());
  for (const auto& p : d.perf_improvements) out << "  " << perf_line(p) << '\n';
  auto reasons = failing(d, fail_on);
  out << '\n';
  if (reasons.empty()) out << fmt::format("result: ok (nothing that --fail-on {} names)\n", fail_on_text(fail_on));
  else out << fmt::format("result: FAIL: {} (--fail-on {})\n", join(reasons, ", "), fail_on_text(fail_on));
}

namespace {

std::string md_code(const std::string& s) {
  std::string out = "`";
  for (char c : s) out += c == '`' ? '\'' : c == '|' ? '/' : c == '\n' ? ' ' : c;
  return out + "`";
}

void md_changes(const char* title, const std::vector<OutcomeChange>& list, std::ostream& out) {
  if (list.empty()) return;
  out << fmt::format("### {} ({})\n\n| cell | before | after | cause | error | meaning |\n|---|---|---|---|---|---|\n",
                     title, list.size());
  for (const auto& c : list) {
    out << fmt::format("| {} | {} | {} | {} | {} | {} |\n", md_code(c.id), outcome_name(c.before), outcome_name(c.after),
                       c.cause.empty() ? "" : md_code(c.cause), c.text.empty() ? "" : md_code(c.text), c.explanation);
  }
  out << '\n';
}

void md_perf(const char* title, const std::vector<PerfChange>& list, std::ostream& out) {
  if (list.empty()) return;
  out << fmt::format("### {} ({})\n\n| cell | measurement | baseline | current | ratio | p |\n|---|---|---|---|---|---|\n",
                     title, list.size());
  for (const auto& p : list)
    out << fmt::format("| {} | {} | {} | {} | ×{:.2f} | {} |\n", md_code(p.id), p.measurement,
                       human_value(p.before, p.unit), human_value(p.after, p.unit), p.ratio,
                       p.p_value ? fmt::format("{:.3g}", *p.p_value) : "–");
  out << '\n';
}

}  // namespace

void write_diff_markdown(const DiffResult& d, const std::vector<FailOn>& fail_on, std::ostream& out) {
  auto reasons = failing(d, fail_on);
  out << "## crossload diff\n\n";
  out << fmt::format("Baseline {} ({} cells) → current {} ({} cells), {} in common.\n\n", md_code(d.baseline),
                     d.baseline_cells, md_code(d.current), d.current_cells, d.common_cells);
  out << (reasons.empty() ? fmt::format("**Result: ok** (nothing that `--fail-on {}` names)\n\n", fail_on_text(fail_on))
                          : fmt::format("**Result: FAIL**: {} (`--fail-on {}`)\n\n", join(reasons, ", "),
                                        fail_on_text(fail_on)));
  md_changes("Compatibility regressions", d.regressions, out);
  md_changes("Fixes", d.fixes, out);
  md_changes("New cells", d.new_cells, out);
  md_changes("Vanished cells", d.vanished, out);
  md_changes("Expected failures (XFAIL)", d.xfail, out);
  md_changes("Unexpected passes (XPASS)", d.xpass, out);
  out << fmt::format("Performance: {} measurements compared, threshold ×{:.2f}; {}.\n\n", d.perf_compared,
                     d.options.threshold, method_text(d));
  md_perf("Performance regressions", d.perf_regressions, out);
  md_perf("Performance improvements", d.perf_improvements, out);
}

namespace {

json changes_json(const std::vector<OutcomeChange>& list) {
  json out = json::array();
  for (const auto& c : list)
    out.push_back({{"id", c.id},
                   {"before", c.before ? json(to_string(*c.before)) : json(nullptr)},
                   {"after", c.after ? json(to_string(*c.after)) : json(nullptr)},
                   {"cause", c.cause.empty() ? json(nullptr) : json(c.cause)},
                   {"message", c.text},
                   {"explanation", c.explanation}});
  return out;
}

json perf_json(const std::vector<PerfChange>& list) {
  json out = json::array();
  for (const auto& p : list)
    out.push_back({{"id", p.id}, {"measurement", p.measurement}, {"unit", p.unit}, {"before", p.before},
                   {"after", p.after}, {"ratio", p.ratio}, {"n_before", p.n_before}, {"n_after", p.n_after},
                   {"p_value", p.p_value ? json(*p.p_value) : json(nullptr)},
                   {"method", p.p_value ? "mann-whitney-u" : "ratio"}});
  return out;
}

}  // namespace

json diff_to_json(const DiffResult& d, const std::vector<FailOn>& fail_on) {
  auto reasons = failing(d, fail_on);
  return {{"diff_schema_version", kDiffSchemaVersion},
          {"baseline", {{"source", d.baseline}, {"cells", d.baseline_cells}}},
          {"current", {{"source", d.current}, {"cells", d.current_cells}}},
          {"common_cells", d.common_cells},
          {"threshold", d.options.threshold},
          {"alpha", d.options.alpha},
          {"regressions", changes_json(d.regressions)},
          {"fixes", changes_json(d.fixes)},
          {"new", changes_json(d.new_cells)},
          {"vanished", changes_json(d.vanished)},
          {"xfail", changes_json(d.xfail)},
          {"xpass", changes_json(d.xpass)},
          {"perf", {{"compared", d.perf_compared}, {"tested", d.perf_tested}, {"method", method_text(d)},
                    {"regressions", perf_json(d.perf_regressions)}, {"improvements", perf_json(d.perf_improvements)}}},
          {"fail_on", fail_on_list(fail_on)},
          {"failed", !reasons.empty()},
          {"reasons", reasons}};
}

}  // namespace crossload
