#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/fail_on.h"
#include "harness/cli/load_policy.h"
#include "harness/cli/narrow_flags.h"
#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/run/runner.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"
#include "reports/reporter.h"

namespace crossload::cli {

namespace {

struct RunFlags {
  RunOptions options;
  std::vector<std::string> fail_on;
  bool quiet = false, verbose = false;
};

void print_summary(const RunSummary& s, std::ostream& out) {
  std::string counts;
  for (const auto& [outcome, n] : s.counts) counts += fmt::format(", {} {}", n, to_string(outcome));
  std::vector<std::string> origin;
  if (s.skipped) origin.push_back(fmt::format("{} reused from the interrupted run", s.skipped));
  if (s.reused) origin.push_back(fmt::format("{} reused from earlier runs", s.reused));
  if (!origin.empty()) origin.push_back(fmt::format("{} computed", s.cells - s.reused));
  // The whole run: a resumed run's total counts the cells the interrupted one finished.
  out << fmt::format("run {}: {} cells{}{}\n", s.run_id, s.cells + s.skipped,
                     origin.empty() ? "" : " (" + join(origin, ", ") + ")", counts);
  for (const auto& p : s.written) out << "report: " << p << '\n';
  for (const auto& b : s.bad_inputs) out << "bad input: " << b << '\n';
}

int run(const RunFlags& f) {
  // A progress line redrawn in place only where someone watches; log files get plain lines.
  const char* term = std::getenv("TERM");
  bool terminal = ::isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb");
  RunLog log(std::cerr, f.quiet ? Verbosity::kQuiet : f.verbose ? Verbosity::kVerbose : Verbosity::kNormal,
             terminal);
  if (!valid_fail_on(f.fail_on, log)) return exit_code::kUsage;
  if (auto code = load_policy_exit(f.options.allow_unsafe, f.options.sandbox, log)) return *code;
  auto summary = run_matrix(f.options, log);
  if (!summary) {
    log.error("{}", summary.error().message);
    return exit_code::of(summary.error().kind);
  }
  print_summary(*summary, std::cout);
  return exit_for(summary->counts, !summary->bad_inputs.empty(), f.fail_on, log);
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  flags->options.source_root = default_source_root();
  flags->options.cache_dir = default_cache_dir();
  CLI::App* cmd = app.add_subcommand("run", "Produce, cross-load and compare every cell of a matrix");
  cmd->add_option("--matrix,-m", flags->options.matrix_path, "matrix file")->capture_default_str();
  cmd->add_option("--out,-o", flags->options.out_dir, "output directory (store, artifacts, reports)")
      ->check(out_dir())->capture_default_str();
  cmd->add_option("--cache-dir", flags->options.cache_dir, "where built environments are kept")->capture_default_str();
  cmd->add_option("--root", flags->options.source_root, "crossload source tree (worker, formats, fixtures)")
      ->capture_default_str();
  cmd->add_flag("--resume", flags->options.resume, "continue the latest unfinished run of this matrix");
  cmd->add_flag("--rerun", flags->options.rerun,
                "compute every cell again (by default cells whose producer, recipe, format, consumer and limits "
                "are unchanged are reused from earlier runs in this --out)");
  cmd->add_option("--jobs,-j", flags->options.jobs, "trainings and loads at once (default: the number of cores)")
      ->check(CLI::Range(1, 4096));
  add_isolation_option(cmd, flags->options.isolation);
  cmd->add_option("--qemu", flags->options.qemu,
                  "QEMU build for every emulated environment: system or debian:SUITE (ci/fetch-qemu; default: "
                  "each CPU's preferred build, harness/env/qemu_builds.toml)")
      ->check(qemu_build());
  cmd->add_flag("--no-second-opinion{false}", flags->options.second_opinion,
                "do not re-run a failure only emulation shows under the other QEMU build");
  cmd->add_flag("--no-sandbox{false}", flags->options.sandbox,
                "load artifacts without the bwrap sandbox (no network isolation, writable files): trusted artifacts only");
  cmd->add_flag("--allow-unsafe", flags->options.allow_unsafe,
                "load artifacts the static audit judged UNSAFE (otherwise BLOCKED); only inside the sandbox");
  cmd->add_option("--recipe", flags->options.recipes,
                  "a training recipe FILE.py (repeatable): crossed instead of the matrix's fixtures (README)");
  cmd->add_option("--shard", flags->options.shard, "K/N: run only the K-th of N deterministic slices")
      ->check(shard_spec());
  add_narrowing_flags(cmd, flags->options.narrow);
  cmd->add_option("--report", flags->options.reports, "reports to write: " + join(reporter_names(), ", "))
      ->delimiter(',')->check(one_of(reporter_names()))->capture_default_str();
  cmd->add_option("--fail-on", flags->fail_on, "exit 1 if any cell has one of these outcomes (comma list)")
      ->delimiter(',');
  cmd->add_flag("--quiet,-q", flags->quiet, "only errors and the summary");
  cmd->add_flag("--verbose,-v", flags->verbose, "every step, including the requests sent to workers");
  cmd->callback([flags, &exit_code] {
    flags->options.matrix_path = locate_matrix(flags->options.matrix_path, flags->options.source_root);
    exit_code = run(*flags);
  });
}

}  // namespace crossload::cli
