#include "reports/html_reporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "formats/registry.h"
#include "harness/causes/classify.h"
#include "harness/causes/tally.h"
#include "harness/util/text.h"
#include "reports/explain.h"
#include "reports/guide.h"
#include "reports/markup.h"
#include "reports/summaries.h"
#include "reports/svg_chart.h"

namespace crossload {

namespace {

using json = nlohmann::json;

std::string esc(std::string_view s) { return html_escape(s); }

std::string count_of(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// ---- colours: one table, so the CSS, the legend and the heatmap agree ----

struct OutcomeStyle {
  Outcome outcome;
  const char* background;
  const char* text;
};

constexpr std::array<OutcomeStyle, 12> kOutcomeStyles{{
    {Outcome::kOkExact, "#2e7d32", "#fff"},      {Outcome::kOkTolerance, "#81c784", "#111"},
    {Outcome::kXfail, "#b0bec5", "#111"},        {Outcome::kUnsupported, "#e0e0e0", "#111"},
    {Outcome::kXpass, "#4fc3f7", "#111"},        {Outcome::kBlocked, "#7e57c2", "#fff"},
    {Outcome::kEnvUnavailable, "#cfd8dc", "#111"}, {Outcome::kMismatch, "#ffb300", "#111"},
    {Outcome::kPredictError, "#f4511e", "#fff"}, {Outcome::kLoadError, "#c62828", "#fff"},
    {Outcome::kTimeout, "#6d4c41", "#fff"},      {Outcome::kCrash, "#212121", "#fff"},
}};

constexpr std::array<const char*, 10> kSeriesColors{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string outcome_class(Outcome o) { return "o-" + std::string(to_string(o)); }

std::string badge(Outcome o) {
  return fmt::format("<span class=\"badge {}\">{}</span>", outcome_class(o), to_string(o));
}

// ---- head ----

constexpr const char* kStyle = R"(
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:12px 0 6px}code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);padding:8px;overflow:auto;white-space:pre-wrap;max-height:320px}
.meta,.note{color:var(--muted)}table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft)}.big{font-size:28px;font-weight:600;margin:8px 0}
.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px}.counts li{padding:2px 8px;border-radius:10px}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;font-weight:600}
.heatmaps{display:flex;flex-wrap:wrap;gap:16px}.heatmap{margin:0;max-width:100%;overflow-x:auto}.heatmap figcaption{font-weight:600;margin-bottom:4px}
td.hm{text-align:center;cursor:pointer;min-width:72px}td.hm:focus,td.hm.selected{outline:3px solid #0969da;outline-offset:-3px}
td.hm small{display:block;font-size:11px}td.hm.na{background:repeating-linear-gradient(45deg,#eceff1,#eceff1 6px,#cfd8dc 6px,#cfd8dc 12px);color:#37474f}
.share-legend{display:inline-block;width:160px;height:12px;vertical-align:middle;background:linear-gradient(90deg,hsl(0,65%,72%),hsl(60,65%,72%),hsl(120,65%,72%))}
#causes-table td{max-width:420px}tr.unclassified th,tr.unclassified td{background:#fff4e5}td.empty{color:var(--muted);text-align:center}
.panel{border:2px solid #0969da;border-radius:6px;padding:8px 12px;margin:12px 0;background:#fff}
.panel-head{display:flex;justify-content:space-between;align-items:center}
article.cell{border-top:1px solid var(--line);padding:6px 0}article.cell h4{margin:4px 0;font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}dt{color:var(--muted)}dd{margin:0}
.charts{display:flex;flex-direction:column;gap:18px}figure.chart-figure{margin:0}figure.chart-figure figcaption{font-weight:600}
svg.chart text{fill:var(--fg)}svg.chart text.value{fill:var(--muted)}
.scroll{overflow-x:auto}ul.evidence{margin:6px 0 0;padding-left:18px}ul.evidence li{margin:2px 0}#guide-table td{max-width:460px}
.ok{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}
)";

void write_outcome_css(std::ostream& out) {
  for (const auto& s : kOutcomeStyles)
    out << fmt::format(".{}{{background:{};color:{}}}\n", outcome_class(s.outcome), s.background, s.text);
}

void write_head(const RunData& d, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out << fmt::format("<title>crossload report: {}</title>\n<style>", esc(d.run.matrix_path));
  out << kStyle;
  write_outcome_css(out);
  out << "</style>\n</head>\n<body>\n";
}

// ---- summary ----

void write_summary(const RunData& d, std::size_t cells, std::size_t formats,
                   const std::map<Outcome, std::size_t>& counts, std::ostream& out) {
  out << "<header>\n<h1>crossload report</h1>\n";
  out << fmt::format("<p class=\"meta\">matrix <code>{}</code> · run {} · {} → {} · crossload {} · status {}</p>\n",
                     esc(d.run.matrix_path), d.run.id, esc(d.run.started_at),
                     esc(d.run.finished_at.empty() ? "(not finished)" : d.run.finished_at),
                     esc(d.run.crossload_version), esc(d.run.status));
  out << "</header>\n<section id=\"summary\">\n";
  out << fmt::format("<p class=\"big\"><span id=\"cells-run\">{}</span> cells run</p>\n", cells);
  out << fmt::format("<p class=\"meta\">{} environments · {} artifacts · {} formats</p>\n", d.envs.size(),
                     d.artifacts.size(), formats);
  out << "<ul class=\"counts\" id=\"outcome-counts\">\n";
  for (const auto& [o, n] : counts)
    out << fmt::format("<li class=\"{}\" data-outcome=\"{}\">{} <b>{}</b></li>\n", outcome_class(o), to_string(o),
                       to_string(o), n);
  out << "</ul>\n</section>\n";
}

// ---- regressions against a baseline ----

void write_change_rows(const std::vector<OutcomeChange>& list, std::ostream& out) {
  out << "<table>\n<tr><th>cell</th><th>baseline</th><th>current</th><th>error</th><th>meaning</th></tr>\n";
  for (const auto& c : list)
    out << fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
                       esc(c.id), c.before ? badge(*c.before) : "–", c.after ? badge(*c.after) : "–", esc(c.text),
                       esc(c.explanation));
  out << "</table>\n";
}

void write_change_list(const char* title, const std::vector<OutcomeChange>& list, bool open, std::ostream& out) {
  if (list.empty()) return;
  out << fmt::format("<details{}><summary><b>{}</b> ({})</summary>\n", open ? " open" : "", title, list.size());
  write_change_rows(list, out);
  out << "</details>\n";
}

void write_perf_rows(const std::vector<PerfChange>& list, std::ostream& out) {
  out << "<table>\n<tr><th>cell</th><th>measurement</th><th>baseline</th><th>current</th><th>ratio</th><th>p</th></tr>\n";
  for (const auto& p : list)
    out << fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>×{:.2f}</td><td>{}</td></tr>\n",
                       esc(p.id), esc(p.measurement), esc(human_value(p.before, p.unit)),
                       esc(human_value(p.after, p.unit)), p.ratio,
                       p.p_value ? fmt::format("{:.3g}", *p.p_value) : "–");
  out << "</table>\n";
}

void write_regressions(const DiffResult& diff, std::ostream& out) {
  auto fresh = new_failures(diff);
  std::size_t bad = diff.regressions.size() + fresh.size() + diff.perf_regressions.size();
  out << "<section id=\"regressions\">\n<h2>Against the baseline</h2>\n";
  out << fmt::format("<p>baseline <code>{}</code> ({} cells) · {} cells in common · <span class=\"{}\">"
                     "compatibility regressions: {} · new failing cells: {} · performance regressions: {}</span></p>\n",
                     esc(diff.baseline), diff.baseline_cells, diff.common_cells, bad ? "fail" : "ok",
                     diff.regressions.size(), fresh.size(), diff.perf_regressions.size());
  write_change_list("Compatibility regressions", diff.regressions, true, out);
  std::vector<OutcomeChange> fresh_list;
  for (const auto* c : fresh) fresh_list.push_back(*c);
  write_change_list("New failing cells", fresh_list, true, out);
  if (!diff.perf_regressions.empty()) {
    out << fmt::format("<details open><summary><b>Performance regressions</b> ({}, threshold ×{:.2f}{})</summary>\n",
                       diff.perf_regressions.size(), diff.options.threshold,
                       diff.perf_tested ? "" : "; one sample per cell: a ratio, not a significance test");
    write_perf_rows(diff.perf_regressions, out);
    out << "</details>\n";
  }
  write_change_list("Fixes", diff.fixes, false, out);
  write_change_list("New cells", diff.new_cells, false, out);
  write_change_list("Vanished cells", diff.vanished, false, out);
  write_change_list("Expected failures (XFAIL)", diff.xfail, false, out);
  write_change_list("Unexpected passes (XPASS)", diff.xpass, false, out);
  out << "</section>\n";
}

// ---- causes: every cell that is not OK under its catalogue cause, unclassified first ----

std::string boundary_html(const Cause& c) {
  std::string text = esc(c.boundary.component) + ": " + esc(c.boundary.producer) + " → " + esc(c.boundary.consumer);
  if (!c.boundary.format.empty()) text += "<br><span class=\"note\">" + esc(c.boundary.format) + "</span>";
  return text;
}

std::string references_html(const Cause& c) {
  std::string html;
  for (const auto& r : c.references) html += fmt::format("<br><a href=\"{0}\">{0}</a>", esc(r));
  return html;
}

std::string cells_html(const std::vector<const CellRecord*>& cells) {
  // The heatmap holds every cell; a whole failing column need not be listed twice in full.
  constexpr std::size_t kListed = 200;
  std::string html = "<details><summary>cells</summary>";
  for (std::size_t i = 0; i < std::min(cells.size(), kListed); ++i)
    html += (i ? ", <code>" : "<code>") + esc(cells[i]->id) + "</code>";
  if (cells.size() > kListed) html += fmt::format(" and {} more", cells.size() - kListed);
  return html + "</details>";
}

std::string affected_html(const CauseGroup& g) {
  auto pairs = affected_pairs(g);
  std::string html = fmt::format("<details><summary>{} producer → consumer pair{}</summary><ul>", pairs.size(),
                                 pairs.size() == 1 ? "" : "s");
  for (const auto& p : pairs) html += "<li>" + esc(p) + "</li>";
  return html + "</ul></details>" + cells_html(g.cells);
}

// Unclassified cells by error text: what the catalogue does not know yet.
std::string unclassified_html(const CauseGroup& g) {
  std::map<std::string, std::vector<const CellRecord*>> by_text;
  for (const auto* c : g.cells) by_text[std::string(to_string(c->outcome)) + ": " + cell_error_text(*c)].push_back(c);
  std::string html = "<ul>";
  for (const auto& [text, cells] : by_text)
    html += fmt::format("<li>× {}: <code>{}</code>{}</li>", cells.size(), esc(text), cells_html(cells));
  return html + "</ul>";
}

void write_causes(const RunData& d, std::ostream& out) {
  auto groups = group_by_cause(d.cells);
  out << "<section id=\"causes\">\n<h2>Causes</h2>\n";
  if (d.cells.empty()) out << "<p class=\"note\">No cells were run.</p>\n</section>\n";
  if (d.cells.empty()) return;
  if (groups.empty()) {
    out << "<p class=\"ok\">Every cell loaded and predicted like its producer.</p>\n</section>\n";
    return;
  }
  CauseCoverage cov = coverage(groups, d.cells.size());
  out << fmt::format("<p class=\"note\">{} cells did not load and predict like their producer; the catalogue of breakage "
                     "causes (docs/causes.md) explains {} of them. Unclassified cells come first: they are what the "
                     "catalogue does not know yet.</p>\n",
                     cov.needing, cov.needing - cov.unclassified);
  out << "<table id=\"causes-table\"><tr><th>cause</th><th>cells</th><th>boundary</th><th>what happens · what to do"
         "</th><th>affected</th></tr>\n";
  for (const auto& g : groups) {
    if (!g.cause) {
      out << fmt::format("<tr class=\"unclassified\" data-cause=\"{0}\"><th>{0}</th><td>{1}</td><td>–</td><td>No cause "
                         "in the catalogue matches these cells.{2}</td><td>{3}</td></tr>\n",
                         kUnclassified, g.cells.size(), unclassified_html(g), affected_html(g));
      continue;
    }
    out << fmt::format("<tr data-cause=\"{0}\"><th><code>{0}</code><br>{1}</th><td>{2}</td><td>{3}</td><td>{4}<br><b>Fix:</b> "
                       "{5}{6}</td><td>{7}</td></tr>\n",
                       esc(g.id), esc(g.cause->title), g.cells.size(), boundary_html(*g.cause), esc(g.cause->what),
                       esc(g.cause->fix), references_html(*g.cause), affected_html(g));
  }
  out << "</table>\n</section>\n";
}

// ---- heatmap cell details ----

std::string json_number(const json& v, const char* fmt_spec = "{:.3g}") {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt::format(fmt::runtime(fmt_spec), v.get<double>());
  return v.is_null() ? "NaN" : v.dump();
}

std::string outputs_text(const json& outputs) {
  std::string text;
  for (const auto& [name, o] : outputs.items()) {
    if (!o.is_object()) continue;
    text += fmt::format("<li><code>{}</code>: {} · max abs {} · max ULP {} · {} of {} beyond tolerance", esc(name),
                        esc(o.value("outcome", std::string("?"))), json_number(o.value("max_abs", json())),
                        json_number(o.value("max_ulp", json())), json_number(o.value("n_beyond_tolerance", json())),
                        json_number(o.value("n_values", json())));
    if (o.contains("dtype_note") && o["dtype_note"].is_string()) text += " · " + esc(o["dtype_note"].get<std::string>());
    text += "</li>";
  }
  return text.empty() ? "" : "<ul>" + text + "</ul>";
}

std::string short_hash(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return "";
  return obj[key].get<std::string>().substr(0, 12);
}

void dd(std::string& html, const char* term, const std::string& value) {
  if (!value.empty()) html += fmt::format("<dt>{}</dt><dd>{}</dd>", term, value);
}

// An inspection record (crossload inspect --format json) that the manifest carries as "audit".
std::string audit_text(const json& audit, std::size_t limit) {
  std::string text = fmt::format("audit verdict <b>{}</b>", esc(audit.value("verdict", std::string("?"))));
  const json findings = audit.value("findings", json::array());
  if (!findings.is_array() || findings.empty()) return text;
  text += "<ul class=\"findings\">";
  for (std::size_t i = 0; i < std::min(limit, findings.size()); ++i) {
    const json& f = findings[i];
    if (!f.is_object()) continue;
    text += fmt::format("<li>{} <code>{}</code> {}</li>", esc(f.value("severity", std::string())),
                        esc(f.value("rule", std::string())), esc(f.value("reason", std::string())));
  }
  if (findings.size() > limit) text += fmt::format("<li>and {} more</li>", findings.size() - limit);
  return text + "</ul>";
}

std::string artifact_facts(const ArtifactRecord& a) {
  if (a.status != "ok") return esc(a.status + (a.reason.empty() ? "" : ": " + a.reason));
  const json& m = a.manifest.is_object() ? a.manifest : json::object();
  const json training = m.value("training", json::object());
  const json fp = m.value("producer_fingerprint", json::object());
  std::string facts = fmt::format("sha256 <code>{}</code> · {} · dumped in {}", esc(a.sha256.substr(0, 16)),
                                  human_bytes(static_cast<double>(a.size_bytes)),
                                  human_seconds(m.value("dump_seconds", 0.0)));
  facts += fmt::format("<br>written by Python {} · numpy {} · scikit-learn {}", esc(fp.value("python", "?")),
                       esc(package_version(fp, "numpy")), esc(package_version(fp, "scikit-learn")));
  if (training.contains("cv_score")) facts += "<br>5-fold CV score " + json_number(training["cv_score"], "{:.4g}");
  if (!short_hash(training, "data_sha256").empty())
    facts += fmt::format(" · training data <code>{}</code> · recipe <code>{}</code>", esc(short_hash(training, "data_sha256")),
                         esc(short_hash(training, "recipe_sha256")));
  if (m.contains("format_details") && !m["format_details"].empty())
    facts += fmt::format("<br>format details <code>{}</code>", esc(m["format_details"].dump()));
  if (m.contains("audit") && m["audit"].is_object()) facts += "<br>" + audit_text(m["audit"], 5);
  return facts;
}

std::string measurements_text(const CellRecord& c) {
  std::string text;
  for (const auto& m : c.measurements) text += fmt::format("{}{} {}", text.empty() ? "" : " · ", esc(m.name), esc(human_value(m.value, m.unit)));
  return text;
}

std::string warnings_text(const CellRecord& c) {
  std::string text;
  for (const auto& w : c.warnings) {
    text += "<li><code>" + esc(w.category) + "</code> " + esc(w.message);
    if (w.original_sklearn_version) text += " (original_sklearn_version " + esc(*w.original_sklearn_version) + ")";
    text += "</li>";
  }
  return text.empty() ? "" : "<ul>" + text + "</ul>";
}

// Text many cells share (an artifact's manifest facts, a traceback) is written once and
// referenced; the script copies it in when details open. A full matrix repeats every artifact in
// each consumer's details, and a whole column of LOAD_ERRORs shares one traceback.
class SharedBlocks {
 public:
  std::string ref(const std::string& html) {
    auto [it, added] = index_.emplace(html, blocks_.size());
    if (added) blocks_.push_back(&it->first);
    return fmt::format("<div data-ref=\"s-{}\"></div>", it->second);
  }
  void write(std::ostream& out) const {
    out << "<div id=\"shared-blocks\" hidden>\n";
    for (std::size_t i = 0; i < blocks_.size(); ++i) out << fmt::format("<div id=\"s-{}\">{}</div>\n", i, *blocks_[i]);
    out << "</div>\n";
  }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<const std::string*> blocks_;  // into index_'s keys, which never move
};

using ArtifactKey = std::tuple<std::string, std::string, std::string>;  // producer, fixture, format

std::map<ArtifactKey, const ArtifactRecord*> index_artifacts(const RunData& d) {
  std::map<ArtifactKey, const ArtifactRecord*> out;
  for (const auto& a : d.artifacts) out[{a.producer, a.fixture, a.format}] = &a;
  return out;
}

std::string cell_article(const CellRecord& c, const ArtifactRecord* artifact, SharedBlocks& shared) {
  std::string html = fmt::format("<article class=\"cell\" data-cell=\"{}\"><h4>{} <code>{}</code></h4><dl>",
                                 esc(c.id), badge(c.outcome), esc(c.id));
  const json& det = c.detail.is_object() ? c.detail : json::object();
  std::string error = cell_error_text(c, 2000);
  dd(html, "error", error.empty() || loaded_ok(c.outcome) ? "" : "<pre>" + esc(error) + "</pre>");
  if (std::string cause = cause_id(c); !cause.empty()) dd(html, "cause", "<code>" + esc(cause) + "</code>");
  dd(html, "meaning", esc(explain(c)));
  if (det.contains("outputs")) dd(html, "difference", outputs_text(det["outputs"]));
  if (det.contains("state_identical"))
    dd(html, "fitted state", det["state_identical"] == true ? "identical to the producer's" : "differs from the producer's");
  if (det.contains("signal")) dd(html, "signal", json_number(det["signal"]));
  dd(html, "second opinion", esc(second_opinion_mark(c)));
  dd(html, "warnings", warnings_text(c));
  dd(html, "measured", measurements_text(c));
  if (artifact) dd(html, "artifact", shared.ref(artifact_facts(*artifact)));
  if (det.contains("traceback") && det["traceback"].is_string() && !det["traceback"].get<std::string>().empty())
    dd(html, "traceback",
       shared.ref("<details><summary>show</summary><pre>" + esc(det["traceback"].get<std::string>()) + "</pre></details>"));
  return html + "</dl></article>\n";
}

// ---- heatmaps ----

struct PairCells {
  std::string id;  // element id of its hidden details
  std::vector<const CellRecord*> cells;
};

// Fixtures the format could not hold (UNSUPPORTED) or that never ran (ENV_UNAVAILABLE) are their
// own state, not failures: a square's share counts only the others.
bool not_applicable(Outcome o) { return o == Outcome::kUnsupported || o == Outcome::kEnvUnavailable; }

// A square from its outcome counts; `details_id` names its hidden details, or is empty on the
// aggregated page, which has none (the square is then no button).
std::string heat_cell(const std::map<Outcome, std::size_t>& counts, const std::string& details_id,
                      const std::string& title) {
  Outcome worst = Outcome::kOkExact;
  std::size_t ok = 0, na = 0, total = 0;
  for (const auto& [o, n] : counts) {
    if (severity(o) > severity(worst)) worst = o;
    ok += loaded_ok(o) ? n : 0, na += not_applicable(o) ? n : 0, total += n;
  }
  if (total == 0) return "<td class=\"empty\">–</td>";
  std::string tip;
  for (const auto& [o, n] : counts) tip += fmt::format("{}{} {}", tip.empty() ? "" : ", ", n, to_string(o));
  std::string button = details_id.empty() ? "" : fmt::format(" tabindex=\"0\" role=\"button\" data-details=\"{}\"", details_id);
  std::string head = fmt::format("<td class=\"hm {}{}\"{} data-title=\"{}\" data-worst=\"{}\" title=\"{}\"",
                                 outcome_class(worst), na == total ? " na" : "", button, esc(title), to_string(worst),
                                 esc(tip));
  if (na == total) return head + fmt::format(" data-share=\"\">–<small>{}</small></td>", to_string(worst));
  std::size_t applicable = total - na;
  double share = static_cast<double>(ok) / applicable;
  auto unsupported = counts.find(Outcome::kUnsupported);
  std::size_t n_unsupported = unsupported == counts.end() ? 0 : unsupported->second;
  std::string note = na ? fmt::format("{} {}", na, na == n_unsupported ? "UNSUPPORTED" : "not run")
                        : loaded_ok(worst) ? "loaded" : std::string(to_string(worst));
  if (na && !loaded_ok(worst) && !not_applicable(worst)) note = std::string(to_string(worst)) + ", " + note;
  // Red (nothing loaded) to green (everything the format can hold loaded like the producer).
  return head + fmt::format(" data-share=\"{:.3f}\" style=\"background:hsl({:.0f},65%,72%);color:#111\">{}/{}<small>{}</small></td>",
                            share, 120.0 * share, ok, applicable, note);
}

// Worst first, so the details open on what needs reading.
void sort_worst_first(std::vector<const CellRecord*>& cells) {
  std::stable_sort(cells.begin(), cells.end(), [](const auto* a, const auto* b) {
    return severity(a->outcome) != severity(b->outcome) ? severity(a->outcome) > severity(b->outcome) : a->id < b->id;
  });
}

void write_legend(std::ostream& out) {
  out << "<p class=\"legend\">";
  for (const auto& s : kOutcomeStyles) out << badge(s.outcome) << ' ';
  out << "</p>\n";
}

using PairKey3 = std::tuple<std::string, std::string, std::string>;  // format, producer, consumer

std::map<PairKey3, std::vector<const CellRecord*>> cells_by_square(const RunData& d) {
  std::map<PairKey3, std::vector<const CellRecord*>> out;
  for (const auto& c : d.cells) out[{c.format, c.producer, c.consumer}].push_back(&c);
  for (auto& [key, cells] : out) sort_worst_first(cells);
  return out;
}

// The hidden details of every square, written after the heatmaps; the script shows one at a time.
struct DetailsWriter {
  std::map<ArtifactKey, const ArtifactRecord*> artifacts;
  SharedBlocks shared;
  std::string html;

  void add(const PairCells& square) {
    html += fmt::format("<div id=\"{}\" class=\"pair-details\">\n", square.id);
    for (const auto* c : square.cells) {
      auto it = artifacts.find({c->producer, c->fixture, c->format});
      html += cell_article(*c, it == artifacts.end() ? nullptr : it->second, shared);
    }
    html += "</div>\n";
  }
};

void write_heatmap(const std::string& format, std::size_t f, const std::vector<std::string>& producers,
                   const std::vector<std::string>& consumers,
                   const std::map<PairKey3, std::vector<const CellRecord*>>& squares, DetailsWriter& details,
                   std::ostream& out) {
  out << fmt::format("<figure class=\"heatmap\" data-format=\"{0}\"><figcaption>{0}</figcaption>\n<table>\n"
                     "<tr><th>producer ↓ consumer →</th>", esc(format));
  for (const auto& c : consumers) out << "<th>" << esc(c) << "</th>";
  out << "</tr>\n";
  for (std::size_t p = 0; p < producers.size(); ++p) {
    out << "<tr><th>" << esc(producers[p]) << "</th>";
    for (std::size_t k = 0; k < consumers.size(); ++k) {
      PairCells square{fmt::format("d-{}-{}-{}", f, p, k), {}};
      if (auto it = squares.find({format, producers[p], consumers[k]}); it != squares.end()) square.cells = it->second;
      std::map<Outcome, std::size_t> counts;
      for (const auto* c : square.cells) counts[c->outcome]++;
      out << heat_cell(counts, square.id, format + ": " + producers[p] + " → " + consumers[k]);
      if (!square.cells.empty()) details.add(square);
    }
    out << "</tr>\n";
  }
  out << "</table></figure>\n";
}

void write_heatmaps(const RunData& d, std::ostream& out) {
  out << "<section id=\"compatibility\">\n<h2>Compatibility per format</h2>\n";
  if (d.cells.empty()) {
    out << "<p class=\"note\">No cells were run: nothing to map.</p>\n</section>\n";
    return;
  }
  out << "<p class=\"note\">Rows: the producer environment; columns: the consumer. A square shows how many of its "
         "fixtures loaded and predicted like the producer, out of those the format could hold, and is coloured by that "
         "share: <span class=\"share-legend\"></span> none … all. Fixtures the format cannot hold (UNSUPPORTED) or "
         "that never ran (ENV_UNAVAILABLE) are their own state, hatched grey when they are all a square holds. Click "
         "a square for its details.</p>\n";
  write_legend(out);
  auto formats = distinct(d.cells, &CellRecord::format);
  auto producers = distinct(d.cells, &CellRecord::producer), consumers = distinct(d.cells, &CellRecord::consumer);
  auto squares = cells_by_square(d);
  DetailsWriter details{index_artifacts(d), {}, {}};
  out << "<div class=\"heatmaps\" id=\"heatmaps\">\n";
  for (std::size_t f = 0; f < formats.size(); ++f) write_heatmap(formats[f], f, producers, consumers, squares, details, out);
  out << "</div>\n";
  out << "<div id=\"details-panel\" class=\"panel\" hidden><div class=\"panel-head\"><h3 id=\"details-title\"></h3>"
         "<button id=\"details-close\" type=\"button\">close</button></div><div id=\"details-body\"></div></div>\n";
  out << "<div id=\"cell-details\" hidden>\n" << details.html << "</div>\n";
  details.shared.write(out);
  out << "</section>\n";
}

// ---- charts ----

struct ChartSpec {
  const char* measurement;
  const char* title;
};

// cold_start and pss come from the benchmarks; their charts appear once a run records them.
constexpr ChartSpec kCharts[] = {
    {"load", "Load time (median over the fixtures that loaded)"},
    {"predict", "Predict time (median)"},
    {"size", "Artifact size (median)"},
    {"rss_peak", "Peak RSS of the loading process (median)"},
    {"cold_start", "Cold start: new process to first prediction (median)"},
    {"pss", "PSS: memory not shared with other processes (median)"},
};

// By the format table's order, so a format keeps its colour from run to run; formats the table
// does not know take the colours after it, in the order the run met them.
std::string format_color(const std::vector<std::string>& run_formats, const std::string& f) {
  auto known = all_formats();
  auto it = std::find_if(known.begin(), known.end(), [&](const FormatInfo& k) { return k.name == f; });
  std::size_t i = static_cast<std::size_t>(it - known.begin());
  if (it == known.end())
    i += static_cast<std::size_t>(std::find(run_formats.begin(), run_formats.end(), f) - run_formats.begin());
  return kSeriesColors[i % kSeriesColors.size()];
}

using MediansOf = std::function<std::vector<MeasurementMedian>(const std::string& measurement)>;

BarChart chart_for(const ChartSpec& spec, const std::vector<std::string>& consumers,
                   const std::vector<MeasurementMedian>& medians, const std::vector<std::string>& formats) {
  BarChart chart{spec.title, {}};
  for (const auto& consumer : consumers) {
    BarGroup group{"consumer " + consumer, {}};
    for (const auto& m : medians) {
      if (m.consumer != consumer) continue;
      std::string value = human_value(m.median, m.unit);
      group.bars.push_back({m.format, m.median, value, format_color(formats, m.format),
                            fmt::format("{} in {}: median {} over {} cells", m.format, consumer, value, m.cells)});
    }
    if (!group.bars.empty()) chart.groups.push_back(std::move(group));
  }
  return chart;
}

// `note`, when not empty, says how the medians were taken (the aggregated page's are approximate).
void write_charts(const std::vector<std::string>& consumers, const std::vector<std::string>& formats,
                  const MediansOf& medians_of, const std::string& note, std::ostream& out) {
  out << "<section id=\"charts\">\n<h2>Costs per consumer environment</h2>\n";
  if (!note.empty()) out << "<p class=\"note\" id=\"charts-note\">" << note << "</p>\n";
  out << "<div class=\"charts\">\n";
  std::size_t drawn = 0;
  for (const auto& spec : kCharts) {
    BarChart chart = chart_for(spec, consumers, medians_of(spec.measurement), formats);
    if (chart.groups.empty()) continue;
    out << fmt::format("<figure class=\"chart-figure\" data-measure=\"{}\"><figcaption>{}</figcaption>\n{}</figure>\n",
                       spec.measurement, esc(spec.title), render_bar_chart(chart));
    drawn++;
  }
  if (drawn == 0) out << "<p class=\"note\">No measurements were recorded: no cell loaded.</p>\n";
  out << "</div>\n</section>\n";
}

// ---- the guide's table ----

std::string pairs_text(const FormatEvidence& e) {
  std::string text;
  for (const auto& [pair, counts] : e.pairs)
    text += fmt::format("{}{} {}/{}", text.empty() ? "" : ", ", esc(pair), counts.second, counts.first);
  return text;
}

std::string pros_evidence(const FormatEvidence& e) {
  if (e.cells == 0) return fmt::format("<li><code>{}</code>: not in this run</li>", esc(e.format));
  std::string li = fmt::format("<li><code>{}</code>: loaded {} of {} ({})", esc(e.format), e.loaded,
                               count_of(e.cells, "cell", "cells"), pairs_text(e));
  for (const auto& [consumer, seconds] : e.median_load)
    li += fmt::format("; median load {} in {}", human_seconds(seconds), esc(consumer));
  if (e.median_size)
    li += fmt::format("; median size {} over {}", human_bytes(*e.median_size), count_of(e.artifacts, "artifact", "artifacts"));
  return li + "</li>";
}

std::string safety_evidence(const FormatEvidence& e, const std::string& family) {
  std::string text;
  if (family == "skops" && e.artifacts)
    text += e.untrusted_types.empty()
                ? fmt::format("; every artifact ({}) loads with skops' default trusted types", e.artifacts)
                : fmt::format("; types to review and trust before loading (in {} of {}): {}",
                              e.artifacts_with_untrusted, count_of(e.artifacts, "artifact", "artifacts"),
                              esc(join(e.untrusted_types, ", ")));
  if (e.min_label_agreement)
    text += fmt::format("; conversion fidelity: labels agree with scikit-learn on {:.1f}% (worst artifact)",
                        *e.min_label_agreement * 100);
  if (e.max_abs_diff) text += fmt::format("; largest difference from scikit-learn {:.3g}", *e.max_abs_diff);
  for (const auto& [verdict, n] : e.audit_verdicts) text += fmt::format("; audit {} × {}", esc(verdict), n);
  return text;
}

std::string cons_evidence(const FormatEvidence& e, const std::string& family) {
  if (e.cells == 0) return "";
  std::string li = fmt::format("<li><code>{}</code>: ", esc(e.format));
  std::string items;
  for (const auto& [o, failure] : e.failures)
    items += fmt::format("{}{} × {} (<code>{}</code>)", items.empty() ? "" : "; ", to_string(o), failure.first,
                         esc(failure.second));
  if (!e.unsupported_fixtures.empty())
    items += fmt::format("{}could not persist {}", items.empty() ? "" : "; ", esc(join(e.unsupported_fixtures, ", ")));
  if (items.empty()) items = "no failure in this run";
  return li + items + safety_evidence(e, family) + "</li>";
}

void write_guide(const RunData& d, std::ostream& out) {
  out << "<section id=\"guide\">\n<h2>Which persistence method? The guide's table, with this run's evidence</h2>\n"
         "<table id=\"guide-table\">\n<thead><tr><th>Persistence method</th><th>Pros</th><th>Risks / Cons</th></tr>"
         "</thead>\n<tbody>\n";
  for (const auto& row : guide_rows(d)) {
    std::string family = row.formats.empty() ? row.method : format_family(row.formats.front().format);
    std::string pros, cons;
    for (const auto& e : row.formats) pros += pros_evidence(e), cons += cons_evidence(e, family);
    if (row.formats.empty()) pros = "<li>not in this run</li>";
    out << fmt::format("<tr class=\"{}\" data-method=\"{}\"><th>{}</th><td><p>{}</p><ul class=\"evidence\">{}</ul></td>"
                       "<td><p>{}</p><ul class=\"evidence\">{}</ul></td></tr>\n",
                       row.formats.empty() ? "not-run" : "filled", esc(family), esc(row.method), esc(row.pros), pros,
                       esc(row.cons), cons);
  }
  out << "</tbody>\n</table>\n</section>\n";
}

// ---- audit ----

void write_audit(const RunData& d, std::ostream& out) {
  out << "<section id=\"audit\">\n<h2>Audit of the artifacts</h2>\n";
  std::map<std::string, std::map<std::string, std::size_t>> verdicts;  // format → verdict → artifacts
  std::vector<const ArtifactRecord*> flagged;
  for (const auto& a : d.artifacts) {
    if (!a.manifest.is_object() || !a.manifest.contains("audit") || !a.manifest["audit"].is_object()) continue;
    std::string verdict = a.manifest["audit"].value("verdict", std::string("?"));
    verdicts[a.format][verdict]++;
    if (verdict != "SAFE") flagged.push_back(&a);
  }
  if (verdicts.empty()) {
    out << "<p class=\"note\">No artifact of this run carries an audit record.</p>\n</section>\n";
    return;
  }
  out << "<table id=\"audit-table\">\n<tr><th>format</th><th>SAFE</th><th>UNTRUSTED</th><th>UNSAFE</th></tr>\n";
  for (const auto& [format, counts] : verdicts) {
    auto n = [&](const char* v) { auto it = counts.find(v); return it == counts.end() ? 0 : it->second; };
    out << fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", esc(format), n("SAFE"),
                       n("UNTRUSTED"), n("UNSAFE"));
  }
  out << "</table>\n";
  if (!flagged.empty()) out << "<ul class=\"flagged\">\n";
  for (const auto* a : flagged)
    out << fmt::format("<li><code>{}/{}/{}</code>: {}</li>\n", esc(a->producer), esc(a->fixture), esc(a->format),
                       audit_text(a->manifest["audit"], 5));
  if (!flagged.empty()) out << "</ul>\n";
  out << "</section>\n";
}

