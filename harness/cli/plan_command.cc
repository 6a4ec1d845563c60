#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "harness/cli/commands.h"
#include "harness/cli/narrow_flags.h"
#include "harness/core/matrix.h"
#include "harness/run/plan.h"
#include "harness/run/shard.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

struct PlanFlags {
  int shards = 1;
  std::string emit = "text";
  Narrowing narrow;
};

int plan(const PlanFlags& f, const CommandFlags& common) {
  auto m = load_matrix(common.matrix);
  if (!m) return fail(m.error());
  if (auto st = narrow_matrix(*m, f.narrow); !st) return fail(st.error());
  auto zoo = list_zoo(common.root);
  if (!zoo) return fail(zoo.error());
  auto sel = select(*m, *zoo);
  if (!sel) return fail(sel.error());
  std::size_t pairs = sel->fixtures.size() * m->producers.size();
  std::size_t per_pair = sel->formats.size() * m->consumers.size();
  nlohmann::json include = nlohmann::json::array();
  for (int k = 1; k <= f.shards; ++k) {
    std::size_t held = 0;
    for (std::size_t p = 0; p < pairs; ++p) held += Shard{k, f.shards}.holds(p);
    std::string spec = fmt::format("{}/{}", k, f.shards);
    include.push_back({{"shard", spec}, {"cells", held * per_pair}});
    if (f.emit == "text") std::cout << fmt::format("shard {}: {} fixture×producer pairs, {} cells\n", spec, held, held * per_pair);
  }
  if (f.emit == "github") std::cout << nlohmann::json{{"include", include}}.dump() << '\n';
  if (f.emit == "text")
    std::cout << fmt::format("{}: {} fixtures × {} formats × {} producers × {} consumers = {} cells\n", common.matrix,
                             sel->fixtures.size(), sel->formats.size(), m->producers.size(), m->consumers.size(),
                             pairs * per_pair);
  return exit_code::kOk;
}

}  // namespace

CommandRun plan_command(CLI::App& app) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("--shards", flags->shards, "number of shards")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--emit", flags->emit, "text, or github (a job-matrix JSON for strategy.matrix)")
      ->check(CLI::IsMember({"text", "github"}))->capture_default_str();
  add_narrowing_flags(cmd, flags->narrow);
  return [flags](const CommandFlags& f) { return plan(*flags, f); };
}

}  // namespace crossload::cli
