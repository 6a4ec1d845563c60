#include "harness/cli/cli.h"

#include <fmt/format.h>

#include <memory>
#include <iostream>
#include <string_view>

#include "formats/registry.h"
#include "harness/cli/commands.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

// The table of subcommands; `crossload --help` lists them in this order. A command's flag groups
// (flag_groups.h) come before its own flags in its --help.
constexpr unsigned kLoads = kMatrixFlags | kCacheFlags | kLoadPolicyFlags | kReportFlags | kFailOnFlags | kVerbosityFlags;
const Command kCommands[] = {
    {"run", "Produce, cross-load and compare every cell of a matrix", kLoads, &run_command},
    {"plan", "Show the cells of a matrix and its shards (builds nothing)", kMatrixFlags, &plan_command},
    {"merge", "Join result stores of shards into one (idempotent) and report", 0, &merge_command},
    {"report", "Render the reports of a stored run again", kReportFlags, &report_command},
    {"compare", "Compare two .npy prediction files (either byte order)", 0, &compare_command},
    // `env list|build|info|shell|gc`: each of its subcommands takes --matrix, --root and --cache-dir
    {"env", "List, build, inspect and enter the environments of a matrix", 0, &env_command},
    {"inspect", "Audit artifacts statically (never loads them): imports, arrays, versions, verdict",
     kMatrixFlags | kCacheFlags,  // the environments of --forecast
     &inspect_command},
    {"diff", "Compare a run with a baseline: compatibility and performance regressions, fixes, new and vanished cells",
     0, &diff_command},
    {"check", "Check your own artifact: where it loads and predicts identically, where it breaks, and why",
     kMatrixFlags | kCacheFlags | kVerbosityFlags, &check_command},
    {"produce", "Train and persist the matrix's fixtures in one environment into a directory to carry elsewhere",
     kMatrixFlags | kCacheFlags | kVerbosityFlags, &produce_command},
    {"consume", "Load every artifact of directories made by `crossload produce` in one environment, and report",
     kLoads, &consume_command},
    {"bench", "Measure load time, cold start, memory, sharing and size per format; judge the guide's claims",
     kMatrixFlags | kCacheFlags, &bench_command},
    {"causes", "List the catalogue of breakage causes, or attribute every non-OK cell of stored runs to one", 0,
     &causes_command},
    {"forecast", "Predict, without loading anything, whether artifacts load and predict in environments, and why",
     kMatrixFlags | kCacheFlags, &forecast_command},
};

void add(CLI::App& app, const Command& c, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(c.name, c.description);
  auto flags = std::make_shared<CommandFlags>();
  add_flag_groups(cmd, c.flag_groups, *flags);
  CommandRun run = c.add_flags(*cmd);
  cmd->callback([flags, run, groups = c.flag_groups, &exit_code] {
    if (groups & kMatrixFlags) resolve_flags(*flags);
    exit_code = run(*flags);
  });
}

std::string version_text() {
  std::string text = fmt::format("crossload {}\nformats:", CROSSLOAD_VERSION);
  for (const auto& f : all_formats()) text += fmt::format(" {}", f.name);
  return text;
}

}  // namespace

int fail(const Error& error) {
  RunLog log(std::cerr);
  return fail(error, log);
}

int fail(const Error& error, RunLog& log) {
  if (error.kind == ErrorKind::kInterrupted) {
    log.clear_status();
    log.always(error.message);
  } else {
    log.error("{}", error.message);
  }
  return exit_code::of(error.kind);
}

int main(int argc, char** argv) {
  CLI::App app{"crossload: can a persisted scikit-learn model be loaded over there, "
               "and how fast, how big, how safe?"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  int exit_code = exit_code::kOk;
  for (const Command& c : kCommands) add(app, c, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_code::kOk : exit_code::kUsage;
  } catch (const std::exception& e) {
    // Errors are values below main; an exception reaching here is a crossload bug.
    std::cerr << "crossload: internal error: " << e.what() << '\n';
    return exit_code::kInternal;
  }
  return exit_code;
}

}  // namespace crossload::cli
