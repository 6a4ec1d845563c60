#include "harness/cli/cli.h"

#include <fmt/format.h>

#include <array>
#include <iostream>
#include <string_view>

#include "formats/registry.h"
#include "harness/cli/commands.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

using AddCommand = void (*)(CLI::App&, int&);

// The table of subcommands; `crossload --help` lists them in this order.
constexpr std::array<AddCommand, 14> kCommands{
    &add_run_command,
    &add_plan_command,
    &add_merge_command,
    &add_report_command,
    &add_compare_command,
    &add_env_command,
    &add_inspect_command,
    &add_diff_command,
    &add_check_command,
    &add_produce_command,
    &add_consume_command,
    &add_bench_command,
    &add_causes_command,
    &add_forecast_command,
};

std::string version_text() {
  std::string text = fmt::format("crossload {}\nformats:", CROSSLOAD_VERSION);
  for (const auto& f : all_formats()) text += fmt::format(" {}", f.name);
  return text;
}

}  // namespace

int fail(const Error& error) {
  std::cerr << "error: " << error.message << '\n';
  return exit_code::of(error.kind);
}

int main(int argc, char** argv) {
  CLI::App app{"crossload: can a persisted scikit-learn model be loaded over there, "
               "and how fast, how big, how safe?"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  int exit_code = exit_code::kOk;
  for (AddCommand add : kCommands) add(app, exit_code);
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
