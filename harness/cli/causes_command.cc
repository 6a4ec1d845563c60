// `crossload causes`: the catalogue of breakage causes, and how much of a stored run it
// explains. `crossload causes RESULTS.json...` attributes every non-OK cell of each run to one
// cause or to "unclassified" and prints the counts; `--max-unclassified PCT` makes it a check
// (exit 1 when a run's failing cells are more than PCT % unclassified).
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "harness/inspection/decompress.h"
#include "harness/causes/tally.h"
#include "harness/cli/commands.h"
#include "harness/util/exit_codes.h"
#include "reports/diff.h"

namespace crossload::cli {

namespace {

using json = nlohmann::json;

struct CausesFlags {
  std::vector<std::string> results;
  std::string format = "text";
  double max_unclassified = -1;  // negative: report only
};

// A results.json, gzipped or not (docs/findings/ keeps them gzipped).
Result<RunData> read_run(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read (no such file?)", path));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (audit::sniff_codec(text) == audit::Codec::kGzip) {
    auto plain = audit::decompress(text, audit::Codec::kGzip, std::uint64_t{1} << 32);
    if (!plain) return make_error(fmt::format("{}: {}", path, plain.error().message));
    text = std::move(plain->data);
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(fmt::format("{}: not valid JSON", path));
  return run_data_from_json(doc, path);
}

json run_json(const std::string& path, const std::vector<CauseGroup>& groups, const CauseCoverage& cov) {
  json causes = json::object();
  for (const auto& g : groups) causes[g.id] = g.cells.size();
  return {{"results", path}, {"cells", cov.cells}, {"needing_cause", cov.needing},
          {"unclassified", cov.unclassified}, {"unclassified_percent", cov.unclassified_percent()},
          {"failing", cov.failing}, {"failing_unclassified", cov.failing_unclassified},
          {"failing_unclassified_percent", cov.failing_unclassified_percent()}, {"causes", causes}};
}

void print_run(const std::string& path, const std::vector<CauseGroup>& groups, const CauseCoverage& cov) {
  std::cout << fmt::format("{}: {} cells, {} not OK, {} unclassified ({:.2f} %); {} failing, {} unclassified ({:.2f} %)\n",
                           path, cov.cells, cov.needing, cov.unclassified, cov.unclassified_percent(), cov.failing,
                           cov.failing_unclassified, cov.failing_unclassified_percent());
  for (const auto& g : groups) std::cout << fmt::format("  {:>6}  {}\n", g.cells.size(), g.id);
}

void print_catalogue() {
  for (const auto& c : builtin_catalogue().causes)
    std::cout << fmt::format("{}\n  {}\n  boundary: {}: {} → {}\n", c.id, c.title, c.boundary.component,
                             c.boundary.producer, c.boundary.consumer);
}

int run_causes(const CausesFlags& f) {
  if (f.results.empty()) return print_catalogue(), exit_code::kOk;
  json runs = json::array();
  bool over = false;
  for (const auto& path : f.results) {
    auto data = read_run(path);
    if (!data) return std::cerr << "error: " << data.error().message << '\n', exit_code::kBadInput;
    auto groups = group_by_cause(data->cells);
    CauseCoverage cov = coverage(groups, data->cells.size());
    if (f.max_unclassified >= 0 && cov.failing_unclassified_percent() > f.max_unclassified) over = true;
    if (f.format == "json") runs.push_back(run_json(path, groups, cov));
    else print_run(path, groups, cov);
  }
  if (f.format == "json") std::cout << runs.dump(2) << '\n';
  if (over)
    std::cerr << fmt::format("causes: more than {} % of some run's failing cells are unclassified\n", f.max_unclassified);
  return over ? exit_code::kCellsFailed : exit_code::kOk;
}

}  // namespace

CommandRun causes_command(CLI::App& app) {
  auto flags = std::make_shared<CausesFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("RESULTS", flags->results, "results.json files (gzipped or not); none: list the catalogue");
  cmd->add_option("--format", flags->format, "output: text or json")
      ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->add_option("--max-unclassified", flags->max_unclassified,
                  "exit 1 when more than this percentage of a run's failing cells is unclassified");
  return [flags](const CommandFlags&) { return run_causes(*flags); };
}

}  // namespace crossload::cli
