#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/validators.h"
#include "harness/run/merge.h"
#include "harness/store/store.h"
#include "harness/util/exit_codes.h"
#include "reports/reporter.h"
#include "reports/stored_reports.h"

namespace crossload::cli {

namespace {

struct MergeFlags {
  std::vector<std::string> inputs;
  std::string out_dir = "crossload-out";
};

int merge(const MergeFlags& f) {
  auto s = merge_stores(f.inputs, f.out_dir);
  if (!s) return fail(s.error());
  std::cout << fmt::format("merged {} stores into {}/results.db run {}: {} cells, {} artifacts, {} environments\n",
                           s->inputs, f.out_dir, s->run_id, s->cells, s->artifacts, s->environments);
  auto store = Store::open(f.out_dir + "/results.db");
  if (!store) return fail(store.error());
  auto written = write_stored_reports(*store, s->run_id, reporter_names(), f.out_dir);
  if (!written) return fail(written.error());
  for (const auto& path : *written) std::cout << "report: " << path << '\n';
  return exit_code::kOk;
}

}  // namespace

CommandRun merge_command(CLI::App& app) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("stores", flags->inputs, "results.db files of the shards")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out,-o", flags->out_dir, "output directory of the merged store and reports")
      ->check(out_dir())->capture_default_str();
  return [flags](const CommandFlags&) { return merge(*flags); };
}

}  // namespace crossload::cli