// ---- environments ----

// The stack's columns, then the libraries (formats/*/descriptor.cc) of the guide's formats and
// of any other format the run holds.
std::vector<std::string> package_columns(const RunData& d) {
  std::vector<std::string> out{"numpy", "scipy", "scikit-learn"};
  for (const auto* f : all_descriptors()) {
    if (f->guide_rank == 0 && !run_holds_family(d, f->name)) continue;
    for (const auto& p : f->packages)
      if (p.use == PackageUse::kLibrary && std::find(out.begin(), out.end(), p.dist) == out.end())
        out.emplace_back(p.dist);
  }
  return out;
}

void write_environments(const RunData& d, std::ostream& out) {
  out << "<section id=\"environments\">\n<h2>Environments</h2>\n";
  if (d.envs.empty()) {
    out << "<p class=\"note\">No environment recorded.</p>\n</section>\n";
    return;
  }
  out << "<div class=\"scroll\"><table id=\"env-table\">\n<tr><th>name</th><th>status</th><th>python</th>";
  const std::vector<std::string> packages = package_columns(d);
  for (const auto& p : packages) out << "<th>" << p << "</th>";
  out << "<th>byte order</th><th>bits</th><th>machine</th><th>where</th><th>fingerprint</th></tr>\n";
  for (const auto& e : d.envs) {
    const json& fp = e.fingerprint.is_object() ? e.fingerprint : json::object();
    out << fmt::format("<tr><td><b>{}</b><br><span class=\"note\">{}</span></td><td>{}</td><td>{}</td>", esc(e.name),
                       esc(e.provider), e.status == "ok" ? "ok" : "<span class=\"fail\">unavailable</span>: " + esc(e.reason),
                       esc(fp.value("python", "?")));
    for (const auto& p : packages) out << "<td>" << esc(package_version(fp, p)) << "</td>";
    out << fmt::format("<td>{}</td><td>{}</td><td>{}</td><td>{}</td>", esc(fp.value("byteorder", "?")),
                       fp.contains("pointer_bits") ? esc(fp["pointer_bits"].dump()) : "?", esc(fp.value("machine", "?")),
                       esc(e.where));
    out << "<td><details><summary>show</summary><pre>" << esc(fp.dump(2)) << "</pre></details></td></tr>\n";
  }
  out << "</table></div>\n</section>\n";
}

