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
#include <unordered_map>

#include "harness/causes/classify.h"
#include "harness/store/store.h"
#include "harness/util/text.h"
#include "reports/explain.h"
#include "reports/mann_whitney.h"
#include "reports/results_json.h"
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

Result<int64_t> resolve_run(const Store& store, const StoreSpec& spec) {
  if (spec.run_id) return spec.run_id;
  auto latest = store.latest_run();
  if (!latest) return latest.error();
  if (!*latest) return make_error(fmt::format("{}: no run recorded in this results store", spec.path));
  return (*latest)->id;
}

Result<ResultsSource> read_store_run(const Store& store, const StoreSpec& spec) {
  auto id = resolve_run(store, spec);
  if (!id) return id.error();
  auto data = load_run_data(store, *id);
  if (!data) return data.error();
  return ResultsSource{fmt::format("{}#{}", spec.path, *id), std::move(*data)};
}

Result<CellStream> store_stream(std::shared_ptr<const Store> store, const StoreSpec& spec) {
  auto id = resolve_run(*store, spec);
  if (!id) return id.error();
  if (auto run = store->run(*id); !run) return run.error();
  return CellStream{fmt::format("{}#{}", spec.path, *id),
                    [store, run_id = *id](const CellVisitor& visit) { return store->for_each_cell(run_id, visit); },
                    [store, run_id = *id](const std::vector<std::string>& ids, const CellVisitor& visit) {
                      return store->for_each_cell_of(run_id, ids, visit);
                    },
                    [store, run_id = *id](const CellVisitor& visit) {
                      return store->for_each_cell(run_id, visit, CellDetail::kSkipped);
                    }};
}

CellStream json_stream(const std::string& path) {
  return {path, [path](const CellVisitor& visit) { return stream_results_json(path, visit); }};
}

