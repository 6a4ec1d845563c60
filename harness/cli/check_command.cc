// `crossload check ARTIFACT --inputs X`: bring your own model. Audits the artifact, then loads
// and predicts it, sandboxed, in every chosen environment and prints one screen (or JSON).
#include <iostream>
#include <memory>

#include "formats/registry.h"
#include "harness/check/check.h"
#include "harness/check/render.h"
#include "harness/cli/commands.h"
#include "harness/cli/forecast_envs.h"
#include "harness/cli/validators.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"
#include "harness/util/text.h"

namespace crossload::cli {

namespace {

struct CheckFlags {
  check::CheckOptions options;
  bool json = false;
};

int run_check_command(CheckFlags c, const CommandFlags& f) {
  apply_matrix_flags(f, c.options);
  RunLog log(std::cerr, f.verbosity());
  if (!f.quiet)  // before anything loads; stderr, so check's own output stays as it was
    std::cerr << forecast_section(c.options.artifact, c.options.matrix_path, c.options.envs, c.options.cache_dir);
  install_interrupt_handlers();  // SIGINT/SIGTERM: every worker stops, no verdict (README, "Interrupting a run")
  auto report = check::run_check(c.options, log);
  if (!report) return fail(report.error(), log);
  if (report->unavailable) {  // nothing was loaded, so there is no screen to print
    log.error("{}", *report->unavailable);
    return check::check_exit_code(*report);
  }
  if (c.json) std::cout << check::render_json(*report).dump(2) << '\n';
  else std::cout << check::render_text(*report);
  return check::check_exit_code(*report);
}

}  // namespace

CommandRun check_command(CLI::App& app) {
  auto flags = std::make_shared<CheckFlags>();
  auto& o = flags->options;
  CLI::App* cmd = &app;
  cmd->add_option("artifact", o.artifact, "the model file (pickle, joblib, cloudpickle, skops, ONNX)")->required();
  cmd->add_option("--inputs", o.inputs, "rows to predict on: .npy, .npz, .csv/.tsv (numeric, header optional), "
                                        ".parquet (needs pyarrow in an environment)")->required();
  cmd->add_option("--inputs-key", o.inputs_key, ".npz: the array to use (default: the first)");
  cmd->add_option("--reference", o.reference,
                  ".npy of the expected predict() output (default: computed where the artifact's scikit-learn is)");
  std::vector<std::string> formats = format_aliases();
  formats.insert(formats.begin(), "auto");
  cmd->add_option("--format", o.format, join(formats, ", "))->check(CLI::IsMember(formats))->capture_default_str();
  cmd->add_option("--env", o.envs, "an environment of the matrix (repeatable; default: its consumers)");
  cmd->add_option("--out,-o", o.out_dir, "working directory (staged files, predictions, worker logs)")
      ->check(out_dir())->capture_default_str();
  cmd->add_option("--rtol", o.rtol, "relative tolerance of the comparison")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--atol", o.atol, "absolute tolerance of the comparison")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--recipe", o.recipe,
                  "the training recipe FILE.py of the artifact: retrained where the artifact fails, CV scores compared");
  cmd->add_flag("!--no-rebuild-reference", o.rebuild_reference,
                "no environment has the artifact's recorded scikit-learn: use the first that loads it (not trusted) "
                "instead of rebuilding its producer's stack as a pip environment");
  add_allow_unsafe_flag(cmd, o.allow_unsafe);
  cmd->add_flag("--json", flags->json, "print the result as JSON (for scripts)");
  return [flags](const CommandFlags& f) { return run_check_command(*flags, f); };
}

}  // namespace crossload::cli