// ---- the script: opening a heatmap square's details is all it does ----

constexpr const char* kScript = R"(
(function () {
  'use strict';
  var panel = document.getElementById('details-panel');
  function show(cell) {
    var source = document.getElementById(cell.getAttribute('data-details'));
    if (!panel || !source) return;
    var copy = source.cloneNode(true);
    copy.removeAttribute('id');
    copy.querySelectorAll('[data-ref]').forEach(function (slot) {
      var shared = document.getElementById(slot.getAttribute('data-ref'));
      if (shared) slot.replaceChildren.apply(slot, Array.from(shared.cloneNode(true).childNodes));
    });
    document.getElementById('details-body').replaceChildren(copy);
    document.getElementById('details-title').textContent = cell.getAttribute('data-title');
    document.querySelectorAll('td.hm.selected').forEach(function (td) { td.classList.remove('selected'); });
    cell.classList.add('selected');
    panel.hidden = false;
    panel.scrollIntoView({block: 'nearest'});
  }
  document.querySelectorAll('td.hm[data-details]').forEach(function (cell) {
    cell.addEventListener('click', function () { show(cell); });
    cell.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); show(cell); }
    });
  });
  var close = document.getElementById('details-close');
  if (close) close.addEventListener('click', function () { panel.hidden = true; });
  document.documentElement.setAttribute('data-script', 'ready');
})();
)";

