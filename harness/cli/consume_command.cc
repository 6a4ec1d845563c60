#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/fail_on.h"
#include "harness/cli/load_policy.h"
#include "harness/cli/validators.h"
#include "harness/run/split.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"

namespace crossload::cli {

namespace {

void print_summary(const ConsumeSummary& s, std::ostream& out) {
  std::string counts;
  for (const auto& [outcome, n] : s.counts) counts += fmt::format(", {} {}", n, to_string(outcome));
  std::string kept = s.kept ? fmt::format(" ({} kept from the interrupted run)", s.kept) : "";
  out << fmt::format("run {}: {} cells in {:.1f} s{}{}\n", s.run_id, s.cells, s.loading_seconds, kept, counts);
  for (const auto& p : s.written) out << "report: " << p << '\n';
  for (const auto& b : s.bad_inputs) out << "bad input: " << b << '\n';
}

int consume(ConsumeOptions o, const CommandFlags& f) {
  apply_matrix_flags(f, o);
  apply_load_policy_flags(f, o);
  o.reports = f.reports;
  RunLog log(std::cerr, f.verbosity());
  if (!valid_fail_on(f.fail_on, log)) return exit_code::kUsage;
  if (auto code = load_policy_exit(o.allow_unsafe, o.sandbox, log)) return *code;
  install_interrupt_handlers();  // SIGINT/SIGTERM: the stored cells stay (README, "Interrupting a run")
  auto s = consume_from_dirs(o, log);
  if (!s) return fail(s.error(), log);
  print_summary(*s, std::cout);
  return exit_for(s->counts, !s->bad_inputs.empty(), f.fail_on, log);
}

}  // namespace

CommandRun consume_command(CLI::App& app) {
  auto o = std::make_shared<ConsumeOptions>();
  CLI::App* cmd = &app;
  cmd->add_option("--env,-e", o->env, "the consumer environment (one of the matrix's consumers)")->required();
  cmd->add_option("--in,-i", o->in_dirs, "directory written by `crossload produce` (repeatable)")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out,-o", o->out_dir, "output directory (store, cells, reports)")
      ->check(out_dir())->capture_default_str();
  return [o](const CommandFlags& f) { return consume(*o, f); };
}

}  // namespace crossload::cli