Result<ResultsSource> read_results_json(const std::string& path) {
  auto data = read_results_json_data(path);
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
OutcomeChange change(std::optional<Outcome> before, std::optional<Outcome> after, const CellRecord& shown) {
  return {shown.id, before, after, cell_error_text(shown), explain(shown), cause_id(shown)};
}

// What the diff keeps of a baseline cell between the passes: a few bytes and the samples of the
// compared measurements, not the cell.
struct Before {
  Outcome outcome = Outcome::kOkExact;
  bool seen = false;  // matched by a current cell
  std::vector<std::pair<uint8_t, double>> samples;  // (index in options.measurements, value)
};

Before summarize(const CellRecord& c, const DiffOptions& options) {
  Before b{c.outcome, false, {}};
  for (std::size_t i = 0; i < options.measurements.size(); ++i)
    for (double v : measurement_samples(c, options.measurements[i])) b.samples.emplace_back(i, v);
  return b;
}

std::vector<double> samples_of(const Before& b, std::size_t index) {
  std::vector<double> out;
  for (const auto& [i, v] : b.samples)
    if (i == index) out.push_back(v);
  return out;
}

std::optional<PerfChange> compare_measurement(const std::vector<double>& before, const std::vector<double>& after,
                                              const CellRecord& c, const std::string& name) {
  if (before.empty() || after.empty()) return std::nullopt;
  PerfChange p{c.id, name, first_measurement(c, name)->unit, median(before), median(after), 0, before.size(), after.size(),
               std::nullopt};
  if (p.before <= 0 || p.after <= 0) return std::nullopt;  // a zero cannot be a ratio's base
  p.ratio = p.after / p.before;
  return p;
}

// With one sample a side all that can be said is the ratio; with repetitions, the ratio must
// also be significant (one-sided Mann-Whitney U in the direction of the change).
void judge_perf(const std::vector<double>& before, const CellRecord& c, const std::string& name, DiffResult& r) {
  auto after = measurement_samples(c, name);
  auto p = compare_measurement(before, after, c, name);
  if (!p) return;
  r.perf_compared++;
  bool slower = p->ratio > r.options.threshold, faster = p->ratio < 1 / r.options.threshold;
  if (!slower && !faster) return;
  if (before.size() >= 2 && after.size() >= 2) {
    r.perf_tested++;
    auto test = slower ? mann_whitney_greater(before, after) : mann_whitney_greater(after, before);
    p->p_value = test->p_value;
    if (test->p_value >= r.options.alpha) return;
  }
  (slower ? r.perf_regressions : r.perf_improvements).push_back(*p);
}

// The three passes of a diff: the baseline summarised, the current run compared against it, and
// the baseline again for the text of what only it can explain (fixes, vanished cells).
class StreamingDiff {
 public:
  explicit StreamingDiff(DiffResult& r) : r_(r) {}

  Status remember(const CellRecord& c) {
    r_.baseline_cells++;
    before_[c.id] = summarize(c, r_.options);
    return ok_status();
  }

  Status compare(const CellRecord& c) {
    r_.current_cells++;
    auto it = before_.find(c.id);
    Before* b = it == before_.end() || it->second.seen ? nullptr : &it->second;
    std::optional<Outcome> was = b ? std::optional<Outcome>(b->outcome) : std::nullopt;
    if (c.outcome == Outcome::kXfail) r_.xfail.push_back(change(was, c.outcome, c));
    if (c.outcome == Outcome::kXpass) r_.xpass.push_back(change(was, c.outcome, c));
    if (!b) return r_.new_cells.push_back(change(std::nullopt, c.outcome, c)), ok_status();
    r_.common_cells++;
    b->seen = true;
    diff_outcome(*b, c);
    for (std::size_t i = 0; i < r_.options.measurements.size(); ++i)
      judge_perf(samples_of(*b, i), c, r_.options.measurements[i], r_);
    return ok_status();
  }

  bool needs_baseline_again() const { return !fixes_.empty() || r_.common_cells < before_.size(); }

  // The ids explain_baseline needs: the fixes' and the baseline cells no current cell matched.
  std::vector<std::string> baseline_ids_to_explain() const {
    std::vector<std::string> ids;
    for (const auto& [id, index] : fixes_) ids.push_back(id);
    for (const auto& [id, b] : before_)
      if (!b.seen) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Status explain_baseline(const CellRecord& c) {
    if (auto f = fixes_.find(c.id); f != fixes_.end()) {
      OutcomeChange& fix = r_.fixes[f->second];
      fix = change(fix.before, fix.after, c);
    }
    if (auto it = before_.find(c.id); it != before_.end() && !it->second.seen)
      vanished_[c.id] = change(c.outcome, std::nullopt, c);  // a repeated id: the last one, as remember() keeps
    return ok_status();
  }

  void finish() {
    for (auto& [id, v] : vanished_) r_.vanished.push_back(std::move(v));
    auto by_ratio = [](const PerfChange& x, const PerfChange& y) { return x.ratio > y.ratio; };
    std::stable_sort(r_.perf_regressions.begin(), r_.perf_regressions.end(), by_ratio);
    std::stable_sort(r_.perf_improvements.rbegin(), r_.perf_improvements.rend(), by_ratio);
  }

 private:
  void diff_outcome(const Before& b, const CellRecord& c) {
    // An expected failure is the matrix's decision, not a regression; XPASS says the expectation is stale.
    if (c.outcome == Outcome::kXfail || c.outcome == Outcome::kXpass) return;
    if (severity(c.outcome) > severity(b.outcome)) r_.regressions.push_back(change(b.outcome, c.outcome, c));
    else if (severity(c.outcome) < severity(b.outcome)) {
      fixes_[c.id] = r_.fixes.size();  // its text is the baseline's: filled by explain_baseline
      r_.fixes.push_back({c.id, b.outcome, c.outcome, "", "", ""});
    }
  }

  DiffResult& r_;
  std::unordered_map<std::string, Before> before_;
  std::unordered_map<std::string, std::size_t> fixes_;  // id -> index in r_.fixes
  std::map<std::string, OutcomeChange> vanished_;       // sorted by id
};

}  // namespace

CellStream stream_of(const ResultsSource& source) {
  return {source.label, [&source](const CellVisitor& visit) {
            for (const auto& c : source.data.cells)
              if (auto st = visit(c); !st) return st;
            return ok_status();
          }};
}

Result<DiffResult> diff_streams(const CellStream& baseline, const CellStream& current, const DiffOptions& options) {
  DiffResult r;
  r.baseline = baseline.label, r.current = current.label, r.options = options;
  StreamingDiff d(r);
  auto remember = [&](const CellRecord& c) { return d.remember(c); };
  if (auto st = (baseline.summaries ? baseline.summaries : baseline.for_each)(remember); !st) return st.error();
  if (auto st = current.for_each([&](const CellRecord& c) { return d.compare(c); }); !st) return st.error();
  if (d.needs_baseline_again()) {
    auto explain = [&](const CellRecord& c) { return d.explain_baseline(c); };
    auto st = baseline.some ? baseline.some(d.baseline_ids_to_explain(), explain) : baseline.for_each(explain);
    if (!st) return st.error();
  }
  d.finish();
  return r;
}

DiffResult diff_runs(const ResultsSource& baseline, const ResultsSource& current, const DiffOptions& options) {
  return std::move(diff_streams(stream_of(baseline), stream_of(current), options)).value();  // memory cannot fail
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
