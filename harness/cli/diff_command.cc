// `crossload diff BASELINE CURRENT`: what got worse (or better) between two runs, and an exit
// code CI can act on. Either side is a results store (x.db: its latest run; x.db#N: run N) or
// a results.json.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/cli/commands.h"
#include "harness/store/store.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"
#include "reports/diff.h"
#include "reports/html_reporter.h"

namespace crossload::cli {

namespace {

struct DiffFlags {
  std::string baseline, current;
  std::string format = "text";
  std::string html;  // also write the current run's HTML report, regressions first
  std::vector<std::string> fail_on = default_fail_on();
  DiffOptions options;
};

// Prints why a side cannot be opened and returns the exit code; 0 and `out` set when it can. The
// side is read later, cell by cell, by the diff; its read errors name the role and the file.
int open_side(const std::string& role, const std::string& spec, std::optional<CellStream>& out) {
  auto fail = [&](int code, const std::string& message) {
    std::cerr << fmt::format("error: {} {}\n", role, message);
    return code;
  };
  auto store_spec = parse_store_spec(spec);
  std::string path = store_spec ? store_spec->path : spec;
  if (!std::filesystem::exists(path)) return fail(exit_code::kBadInput, fmt::format("{}: no such file", path));
  if (!store_spec) {
    out = json_stream(spec);
  } else {
    auto store = Store::open(path);
    if (!store) return fail(exit_code::kStore, store.error().message);
    auto stream = store_stream(std::make_shared<const Store>(std::move(*store)), *store_spec);
    if (!stream) return fail(exit_code::kBadInput, stream.error().message);
    out = std::move(*stream);
  }
  auto named = [role](Status st) { return st ? st : Status(make_error(role + " " + st.error().message)); };
  out->for_each = [named, read = std::move(out->for_each)](const CellVisitor& visit) { return named(read(visit)); };
  if (out->some)
    out->some = [named, read = std::move(out->some)](const std::vector<std::string>& ids, const CellVisitor& visit) {
      return named(read(ids, visit));
    };
  return exit_code::kOk;
}

Status write_html(const DiffResult& diff, const RunData& current, const std::string& path) {
  HtmlReporter reporter(diff);
  return write_report(reporter, current, path);
}

int run_diff(const DiffFlags& f) {
  auto fail_on = parse_fail_on(f.fail_on);
  if (!fail_on) return std::cerr << "error: " << fail_on.error().message << '\n', exit_code::kUsage;
  if (!(f.options.threshold >= 1))
    return std::cerr << fmt::format("error: --threshold {}: a ratio of at least 1 (1.25 = 25% worse)\n",
                                    f.options.threshold), exit_code::kUsage;
  std::optional<CellStream> baseline, current;
  if (int rc = open_side("baseline", f.baseline, baseline)) return rc;
  if (int rc = open_side("current", f.current, current)) return rc;
  auto compared = diff_streams(*baseline, *current, f.options);
  if (!compared) return std::cerr << "error: " << compared.error().message << '\n', exit_code::kBadInput;
  const DiffResult& diff = *compared;
  // Replace, never throw: a message may hold bytes that are not UTF-8.
  if (f.format == "json")
    std::cout << diff_to_json(diff, *fail_on).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else if (f.format == "md") write_diff_markdown(diff, *fail_on, std::cout);
  else write_diff_text(diff, *fail_on, std::cout);
  if (!f.html.empty()) {  // the one place a side is held whole: the report shows every current cell
    auto data = read_results(f.current);
    if (!data) return std::cerr << "error: current " << data.error().message << '\n', exit_code::kBadInput;
    if (auto st = write_html(diff, data->data, f.html); !st)
      return std::cerr << "error: " << st.error().message << '\n', exit_code::kBadInput;
    std::cerr << "report: " << f.html << '\n';
  }
  return failing(diff, *fail_on).empty() ? exit_code::kOk : exit_code::kCellsFailed;
}

}  // namespace

CommandRun diff_command(CLI::App& app) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("BASELINE", flags->baseline, "results store (x.db, x.db#RUN) or results.json")->required();
  cmd->add_option("CURRENT", flags->current, "results store (x.db, x.db#RUN) or results.json")->required();
  cmd->add_option("--format", flags->format, "output: text, json or md")
      ->check(CLI::IsMember({"text", "json", "md"}))->capture_default_str();
  cmd->add_option("--fail-on", flags->fail_on,
                  "what exits 1: " + join(fail_on_names(), ", ") + " or none (default: " +
                      join(default_fail_on(), ",") + ")")
      ->delimiter(',');
  cmd->add_option("--threshold", flags->options.threshold, "current/baseline ratio past which a measurement regressed")
      ->capture_default_str();
  cmd->add_option("--alpha", flags->options.alpha, "significance level when repetition samples exist")
      ->capture_default_str();
  cmd->add_option("--measurements", flags->options.measurements, "measurements compared")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--html", flags->html, "also write CURRENT's HTML report with the regressions first, to this file");
  return [flags](const CommandFlags&) { return run_diff(*flags); };
}

}  // namespace crossload::cli
