#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/fail_on.h"
#include "harness/cli/load_policy.h"
#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/run/split.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"
#include "reports/reporter.h"

namespace crossload::cli {

namespace {

struct ConsumeFlags {
  ConsumeOptions options;
  std::vector<std::string> fail_on;
  bool quiet = false, verbose = false;
};

void print_summary(const ConsumeSummary& s, std::ostream& out) {
  std::string counts;
  for (const auto& [outcome, n] : s.counts) counts += fmt::format(", {} {}", n, to_string(outcome));
  out << fmt::format("run {}: {} cells in {:.1f} s{}\n", s.run_id, s.cells, s.loading_seconds, counts);
  for (const auto& p : s.written) out << "report: " << p << '\n';
  for (const auto& b : s.bad_inputs) out << "bad input: " << b << '\n';
}

int consume(const ConsumeFlags& f) {
  RunLog log(std::cerr, f.quiet ? Verbosity::kQuiet : f.verbose ? Verbosity::kVerbose : Verbosity::kNormal);
  if (!valid_fail_on(f.fail_on, log)) return exit_code::kUsage;
  if (auto code = load_policy_exit(f.options.allow_unsafe, f.options.sandbox, log)) return *code;
  auto s = consume_from_dirs(f.options, log);
  if (!s) {
    log.error("{}", s.error().message);
    return exit_code::of(s.error().kind);
  }
  print_summary(*s, std::cout);
  return exit_for(s->counts, !s->bad_inputs.empty(), f.fail_on, log);
}

}  // namespace

void add_consume_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ConsumeFlags>();
  flags->options.source_root = default_source_root();
  flags->options.cache_dir = default_cache_dir();
  CLI::App* cmd = app.add_subcommand(
      "consume", "Load every artifact of directories made by `crossload produce` in one environment, and report");
  cmd->add_option("--matrix,-m", flags->options.matrix_path, "matrix file")->capture_default_str();
  cmd->add_option("--env,-e", flags->options.env, "the consumer environment (one of the matrix's consumers)")
      ->required();
  cmd->add_option("--in,-i", flags->options.in_dirs, "directory written by `crossload produce` (repeatable)")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out,-o", flags->options.out_dir, "output directory (store, cells, reports)")
      ->check(out_dir())->capture_default_str();
  cmd->add_option("--cache-dir", flags->options.cache_dir, "where built environments are kept")->capture_default_str();
  cmd->add_option("--root", flags->options.source_root, "crossload source tree (worker, formats, fixtures)")
      ->capture_default_str();
  add_isolation_option(cmd, flags->options.isolation);
  cmd->add_flag("--no-sandbox{false}", flags->options.sandbox,
                "load artifacts without the bwrap sandbox (no network isolation, writable files): trusted artifacts only");
  cmd->add_flag("--allow-unsafe", flags->options.allow_unsafe,
                "load artifacts the static audit (made here, on the copies) judged UNSAFE (otherwise BLOCKED); "
                "only inside the sandbox");
  cmd->add_option("--report", flags->options.reports, "reports to write: " + join(reporter_names(), ", "))
      ->delimiter(',')->check(one_of(reporter_names()))->capture_default_str();
  cmd->add_option("--fail-on", flags->fail_on, "exit 1 if any cell has one of these outcomes (comma list)")
      ->delimiter(',');
  cmd->add_flag("--quiet,-q", flags->quiet, "only errors and the summary");
  cmd->add_flag("--verbose,-v", flags->verbose, "every step");
  cmd->callback([flags, &exit_code] {
    flags->options.matrix_path = locate_matrix(flags->options.matrix_path, flags->options.source_root);
    exit_code = consume(*flags);
  });
}

}  // namespace crossload::cli
