#include "reports/markdown_reporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "harness/causes/classify.h"
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

// What the report keeps of a run: counts, the cells that need a cause (their ids and text), the
// measurements' medians; never the cells themselves.
struct Listed {
  std::string entry;    // "id`" and the second opinion's mark: one item of a cell list
  std::string id, retrain;  // retrain: the guide's retrain check of a recipe's cell, if any
};

struct Group {
  const Cause* cause = nullptr;  // null: unclassified
  std::string id;
  std::vector<Listed> cells;
  std::map<std::string, std::vector<std::size_t>> by_text;  // unclassified: error text → cells
};

using OutcomeCounts = std::map<Outcome, std::size_t>;

void write_header(const RunData& d, std::size_t cells, const OutcomeCounts& outcomes, std::ostream& out) {
  out << fmt::format("# crossload report: {}\n\n", d.run.matrix_path);
  out << fmt::format("Run {} · {} → {} · crossload {} · status {}\n\n", d.run.id, d.run.started_at,
                     d.run.finished_at.empty() ? "(not finished)" : d.run.finished_at, d.run.crossload_version,
                     d.run.status);
  out << "**" << cells << " cells**";
  for (const auto& [outcome, n] : outcomes) out << fmt::format(" · {} {}", n, to_string(outcome));
  out << "\n\n";
}

std::string pair_cell(OutcomeCounts counts) {
  std::size_t total = 0;
  for (const auto& [o, n] : counts) total += n;
  std::size_t ok = counts[Outcome::kOkExact] + counts[Outcome::kOkTolerance];
  std::string text = fmt::format("{}/{} ok", ok, total);
  for (const auto& [o, n] : counts)
    if (n && o != Outcome::kOkExact && o != Outcome::kOkTolerance) text += fmt::format(", {} {}", n, to_string(o));
  return text;
}

using PairCounts = std::map<PairKey, std::map<std::string, OutcomeCounts>>;  // pair → format → counts

void write_compatibility(const std::vector<std::string>& formats, const PairCounts& pairs, std::ostream& out) {
  out << "## Compatibility (producer → consumer, per format)\n\n| producer → consumer |";
  for (const auto& f : formats) out << ' ' << f << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < formats.size(); ++i) out << "---|";
  out << '\n';
  for (const auto& [pair, by_format] : pairs) {
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

std::string cell_list(const std::vector<Listed>& cells, const std::vector<std::size_t>* only = nullptr) {
  std::string text;
  auto add = [&](const Listed& c) { text += (text.empty() ? "`" : ", `") + c.entry; };
  if (only)
    for (std::size_t i : *only) add(cells[i]);
  else
    for (const auto& c : cells) add(c);
  return text;
}

// The guide's retrain check of a recipe's cells (run/check --recipe), under their cause.
void write_retrain_checks(const std::vector<Listed>& cells, std::ostream& out) {
  for (const auto& c : cells)
    if (!c.retrain.empty()) out << fmt::format("  - `{}`: {}\n", c.id, md_escape(c.retrain));
}

// Unclassified cells by their error text: what the catalogue does not know yet.
void write_unclassified(const Group& g, std::ostream& out) {
  out << fmt::format("- **{}** × {}: no cause in the catalogue (harness/causes/catalogue.toml) matches\n", kUnclassified,
                     g.cells.size());
  for (const auto& [text, cells] : g.by_text)
    out << fmt::format("  - `{}` × {}: {}\n", md_escape(text), cells.size(), cell_list(g.cells, &cells));
  write_retrain_checks(g.cells, out);
}

// Every cell that is not OK under its cause, unclassified first: the cause id of each cell.
void write_causes(std::vector<Group> groups, std::ostream& out) {
  if (groups.empty()) return;
  order_cause_groups(groups);
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

void write_warnings(const std::map<std::string, std::size_t>& counts, std::ostream& out) {
  if (counts.empty()) return;
  out << "## Warnings while loading\n\n";
  for (const auto& [k, n] : counts) out << fmt::format("- {} × {}\n", k, n);
  out << '\n';
}

void write_costs(const std::vector<FormatCost>& rows, std::ostream& out) {
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

class MarkdownSink : public ReportSink {
 public:
  MarkdownSink(const RunData& head, std::ostream& out) : head_(head), out_(out) {}

  Status add(const CellRecord& c, const std::string& cause) override {
    n_++, outcomes_[c.outcome]++;
    add_distinct(formats_, c.format);
    pairs_[{c.producer, c.consumer}][c.format][c.outcome]++;
    add_cause(c, cause);
    for (const auto& w : c.warnings) {
      std::string key = w.category;
      if (w.original_sklearn_version) key += " (original_sklearn_version " + *w.original_sklearn_version + ")";
      warnings_[key]++;
    }
    costs_.add(c);
    return ok_status();
  }

  Status finish() override {
    write_header(head_, n_, outcomes_, out_);
    write_compatibility(formats_, pairs_, out_);
    std::vector<Group> groups;
    for (auto& [id, g] : causes_) groups.push_back(std::move(g));
    write_causes(std::move(groups), out_);
    write_warnings(warnings_, out_);
    write_costs(costs_.rows(), out_);
    write_environments(head_, out_);
    return ok_status();
  }

 private:
  void add_cause(const CellRecord& c, const std::string& id) {
    if (id.empty()) return;
    Group& g = causes_[id];
    if (g.id.empty()) g.id = id, g.cause = builtin_catalogue().find(id);
    std::string mark = second_opinion_mark(c);
    if (!g.cause) g.by_text[std::string(to_string(c.outcome)) + ": " + failure_text(c)].push_back(g.cells.size());
    g.cells.push_back({c.id + "`" + (mark.empty() ? "" : " [" + mark + "]"), c.id, retrain_check(c)});
  }

  const RunData& head_;
  std::ostream& out_;
  std::size_t n_ = 0;
  OutcomeCounts outcomes_;
  std::vector<std::string> formats_;
  PairCounts pairs_;
  std::map<std::string, Group> causes_;
  std::map<std::string, std::size_t> warnings_;
  FormatCostTally costs_;
};

}  // namespace

std::unique_ptr<ReportSink> MarkdownReporter::sink(const RunData& head, std::ostream& out) const {
  return std::make_unique<MarkdownSink>(head, out);
}

}  // namespace crossload
