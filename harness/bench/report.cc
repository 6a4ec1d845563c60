#include "harness/bench/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/bench/fingerprint.h"
#include "harness/bench/rounds.h"
#include "harness/bench/stats.h"
#include "reports/markup.h"
#include "reports/svg_chart.h"

namespace crossload {

using json = nlohmann::json;
using namespace crossload::bench;

namespace {

// One table, rendered as Markdown or HTML.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string bytes_text(double b) {
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string time_text(double s) {
  if (s >= 1) return fmt::format("{:.2f} s", s);
  if (s >= 1e-3) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.1f} µs", s * 1e6);
}

std::string series_text(const BenchCase& c, const char* metric) {
  auto it = c.samples.find(metric);
  if (it == c.samples.end() || it->second.empty()) return "—";
  Summary s = summarize(it->second);
  return fmt::format("{} ± {} (n={})", time_text(s.median), time_text(s.iqr / 2), s.n);
}

std::string value_text(const BenchCase& c, const char* key) {
  auto it = c.values.find(key);
  return it == c.values.end() ? "—" : bytes_text(it->second);
}

std::string throughput_text(const BenchCase& c) {
  auto it = c.samples.find(kBatchPredict);
  auto rows = c.values.find(kBatchRows);
  if (it == c.samples.end() || it->second.empty() || rows == c.values.end()) return "—";
  double median = summarize(it->second).median;
  return median > 0 ? fmt::format("{:.0f}", rows->second / median) : "—";
}

Table host_table(const BenchResults& r) {
  const json& h = r.host;
  const json cpu = h.value("cpu", json::object()), topo = h.value("topology", json::object());
  std::string caches;
  for (const auto& c : h.value("caches", json::array()))
    caches += fmt::format("{}L{} {} ×{}", caches.empty() ? "" : ", ", c.value("level", 0),
                          bytes_text(c.value("size", 0.0)), c.value("count", 0));
  Table t{{"host", "value"}, {}};
  t.rows = {{"CPU", fmt::format("{} ({})", cpu.value("model", std::string("?")), cpu.value("vendor", std::string("?")))},
            {"ISA features", isa_summary(h)},
            {"topology", fmt::format("{} package(s), {} cores, {} hardware threads, {} NUMA node(s)", topo.value("packages", 0),
                                     topo.value("cores", 0), topo.value("pus", 0), topo.value("numa_nodes", 0))},
            {"caches", caches.empty() ? "—" : caches}};
  for (const auto& e : r.environments)
    t.rows.push_back({"environment " + e.name, e.status != "ok" ? "unavailable: " + e.reason
                                                : e.where + (e.emulated ? " — EMULATED: absolute times are QEMU's, compare ratios only" : "")});
  return t;
}

Table verdict_table(const std::vector<Verdict>& verdicts) {
  Table t{{"claim", "environment", "verdict", "measured"}, {}};
  for (const auto& v : verdicts)
    t.rows.push_back({v.claim, v.env + (v.emulated ? " (emulated)" : ""), v.status == "confirmed" ? "**confirmed**"
                      : v.status, v.measured});
  return t;
}

// The machine over a case's rounds: the highest 1-minute load average and steal, and how many
// rounds were busy (machine_load.h).
std::string machine_text(const BenchCase& c) {
  if (c.rounds.empty()) return "—";
  double load = 0, steal = 0;
  int busy = 0, known = 0;
  for (const auto& r : c.rounds) {
    if (!r.load.known) continue;
    ++known;
    load = std::max(load, r.load.load1);
    steal = std::max(steal, r.load.steal_percent);
    busy += busy_reason(r.load).empty() ? 0 : 1;
  }
  if (known == 0) return "unknown (/proc unreadable)";
  return fmt::format("load ≤ {:.2f} ({} CPUs), steal ≤ {:.1f}%; busy in {} of {} rounds", load,
                     c.rounds.front().load.cpus, steal, busy, c.rounds.size());
}

Table case_table(const BenchResults& r) {
  Table t{{"case", "outcome", "size", "dump", "warm load (median ± IQR/2)", "cold start", "first predict",
           "batch rows/s", "RSS growth", fmt::format("PSS of {} loaders", r.processes), "cold peak RSS",
           "machine during the rounds"}, {}};
  for (const auto& c : r.cases) {
    auto dump = c.values.find(kDumpSeconds);
    t.rows.push_back({c.fixture + " / " + c.format + " / " + c.consumer() + (c.emulated ? " (emulated)" : ""), c.outcome,
                      value_text(c, kSizeBytes), dump == c.values.end() ? "—" : time_text(dump->second),
                      series_text(c, kWarmLoad), series_text(c, kColdLoad), series_text(c, kFirstPredict),
                      throughput_text(c), value_text(c, kRssGrowth), value_text(c, kPssGrowthTotal),
                      value_text(c, kColdPeakRss), machine_text(c)});
  }
  return t;
}

std::vector<std::string> failure_lines(const BenchResults& r) {
  std::vector<std::string> out;
  for (const auto& c : r.cases)
    for (const auto& [step, why] : c.failures) out.push_back(fmt::format("{}/{}/{} {}: {}", c.fixture, c.format, c.consumer(), step, why));
  return out;
}

std::string md_cell(std::string s) {
  for (std::size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  for (auto& ch : s)
    if (ch == '\n') ch = ' ';
  return s;
}

std::string markdown(const Table& t) {
  std::string out = "|", rule = "|";
  for (const auto& h : t.header) out += " " + md_cell(h) + " |", rule += "---|";
  out += "\n" + rule + "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (const auto& cell : row) out += " " + md_cell(cell) + " |";
    out += "\n";
  }
  return out;
}

std::string html(const Table& t) {
  std::string out = "<table>\n<tr>";
  for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      bool strong = cell.starts_with("**");
      std::string text = strong ? cell.substr(2, cell.size() - 4) : cell;
      out += "<td>" + std::string(strong ? "<strong>" : "") + html_escape(text) + (strong ? "</strong>" : "") + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

BarChart warm_load_chart(const BenchResults& r) {
  BarChart chart{"median warm load time per case", {}};
  for (const auto& c : r.cases) {
    auto it = c.samples.find(kWarmLoad);
    if (it == c.samples.end() || it->second.empty()) continue;
    std::string group = c.fixture + " in " + c.env + (c.emulated ? " (emulated)" : "");
    if (chart.groups.empty() || chart.groups.back().label != group) chart.groups.push_back({group, {}});
    double median = summarize(it->second).median;
    chart.groups.back().bars.push_back({c.native ? c.format + " (native)" : c.format, median, time_text(median), "#4c78a8", c.format});
  }
  return chart;
}

std::string how_to_read() {
  return fmt::format(
      "Times are medians over the repetitions, ± half the interquartile range. A warm load runs in a process that "
      "has already imported the stack; a cold start is a fresh interpreter from exec to the loaded model, imports "
      "included. RSS growth is the peak RSS of one load over the RSS before it; the PSS column sums the growth of "
      "the loaders that held the same artifact at once, so shared pages count once. Under emulation only ratios "
      "between cases of the same environment mean anything. The cases of a fixture are measured in turns (round 1 "
      "of each, then round 2 of each, ...); a round is busy when the 1-minute load average at its start or end "
      "exceeds the number of CPUs, or more than {:.0f}% of the CPU time was stolen. A verdict on timings is "
      "inconclusive when a round of its cases was busy or the rounds disagree on which case is faster (each by more "
      "than {:.0f}%); otherwise the 95% interval of its ratio (Hodges-Lehmann, rank-based) decides.",
      kBusyStealPercent, kRoundMargin * 100);
}

}  // namespace

std::string render_bench_markdown(const BenchResults& r, const std::vector<Verdict>& verdicts) {
  std::string out = "# crossload bench\n\n" + markdown(host_table(r));
  out += "\n## The guide's claims on this machine\n\n" + markdown(verdict_table(verdicts));
  out += "\n## Cases\n\n" + markdown(case_table(r));
  auto failures = failure_lines(r);
  if (!failures.empty()) {
    out += "\n## Failed steps (recorded; the other measurements stand)\n\n";
    for (const auto& f : failures) out += "- " + md_cell(f) + "\n";
  }
  return out + "\n" + how_to_read() + "\n";
}

std::string render_bench_html(const BenchResults& r, const std::vector<Verdict>& verdicts) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>crossload bench</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}</style></head><body>\n"
      "<h1>crossload bench</h1>\n" + html(host_table(r));
  out += "<h2>The guide's claims on this machine</h2>\n" + html(verdict_table(verdicts));
  out += "<h2>Cases</h2>\n" + html(case_table(r)) + render_bar_chart(warm_load_chart(r));
  auto failures = failure_lines(r);
  if (!failures.empty()) {
    out += "<h2>Failed steps (recorded; the other measurements stand)</h2>\n<ul>\n";
    for (const auto& f : failures) out += "<li>" + html_escape(f) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "<p>" + html_escape(how_to_read()) + "</p>\n</body></html>\n";
}

}  // namespace crossload
