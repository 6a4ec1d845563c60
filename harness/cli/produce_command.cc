#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/run/split.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

struct ProduceFlags {
  ProduceOptions options;
  bool quiet = false, verbose = false;
};

int produce(const ProduceFlags& f) {
  RunLog log(std::cerr, f.quiet ? Verbosity::kQuiet : f.verbose ? Verbosity::kVerbose : Verbosity::kNormal);
  auto s = produce_to_dir(f.options, log);
  if (!s) {
    log.error("{}", s.error().message);
    return exit_code::of(s.error().kind);
  }
  if (!s->unavailable.empty()) {
    log.error("environment {} unavailable, nothing produced: {}", f.options.env, s->unavailable);
    return exit_code::kEnvironment;
  }
  std::cout << fmt::format("produced in {}: {} artifacts, {} unsupported, {} failed\nindex: {}\n", f.options.env,
                           s->ok, s->unsupported, s->failed, s->index_path);
  return exit_code::kOk;
}

}  // namespace

void add_produce_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ProduceFlags>();
  flags->options.source_root = default_source_root();
  flags->options.cache_dir = default_cache_dir();
  CLI::App* cmd = app.add_subcommand(
      "produce", "Train and persist the matrix's fixtures in one environment into a directory to carry elsewhere");
  cmd->add_option("--matrix,-m", flags->options.matrix_path, "matrix file")->capture_default_str();
  cmd->add_option("--env,-e", flags->options.env, "the producer environment (one of the matrix's producers)")
      ->required();
  cmd->add_option("--out,-o", flags->options.out_dir,
                  "directory for the artifacts, manifests, reference predictions and artifacts.json")
      ->required()->check(out_dir());
  cmd->add_option("--cache-dir", flags->options.cache_dir, "where built environments are kept")->capture_default_str();
  cmd->add_option("--root", flags->options.source_root, "crossload source tree (worker, formats, fixtures)")
      ->capture_default_str();
  cmd->add_option("--shard", flags->options.shard, "K/N: only the fixtures `run --shard K/N` would produce here")
      ->check(shard_spec());
  cmd->add_flag("--quiet,-q", flags->quiet, "only errors and the summary");
  cmd->add_flag("--verbose,-v", flags->verbose, "every step");
  cmd->callback([flags, &exit_code] {
    flags->options.matrix_path = locate_matrix(flags->options.matrix_path, flags->options.source_root);
    exit_code = produce(*flags);
  });
}

}  // namespace crossload::cli