void write_tail(std::ostream& out) {
  out << "<footer class=\"note\"><p>Generated by crossload. Outcomes, their meanings and this page's sections are "
         "described in docs/reports.md.</p></footer>\n<script>"
      << kScript << "</script>\n</body>\n</html>\n";
}

// ---- the aggregated page: what a run too large for a page of every cell leaves in tallies ----

constexpr std::size_t kListedIds = 200;  // cell ids kept per cause and per error text

// Cells sharing a cause (or, unclassified, an error text): how many, the pairs they span with
// their formats, and the first ids met.
// Keys of names ordered as std::less orders them, looked up by references to a cell's names: a
// million cells are counted without copying their names into a key each.
struct ByNames {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::apply([](const auto&... x) { return std::tie(x...); }, a) <
           std::apply([](const auto&... x) { return std::tie(x...); }, b);
  }
};

// The entry of `key` (a tuple of references), made with a copy of the names when first met.
template <class Map, class... Names>
typename Map::mapped_type& entry(Map& map, const Names&... names) {
  auto it = map.find(std::tie(names...));
  if (it == map.end()) it = map.emplace(typename Map::key_type{names...}, typename Map::mapped_type{}).first;
  return it->second;
}

struct CauseTally {
  std::size_t cells = 0;
  std::map<PairKey, std::vector<std::string>, ByNames> pair_formats;
  std::vector<std::string> ids;

