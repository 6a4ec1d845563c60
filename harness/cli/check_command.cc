// `crossload check ARTIFACT --inputs X`: bring your own model. Audits the artifact, then loads
// and predicts it, sandboxed, in every chosen environment and prints one screen (or JSON).
#include <iostream>
#include <memory>

#include "formats/registry.h"
#include "harness/check/check.h"
#include "harness/check/render.h"
#include "harness/cli/commands.h"
#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"

namespace crossload::cli {

namespace {

struct CheckFlags {
  check::CheckOptions options;
  bool json = false, quiet = false;
};

int run_check_command(const CheckFlags& f) {
  RunLog log(std::cerr, f.quiet ? Verbosity::kQuiet : Verbosity::kNormal);
  auto report = check::run_check(f.options, log);
  if (!report) {
    log.error("{}", report.error().message);
    return exit_code::of(report.error().kind);
  }
  if (report->unavailable) {  // nothing was loaded, so there is no screen to print
    log.error("{}", *report->unavailable);
    return check::check_exit_code(*report);
  }
  if (f.json) std::cout << check::render_json(*report).dump(2) << '\n';
  else std::cout << check::render_text(*report);
  return check::check_exit_code(*report);
}

}  // namespace

void add_check_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CheckFlags>();
  auto& o = flags->options;
  o.source_root = default_source_root();
  o.cache_dir = default_cache_dir();
  CLI::App* cmd = app.add_subcommand(
      "check", "Check your own artifact: where it loads and predicts identically, where it breaks, and why");
  cmd->add_option("artifact", o.artifact, "the model file (pickle, joblib, cloudpickle, skops, ONNX)")->required();
  cmd->add_option("--inputs", o.inputs, "rows to predict on: .npy, .npz, .csv/.tsv (numeric, header optional), "
                                        ".parquet (needs pyarrow in an environment)")->required();
  cmd->add_option("--inputs-key", o.inputs_key, ".npz: the array to use (default: the first)");
  cmd->add_option("--reference", o.reference,
                  ".npy of the expected predict() output (default: computed where the artifact's scikit-learn is)");
  std::vector<std::string> formats = format_aliases();
  formats.insert(formats.begin(), "auto");
  cmd->add_option("--format", o.format, join(formats, ", "))->check(CLI::IsMember(formats))->capture_default_str();
  cmd->add_option("--matrix,-m", o.matrix_path, "matrix file whose environments to use")->capture_default_str();
  cmd->add_option("--env", o.envs, "an environment of the matrix (repeatable; default: its consumers)");
  cmd->add_option("--out,-o", o.out_dir, "working directory (staged files, predictions, worker logs)")
      ->check(out_dir())->capture_default_str();
  cmd->add_option("--rtol", o.rtol, "relative tolerance of the comparison")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--atol", o.atol, "absolute tolerance of the comparison")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--cache-dir", o.cache_dir, "where built environments are kept")->capture_default_str();
  cmd->add_option("--root", o.source_root, "crossload source tree (worker, formats, fixtures)")->capture_default_str();
  cmd->add_option("--recipe", o.recipe,
                  "the training recipe FILE.py of the artifact: retrained where the artifact fails, CV scores compared");
  cmd->add_flag("--allow-unsafe", o.allow_unsafe, "load an artifact the audit judges UNSAFE (sandboxed only)");
  cmd->add_flag("--json", flags->json, "print the result as JSON (for scripts)");
  cmd->add_flag("--quiet,-q", flags->quiet, "only errors and the result");
  cmd->callback([flags, &exit_code] {
    flags->options.matrix_path = locate_matrix(flags->options.matrix_path, flags->options.source_root);
    exit_code = run_check_command(*flags);
  });
}

}  // namespace crossload::cli
