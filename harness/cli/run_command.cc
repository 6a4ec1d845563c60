#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/fail_on.h"
#include "harness/cli/load_policy.h"
#include "harness/cli/narrow_flags.h"
#include "harness/cli/validators.h"
#include "harness/run/runner.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"
#include "harness/util/text.h"

namespace crossload::cli {

namespace {

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

int run(RunOptions o, const CommandFlags& f) {
  apply_matrix_flags(f, o);
  apply_load_policy_flags(f, o);
  o.reports = f.reports;
  // A progress line redrawn in place only where someone watches; log files get plain lines.
  const char* term = std::getenv("TERM");
  bool terminal = ::isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb");
  RunLog log(std::cerr, f.verbosity(), terminal);
  if (!valid_fail_on(f.fail_on, log)) return exit_code::kUsage;
  if (auto code = load_policy_exit(o.allow_unsafe, o.sandbox, log)) return *code;
  install_interrupt_handlers();  // SIGINT/SIGTERM stop the run cleanly (README, "Interrupting a run")
  auto summary = run_matrix(o, log);
  if (!summary) return fail(summary.error(), log);  // interrupted: what was kept, exit 130
  print_summary(*summary, std::cout);
  return exit_for(summary->counts, !summary->bad_inputs.empty(), f.fail_on, log);
}

}  // namespace

CommandRun run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = &app;
  cmd->add_option("--out,-o", o->out_dir, "output directory (store, artifacts, reports)")
      ->check(out_dir())->capture_default_str();
  cmd->add_flag("--resume", o->resume, "continue the latest unfinished run of this matrix");
  cmd->add_flag("--rerun", o->rerun,
                "compute every cell again (by default cells whose producer, recipe, format, consumer and limits "
                "are unchanged are reused from earlier runs in this --out)");
  cmd->add_option("--jobs,-j", o->jobs, "trainings and loads at once (default: the number of cores)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-workers", o->max_workers,
                  "at most N environment workers running at once (each 100-600 MB): everything is produced "
                  "first, then the consuming environments load in turn (default: all from the start)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--qemu", o->qemu,
                  "QEMU build for every emulated environment: system or debian:SUITE (ci/fetch-qemu; default: "
                  "each CPU's preferred build, harness/env/qemu_builds.toml)")
      ->check(qemu_build());
  cmd->add_flag("--no-second-opinion{false}", o->second_opinion,
                "do not re-run a failure only emulation shows under the other QEMU build");
  cmd->add_option("--recipe", o->recipes,
                  "a training recipe FILE.py (repeatable): crossed instead of the matrix's fixtures (README)");
  cmd->add_option("--shard", o->shard, "K/N: run only the K-th of N deterministic slices")->check(shard_spec());
  add_narrowing_flags(cmd, o->narrow);
  return [o](const CommandFlags& f) { return run(*o, f); };
}

}  // namespace crossload::cli