  void add(const CellRecord& c) {
    cells++;
    add_distinct(entry(pair_formats, c.producer, c.consumer), c.format);
    if (ids.size() < kListedIds) ids.push_back(c.id);
  }
};

std::string tally_cells_html(const CauseTally& t) {
  std::string html = "<details><summary>cells</summary>";
  for (std::size_t i = 0; i < t.ids.size(); ++i) html += (i ? ", <code>" : "<code>") + esc(t.ids[i]) + "</code>";
  if (t.cells > t.ids.size()) html += fmt::format(" and {} more", t.cells - t.ids.size());
  return html + "</details>";
}

std::string tally_affected_html(const CauseTally& t) {
  std::string html = fmt::format("<details><summary>{} producer → consumer pair{}</summary><ul>", t.pair_formats.size(),
                                 t.pair_formats.size() == 1 ? "" : "s");
  for (const auto& [pair, formats] : t.pair_formats)
    html += "<li>" + esc(pair.first + " → " + pair.second + " (" + join(formats, ", ") + ")") + "</li>";
  return html + "</ul></details>" + tally_cells_html(t);
}

// The median of values seen one at a time, in bounded memory: each value counted in a bucket
// 1 % wide on a log scale, so the median is within 0.5 % of the exact one whatever the count.
class MedianHistogram {
 public:
  void add(double v) {
    n_++;
    buckets_[v > 0 ? static_cast<int>(std::floor(std::log(v) / kLogStep)) : kZero]++;
  }
  std::size_t count() const { return n_; }
  double median() const {
    std::vector<std::pair<int, std::size_t>> sorted(buckets_.begin(), buckets_.end());
    std::sort(sorted.begin(), sorted.end());
    std::size_t seen = 0, rank = (n_ - 1) / 2;  // the lower median's rank
    for (const auto& [bucket, n] : sorted)
      if ((seen += n) > rank) return bucket == kZero ? 0 : std::exp((bucket + 0.5) * kLogStep);
    return 0;
  }

