#include "reports/markdown_reporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "harness/causes/tally.h"
#include "reports/explain.h"
#include "reports/summaries.h"

namespace crossload {

namespace {

using json = nlohmann::json;

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

void write_header(const RunData& d, std::ostream& out) {
  out << fmt::format("# crossload report: {}\n\n", d.run.matrix_path);
  out << fmt::format("Run {} · {} → {} · crossload {} · status {}\n\n", d.run.id, d.run.started_at,
                     d.run.finished_at.empty() ? "(not finished)" : d.run.finished_at, d.run.crossload_version,
                     d.run.status);
  out << "**" << d.cells.size() << " cells**";
  for (const auto& [outcome, n] : outcome_counts(d.cells)) out << fmt::format(" · {} {}", n, to_string(outcome));
  out << "\n\n";
}

std::string pair_cell(const std::vector<const CellRecord*>& cells) {
  std::map<Outcome, std::size_t> counts;
  for (const auto* c : cells) counts[c->outcome]++;
  std::size_t ok = counts[Outcome::kOkExact] + counts[Outcome::kOkTolerance];
  std::string text = fmt::format("{}/{} ok", ok, cells.size());
  for (const auto& [o, n] : counts)
    if (n && o != Outcome::kOkExact && o != Outcome::kOkTolerance) text += fmt::format(", {} {}", n, to_string(o));
  return text;
}

void write_compatibility(const RunData& d, std::ostream& out) {
  auto formats = distinct(d.cells, &CellRecord::format);
  out << "## Compatibility (producer → consumer, per format)\n\n| producer → consumer |";
  for (const auto& f : formats) out << ' ' << f << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < formats.size(); ++i) out << "---|";
  out << '\n';
  for (const auto& [pair, by_format] : group_by_pair(d.cells)) {
    out << "| " << pair.first << " → " << pair.second << " |";
    for (const auto& f : formats) {
      auto it = by_format.find(f);
      out << ' ' << (it == by_format.end() ? std::string("–") : pair_cell(it->second)) << " |";
    }
    out << '\n';
  }
  out << '\n';
}

std::string failure_text(const CellRecord& c) {
  std::string text;
  if (c.detail.contains("error_type")) text += c.detail.value("error_type", "") + ": ";
  if (c.detail.contains("summary")) text += c.detail.value("summary", "");
  else text += c.detail.value("message", "");
  if (text.size() > 300) text = text.substr(0, 297) + "...";
  if (std::string mark = second_opinion_mark(c); !mark.empty()) text += " [" + mark + "]";
  return text;
}

std::string boundary_text(const Cause& c) {
  std::string text = c.boundary.component + ": " + c.boundary.producer + " → " + c.boundary.consumer;
  if (!c.boundary.format.empty()) text += " (" + c.boundary.format + ")";
  return text;
}

std::string cell_list(const std::vector<const CellRecord*>& cells) {
  std::string text;
  for (const auto* c : cells) {
    text += (text.empty() ? "`" : ", `") + c->id + "`";
    if (std::string mark = second_opinion_mark(*c); !mark.empty()) text += " [" + mark + "]";
  }
  return text;
}

// The guide's retrain check of a recipe's cells (run/check --recipe), under their cause.
void write_retrain_checks(const std::vector<const CellRecord*>& cells, std::ostream& out) {
  for (const auto* c : cells)
    if (auto text = retrain_check(*c); !text.empty()) out << fmt::format("  - `{}`: {}\n", c->id, md_escape(text));
}

// Unclassified cells by their error text: what the catalogue does not know yet.
void write_unclassified(const CauseGroup& g, std::ostream& out) {
  std::map<std::string, std::vector<const CellRecord*>> by_text;
  for (const auto* c : g.cells) by_text[std::string(to_string(c->outcome)) + ": " + failure_text(*c)].push_back(c);
  out << fmt::format("- **{}** × {}: no cause in the catalogue (harness/causes/catalogue.toml) matches\n", kUnclassified,
                     g.cells.size());
  for (const auto& [text, cells] : by_text)
    out << fmt::format("  - `{}` × {}: {}\n", md_escape(text), cells.size(), cell_list(cells));
  write_retrain_checks(g.cells, out);
}

// Every cell that is not OK under its cause, unclassified first: the cause id of each cell.
void write_causes(const RunData& d, std::ostream& out) {
  auto groups = group_by_cause(d.cells);
  if (groups.empty()) return;
  out << "## Causes\n\n| cause | cells | boundary | what to do |\n|---|---|---|---|\n";
  for (const auto& g : groups) {
    if (!g.cause) out << fmt::format("| **{}** | {} | – | add a cause to the catalogue |\n", kUnclassified, g.cells.size());
    else out << fmt::format("| `{}` | {} | {} | {} |\n", g.id, g.cells.size(), md_escape(boundary_text(*g.cause)),
                           md_escape(g.cause->fix));
  }
  out << '\n';
  for (const auto& g : groups) {
    if (!g.cause) {
      write_unclassified(g, out);
      continue;
    }
    out << fmt::format("- `{}` × {}: {}\n", g.id, g.cells.size(), md_escape(g.cause->title));
    out << "  <details><summary>cells</summary>" << cell_list(g.cells) << "</details>\n";
    write_retrain_checks(g.cells, out);
  }
  out << '\n';
}

void write_warnings(const RunData& d, std::ostream& out) {
  std::map<std::string, std::size_t> counts;
  for (const auto& c : d.cells)
    for (const auto& w : c.warnings) {
      std::string key = w.category;
      if (w.original_sklearn_version) key += " (original_sklearn_version " + *w.original_sklearn_version + ")";
      counts[key]++;
    }
  if (counts.empty()) return;
  out << "## Warnings while loading\n\n";
  for (const auto& [k, n] : counts) out << fmt::format("- {} × {}\n", k, n);
  out << '\n';
}

void write_costs(const RunData& d, std::ostream& out) {
  auto rows = format_costs(d.cells);
  if (rows.empty()) return;
  out << "## Format costs (medians over the fixtures loaded)\n\n";
  out << "| consumer | format | cells | size | load | predict | peak RSS |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", r.consumer, r.format, r.cells, human_bytes(r.size),
                       human_seconds(r.load), human_seconds(r.predict), human_bytes(r.rss));
  out << '\n';
}

void write_environments(const RunData& d, std::ostream& out) {
  out << "## Environments\n\n| name | status | python | numpy | scikit-learn | byte order | bits | machine | where |\n"
         "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& e : d.envs) {
    const json fp = e.fingerprint.is_object() ? e.fingerprint : json::object();  // none when unavailable
    auto pkg = [&](const char* n) { return package_version(fp, n); };
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", e.name,
                       e.status == "ok" ? "ok" : "unavailable: " + md_escape(e.reason), fp.value("python", "?"),
                       pkg("numpy"), pkg("scikit-learn"), fp.value("byteorder", "?"),
                       fp.contains("pointer_bits") ? fp["pointer_bits"].dump() : "?", fp.value("machine", "?"),
                       md_escape(e.where));
  }
  out << '\n';
}

}  // namespace

void MarkdownReporter::write(const RunData& d, std::ostream& out) const {
  write_header(d, out);
  write_compatibility(d, out);
  write_causes(d, out);
  write_warnings(d, out);
  write_costs(d, out);
  write_environments(d, out);
}

}  // namespace crossload
