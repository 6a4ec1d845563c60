#include <fmt/format.h>

#include <filesystem>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/cli/validators.h"
#include "harness/store/store.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"
#include "reports/reporter.h"
#include "reports/stored_reports.h"

namespace crossload::cli {

namespace {

struct ReportFlags {
  std::string out_dir = "crossload-out";
  std::string store;  // default: <out>/results.db
  int64_t run_id = 0; // default: the latest run
};

int report(const ReportFlags& f, const std::vector<std::string>& reports) {
  std::string path = f.store.empty() ? f.out_dir + "/results.db" : f.store;
  auto store = Store::open(path);
  if (!store) return fail(store.error());
  int64_t id = f.run_id;
  if (id == 0) {
    auto latest = store->latest_run();
    if (!latest) return fail(latest.error());
    if (!*latest) return fail(make_error(path + ": no run recorded"));
    id = (*latest)->id;
  }
  std::filesystem::create_directories(f.out_dir);
  auto written = write_stored_reports(*store, id, reports, f.out_dir);
  if (!written) return fail(written.error());
  for (const auto& out : *written) std::cout << "report: " << out << '\n';
  return exit_code::kOk;
}

}  // namespace

CommandRun report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("--out,-o", flags->out_dir, "output directory")->check(out_dir())->capture_default_str();
  cmd->add_option("--store", flags->store, "results database (default: OUT/results.db)");
  cmd->add_option("--run", flags->run_id, "run id (default: the latest)");
  return [flags](const CommandFlags& f) { return report(*flags, f.reports); };
}

}  // namespace crossload::cli