 private:
  static constexpr int kZero = std::numeric_limits<int>::min();
  static constexpr double kLogStep = 0.00995033085;  // log(1.01)
  std::size_t n_ = 0;
  // Hashed, sorted only for the median: a tree's walk missed the cache at every level, a cell
  // of a million at a time (the most expensive line of the HTML report).
  std::unordered_map<int, std::size_t> buckets_;
};

class RunTally {
 public:
  void add(const CellRecord& c, const std::string& id) {
    cells_++;
    const std::size_t format = formats_.add(c.format), producer = producers_.add(c.producer),
                      consumer = consumers_.add(c.consumer);
    add_charts(c, consumer, format);
    counts_[c.outcome]++;
    squares_[pack({format, producer, consumer})][c.outcome]++;
    if (id.empty()) return;
    causes_[id].add(c);
    if (id != kUnclassified) return;
    std::string text = std::string(to_string(c.outcome)) + ": " + cell_error_text(c);
    // Error texts can be as many as the cells (a path, an address in each): past kListedIds
    // distinct texts the rest are counted together.
    if (unclassified_texts_.size() >= kListedIds && !unclassified_texts_.count(text)) text = "(other error texts)";
    unclassified_texts_[text].add(c);
  }

  void write(const RunData& head, const std::optional<DiffResult>& diff, std::ostream& out) const {
    write_head(head, out);
    write_summary(head, cells_, formats_.names().size(), counts_, out);
    out << "<p class=\"note\" id=\"aggregated-notice\"><b>This run has too many cells for a page of every cell</b>: "
           "this page is drawn from counts gathered as the cells passed. A heatmap square shows its counts but opens "
           "no details, a cause lists at most "
        << kListedIds
        << " of its cells, the charts' medians are approximate and the guide's table is left out. The cells themselves are in "
           "results.json, junit.xml and the results store (<code>crossload report</code>, <code>crossload diff</code>)."
           "</p>\n";
    if (diff) write_regressions(*diff, out);
    write_heatmaps(out);
    write_causes(out);
    write_charts(consumers_.names(), formats_.names(), [this](const std::string& name) { return medians(name); },
                 "Medians counted as the cells passed, each within 0.5 % of the exact median.", out);
    write_audit(head, out);
    write_environments(head, out);
    write_tail(out);
  }

