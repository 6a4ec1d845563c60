#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>

#include "harness/bench/compare.h"
#include "harness/bench/runner.h"
#include "harness/cli/commands.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"

namespace crossload::cli {

namespace {

// `bench compare` exits with this when a benchmark is significantly slower (README "bench").
constexpr int kSlowdown = exit_code::kCellsFailed;

struct CompareFlags {
  std::string baseline, current;
  double threshold_percent = 5, alpha = 0.05;
};

int compare(const CompareFlags& f) {
  std::map<std::string, bench::Series> sides[2];
  const std::string* paths[2] = {&f.baseline, &f.current};
  for (int i = 0; i < 2; ++i) {
    auto doc = bench::read_json_file(*paths[i]);
    auto series = doc ? bench::read_series(*doc, *paths[i]) : Result<std::map<std::string, bench::Series>>(doc.error());
    if (!series) {
      std::cerr << "crossload bench compare: " << series.error().message << '\n';
      return exit_code::kBadInput;
    }
    sides[i] = std::move(*series);
  }
  bench::CompareOptions o{f.threshold_percent / 100, f.alpha};
  auto rows = bench::compare_series(sides[0], sides[1], o);
  std::cout << bench::render_comparison(rows, o);
  return bench::any_slower(rows) ? kSlowdown : exit_code::kOk;
}

int run(bench::BenchOptions o, const CommandFlags& f) {
  o.matrix_path = f.matrix;
  o.settings.source_root = f.root;
  o.cache_dir = f.cache_dir;
  RunLog log(std::cerr);
  if (o.settings.repetitions < 9) {
    log.error("--repetitions {}: at least 9, or the Mann-Whitney U test of `bench compare` cannot judge a change",
              o.settings.repetitions);
    return exit_code::kUsage;
  }
  if (o.settings.rounds < 2 || o.settings.rounds > o.settings.repetitions) {
    log.error("--rounds {}: between 2 and --repetitions ({}): rounds that disagree make a verdict inconclusive, and "
              "each round needs a warm load", o.settings.rounds, o.settings.repetitions);
    return exit_code::kUsage;
  }
  install_interrupt_handlers();  // SIGINT/SIGTERM: every worker stops, nothing half-written (README, "Interrupting a run")
  auto summary = bench::run_bench(o, log);
  if (!summary && summary.error().kind == ErrorKind::kInterrupted) return fail(summary.error(), log);
  if (!summary) {
    log.error("{}", summary.error().message);
    return exit_code::kBadInput;
  }
  std::cout << fmt::format("bench run {}: {} cases, {} failed steps (recorded)\n", summary->run_id, summary->cases,
                           summary->failed_steps);
  for (const auto& p : summary->written) std::cout << "wrote: " << p << '\n';
  return exit_code::kOk;
}

// `bench compare`: its exit code, once it ran.
std::shared_ptr<std::optional<int>> add_compare(CLI::App& bench_cmd) {
  auto f = std::make_shared<CompareFlags>();
  auto result = std::make_shared<std::optional<int>>();
  CLI::App* cmd = bench_cmd.add_subcommand(
      "compare", "Per benchmark change between two bench JSON files (Mann-Whitney U); exit 1 on a significant slow-down");
  cmd->add_option("baseline", f->baseline, "baseline JSON (crossload bench or Google Benchmark)")->required();
  cmd->add_option("current", f->current, "current JSON")->required();
  cmd->add_option("--threshold", f->threshold_percent, "flag slow-downs of the median above this many percent")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--alpha", f->alpha, "significance level of the one-sided test")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->callback([f, result] { *result = compare(*f); });
  return result;
}

}  // namespace

CommandRun bench_command(CLI::App& app) {
  auto o = std::make_shared<bench::BenchOptions>();
  CLI::App* cmd = &app;
  cmd->add_option("--env", o->envs, "environments to bench in (names in the matrix)")->capture_default_str();
  cmd->add_option("--fixture", o->fixtures, "fixtures (with --format; neither: the guide's claims)");
  cmd->add_option("--format", o->formats, "formats, e.g. pickle-p5, joblib-mmap, joblib-xz-3");
  cmd->add_option("--repetitions", o->settings.repetitions, "warm loads, predictions (>= 9)")->capture_default_str();
  cmd->add_option("--rounds", o->settings.rounds,
                  "turns the cases of a fixture take (ABAB...), sharing the repetitions (2..repetitions)")
      ->capture_default_str();
  cmd->add_option("--cold-repetitions", o->settings.cold_repetitions, "fresh interpreters per case")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--processes", o->settings.processes, "concurrent loaders for the PSS measurement")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", o->settings.wall_seconds, "wall seconds per measuring step")->capture_default_str();
  cmd->add_option("--out,-o", o->out_dir, "output directory (bench.json, bench.md, bench.html, results.db)")
      ->capture_default_str();
  cmd->require_subcommand(0, 1);
  auto compared = add_compare(*cmd);
  o->executable = app.get_parent() ? app.get_parent()->get_name() : app.get_name();
  return [o, compared](const CommandFlags& f) { return *compared ? **compared : run(*o, f); };
}

}  // namespace crossload::cli
