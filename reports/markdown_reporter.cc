#include "reports/markdown_reporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

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
  return text;
}

void write_failures(const RunData& d, std::ostream& out) {
  // Identical failures (same outcome, text and meaning) are told once, with the cells they hit.
  std::map<std::tuple<int, std::string, std::string>, std::vector<std::string>> groups;
  for (const auto& c : d.cells) {
    if (c.outcome == Outcome::kOkExact || c.outcome == Outcome::kOkTolerance) continue;
    groups[{severity(c.outcome), failure_text(c), explain(c)}].push_back(c.id);
  }
  if (groups.empty()) return;
  out << "## What did not load or predict identically\n\n";
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    const auto& [key, ids] = *it;
    const CellRecord* first = find_cell(d.cells, ids.front());
    out << fmt::format("- **{}** × {}: `{}`\n", to_string(first->outcome), ids.size(), md_escape(std::get<1>(key)));
    if (!std::get<2>(key).empty()) out << "  " << std::get<2>(key) << '\n';
    std::size_t shown = std::min<std::size_t>(ids.size(), 8);
    out << "  cells: ";
    for (std::size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << '`' << ids[i] << '`';
    if (ids.size() > shown) out << fmt::format(" and {} more", ids.size() - shown);
    out << "\n";
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
  write_failures(d, out);
  write_warnings(d, out);
  write_costs(d, out);
  write_environments(d, out);
}

}  // namespace crossload