 private:
  void write_heatmaps(std::ostream& out) const {
    out << "<section id=\"compatibility\">\n<h2>Compatibility per format</h2>\n";
    out << "<p class=\"note\">Rows: the producer environment; columns: the consumer. A square shows how many of its "
           "fixtures loaded and predicted like the producer, out of those the format could hold, coloured by that "
           "share: <span class=\"share-legend\"></span> none … all; hover for its outcome counts.</p>\n";
    write_legend(out);
    out << "<div class=\"heatmaps\" id=\"heatmaps\">\n";
    const std::map<Outcome, std::size_t> none;
    const auto &formats = formats_.names(), &producers = producers_.names(), &consumers = consumers_.names();
    for (std::size_t f = 0; f < formats.size(); ++f) {
      out << fmt::format("<figure class=\"heatmap\" data-format=\"{0}\"><figcaption>{0}</figcaption>\n<table>\n"
                         "<tr><th>producer ↓ consumer →</th>", esc(formats[f]));
      for (const auto& c : consumers) out << "<th>" << esc(c) << "</th>";
      out << "</tr>\n";
      for (std::size_t p = 0; p < producers.size(); ++p) {
        out << "<tr><th>" << esc(producers[p]) << "</th>";
        for (std::size_t c = 0; c < consumers.size(); ++c) {
          auto it = squares_.find(pack({f, p, c}));
          out << heat_cell(it == squares_.end() ? none : it->second, "",
                           formats[f] + ": " + producers[p] + " → " + consumers[c]);
        }
        out << "</tr>\n";
      }
      out << "</table></figure>\n";
    }
    out << "</div>\n</section>\n";
  }

  void write_causes(std::ostream& out) const {
    out << "<section id=\"causes\">\n<h2>Causes</h2>\n";
    if (causes_.empty()) {
      out << "<p class=\"ok\">Every cell loaded and predicted like its producer.</p>\n</section>\n";
      return;
    }
    std::size_t needing = 0;
    for (const auto& [id, t] : causes_) needing += t.cells;
    auto unclassified = causes_.find(std::string(kUnclassified));
    std::size_t n_unclassified = unclassified == causes_.end() ? 0 : unclassified->second.cells;
    out << fmt::format("<p class=\"note\">{} cells did not load and predict like their producer; the catalogue of breakage "
                       "causes (docs/causes.md) explains {} of them. Unclassified cells come first.</p>\n",
                       needing, needing - n_unclassified);
    out << "<table id=\"causes-table\"><tr><th>cause</th><th>cells</th><th>boundary</th><th>what happens · what to do"
           "</th><th>affected</th></tr>\n";
    if (unclassified != causes_.end()) {
      std::string texts = "<ul>";
      for (const auto& [text, t] : unclassified_texts_)
        texts += fmt::format("<li>× {}: <code>{}</code>{}</li>", t.cells, esc(text), tally_cells_html(t));
      out << fmt::format("<tr class=\"unclassified\" data-cause=\"{0}\"><th>{0}</th><td>{1}</td><td>–</td><td>No cause "
                         "in the catalogue matches these cells.{2}</ul></td><td>{3}</td></tr>\n",
                         kUnclassified, n_unclassified, texts, tally_affected_html(unclassified->second));
    }
    std::vector<std::pair<std::string, const CauseTally*>> known;
    for (const auto& [id, t] : causes_)
      if (id != kUnclassified) known.emplace_back(id, &t);
    std::stable_sort(known.begin(), known.end(), [](const auto& a, const auto& b) { return a.second->cells > b.second->cells; });
    for (const auto& [id, t] : known) {
      const Cause* cause = builtin_catalogue().find(id);
      if (!cause) continue;
      out << fmt::format("<tr data-cause=\"{0}\"><th><code>{0}</code><br>{1}</th><td>{2}</td><td>{3}</td><td>{4}<br><b>Fix:"
                         "</b> {5}{6}</td><td>{7}</td></tr>\n",
                         esc(id), esc(cause->title), t->cells, boundary_html(*cause), esc(cause->what), esc(cause->fix),
                         references_html(*cause), tally_affected_html(*t));
    }
    out << "</table>\n</section>\n";
  }

