#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/validators.h"
#include "harness/run/split.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"

namespace crossload::cli {

namespace {

int produce(ProduceOptions o, const CommandFlags& f) {
  apply_matrix_flags(f, o);
  RunLog log(std::cerr, f.verbosity());
  install_interrupt_handlers();  // SIGINT/SIGTERM: the complete artifacts stay (README, "Interrupting a run")
  auto s = produce_to_dir(o, log);
  if (!s) return fail(s.error(), log);
  if (!s->unavailable.empty()) {
    log.error("environment {} unavailable, nothing produced: {}", o.env, s->unavailable);
    return exit_code::kEnvironment;
  }
  std::cout << fmt::format("produced in {}: {} artifacts, {} unsupported, {} failed\nindex: {}\n", o.env,
                           s->ok, s->unsupported, s->failed, s->index_path);
  return exit_code::kOk;
}

}  // namespace

CommandRun produce_command(CLI::App& app) {
  auto o = std::make_shared<ProduceOptions>();
  CLI::App* cmd = &app;
  cmd->add_option("--env,-e", o->env, "the producer environment (one of the matrix's producers)")->required();
  cmd->add_option("--out,-o", o->out_dir, "directory for the artifacts, manifests, reference predictions and artifacts.json")
      ->required()->check(out_dir());
  cmd->add_option("--shard", o->shard, "K/N: only the fixtures `run --shard K/N` would produce here")
      ->check(shard_spec());
  return [o](const CommandFlags& f) { return produce(*o, f); };
}

}  // namespace crossload::cli
