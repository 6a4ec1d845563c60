#include "harness/cli/flag_groups.h"

#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/core/matrix.h"
#include "harness/run/runner.h"
#include "harness/util/text.h"
#include "reports/reporter.h"

namespace crossload::cli {

CommandFlags::CommandFlags()
    : matrix(kDefaultMatrix), root(default_source_root()), cache_dir(default_cache_dir()),
      reports(RunOptions{}.reports) {}

Verbosity CommandFlags::verbosity() const {
  return quiet ? Verbosity::kQuiet : verbose ? Verbosity::kVerbose : Verbosity::kNormal;
}

namespace {

void add_matrix_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_option("--matrix,-m", f.matrix, "matrix file (its environments, fixtures and formats)")
      ->capture_default_str();
  cmd->add_option("--root", f.root, "crossload source tree: worker, formats, fixtures, matrices (CROSSLOAD_ROOT)")
      ->capture_default_str();
}

void add_cache_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_option("--cache-dir", f.cache_dir, "where built environments are kept (CROSSLOAD_CACHE_DIR)")
      ->capture_default_str();
}

// `--isolation batch|cell`: docs/isolation.md.
void add_load_policy_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_option("--isolation", f.isolation,
                  "batch: one sandboxed child loads artifact after artifact (a fresh one after a crash, a timeout "
                  "or a load that changed its process); cell: a fresh child per load. Same verdicts")
      ->check(CLI::IsMember({"batch", "cell"}))
      ->capture_default_str();
  cmd->add_flag("--no-sandbox{false}", f.sandbox,
                "load artifacts without the bwrap sandbox (no network isolation, writable files): trusted artifacts only");
  add_allow_unsafe_flag(cmd, f.allow_unsafe);
}

void add_report_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_option("--report", f.reports, "reports to write: " + join(reporter_names(), ", "))
      ->delimiter(',')->check(one_of(reporter_names()))->capture_default_str();
}

void add_fail_on_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_option("--fail-on", f.fail_on, "exit 1 if any cell has one of these outcomes (comma list)")->delimiter(',');
}

void add_verbosity_flags(CLI::App* cmd, CommandFlags& f) {
  cmd->add_flag("--quiet,-q", f.quiet, "only errors and the result");
  cmd->add_flag("--verbose,-v", f.verbose, "every step, including the requests sent to workers");
}

}  // namespace

void add_allow_unsafe_flag(CLI::App* cmd, bool& allow_unsafe) {
  cmd->add_flag("--allow-unsafe", allow_unsafe,
                "load artifacts the static audit judged UNSAFE (otherwise BLOCKED); only inside the sandbox");
}

void add_flag_groups(CLI::App* cmd, unsigned groups, CommandFlags& f) {
  using Add = void (*)(CLI::App*, CommandFlags&);
  const std::pair<FlagGroup, Add> adders[] = {
      {kMatrixFlags, &add_matrix_flags},     {kCacheFlags, &add_cache_flags},
      {kLoadPolicyFlags, &add_load_policy_flags}, {kReportFlags, &add_report_flags},
      {kFailOnFlags, &add_fail_on_flags},    {kVerbosityFlags, &add_verbosity_flags},
  };
  for (const auto& [group, add] : adders)
    if (groups & group) add(cmd, f);
}

void resolve_flags(CommandFlags& f) { f.matrix = locate_matrix(f.matrix, f.root); }

}  // namespace crossload::cli