  // Each chart's value of the cell: the median of its samples (measurement_samples' values), one
  // value per cell as on the whole page; the unit is that of the first measurement of the name.
  void add_charts(const CellRecord& c, std::uint64_t consumer, std::uint64_t format) {
    ChartTallies* charts = nullptr;
    for (std::size_t i = 0; i < std::size(kCharts); ++i) {
      samples_.clear();
      const Measurement* first = nullptr;
      for (const auto& m : c.measurements) {
        if (m.name != kCharts[i].measurement) continue;
        if (!first) first = &m;
        if (std::isfinite(m.value) && m.value >= 0) samples_.push_back(m.value);
      }
      if (samples_.empty()) continue;
      if (!charts) charts = &medians_[pack({consumer, format})];
      auto& [unit, histogram] = (*charts)[i];
      unit = first->unit;
      histogram.add(samples_.size() == 1 ? samples_[0] : median(samples_));
    }
  }

  // In the order measurement_medians gives them: by consumer, then format.
  std::vector<MeasurementMedian> medians(const std::string& measurement) const {
    std::size_t chart = 0;
    while (chart < std::size(kCharts) && kCharts[chart].measurement != measurement) ++chart;
    std::vector<MeasurementMedian> out;
    if (chart == std::size(kCharts)) return out;
    for (const auto& [key, charts] : medians_)
      if (const auto& [unit, m] = charts[chart]; m.count())
        out.push_back({consumers_.names()[unpack(key, 1)], formats_.names()[unpack(key, 0)], unit, m.count(), m.median()});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.consumer, a.format) < std::tie(b.consumer, b.format);
    });
    return out;
  }

  // Per kCharts entry: the unit and the histogram of each cell's median (count 0: not measured).
  using ChartTallies = std::array<std::pair<std::string, MedianHistogram>, std::size(kCharts)>;

  std::size_t cells_ = 0;
  std::map<Outcome, std::size_t> counts_;
  std::unordered_map<std::uint64_t, ChartTallies> medians_;  // by pack({consumer, format})
  std::vector<double> samples_;  // of the cell being added, reused
  // Up to three name indices (DistinctNames) in one hash key, 21 bits each, the last lowest.
  static constexpr unsigned kIndexBits = 21;
  static std::uint64_t pack(std::initializer_list<std::uint64_t> indices) {
    std::uint64_t key = 0;
    for (std::uint64_t i : indices) key = key << kIndexBits | i;
    return key;
  }
  // The index `from_last` places before the last one packed (0: the last).
  static std::size_t unpack(std::uint64_t key, unsigned from_last) {
    return (key >> (from_last * kIndexBits)) & ((std::uint64_t{1} << kIndexBits) - 1);
  }

  DistinctNames formats_, producers_, consumers_;  // in the order met
  std::unordered_map<std::uint64_t, std::map<Outcome, std::size_t>> squares_;  // by pack({format, producer, consumer})
  std::map<std::string, CauseTally> causes_;
  std::map<std::string, CauseTally> unclassified_texts_;
};

// The whole page while the run is small: the cells are kept as they pass. Past `limit` cells the
// run is too large for a page of every cell (and for memory): the kept cells go into tallies and
// so does every later cell. A run whose head says it has more cells (a store counts them) goes
// into tallies from its first cell, and none is kept.
class HtmlSink : public ReportSink {
 public:
  HtmlSink(const RunData& head, std::ostream& out, const HtmlReporter& reporter, std::optional<DiffResult> diff,
           std::size_t limit)
      : head_(head), out_(out), reporter_(reporter), diff_(std::move(diff)), limit_(limit) {
    if (head.cell_count > limit_) tally_ = std::make_unique<RunTally>();
  }
  Status add(const CellRecord& c, const std::string& cause) override {
    if (tally_) {
      tally_->add(c, cause);
      return ok_status();
    }
    cells_.push_back(c);
    causes_.push_back(cause);
    if (cells_.size() > limit_) {
      tally_ = std::make_unique<RunTally>();
      for (std::size_t i = 0; i < cells_.size(); ++i) tally_->add(cells_[i], causes_[i]);
      std::vector<CellRecord>().swap(cells_);
      std::vector<std::string>().swap(causes_);
    }
    return ok_status();
  }
  Status finish() override {
    if (tally_) {
      tally_->write(head_, diff_, out_);
      return ok_status();
    }
    RunData whole{head_.run, head_.envs, head_.artifacts, std::move(cells_)};
    reporter_.render(whole, out_);
    return ok_status();
  }

 private:
  const RunData& head_;
  std::ostream& out_;
  const HtmlReporter& reporter_;
  std::optional<DiffResult> diff_;
  std::size_t limit_;
  std::vector<CellRecord> cells_;
  std::vector<std::string> causes_;  // of cells_, for the tally if the run turns out large
  std::unique_ptr<RunTally> tally_;
};

}  // namespace

std::unique_ptr<ReportSink> HtmlReporter::sink(const RunData& head, std::ostream& out) const {
  return std::make_unique<HtmlSink>(head, out, *this, diff_, whole_page_limit_);
}

void HtmlReporter::render(const RunData& d, std::ostream& out) const {
  write_head(d, out);
  write_summary(d, d.cells.size(), distinct(d.cells, &CellRecord::format).size(), outcome_counts(d.cells), out);
  if (diff_) write_regressions(*diff_, out);
  write_heatmaps(d, out);
  write_causes(d, out);
  write_charts(distinct(d.cells, &CellRecord::consumer), distinct(d.cells, &CellRecord::format),
               [&](const std::string& name) { return measurement_medians(d.cells, name); }, "", out);
  write_guide(d, out);
  write_audit(d, out);
  write_environments(d, out);
  write_tail(out);
}

}  // namespace crossload
