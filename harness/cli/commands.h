#pragma once
// Each subcommand lives in its own file and adds itself to the CLI11 app through one of these
// functions; harness/cli/cli.cc holds the table. A command's callback stores its exit code.
#include <CLI/CLI.hpp>

#include "harness/util/result.h"

namespace crossload::cli {

// Says what went wrong ("error: ..." on stderr) and returns the exit code of its kind: the one
// mapping of harness/util/exit_codes.h, so no command picks a number of its own.
int fail(const Error& error);

void add_run_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_plan_command(CLI::App& app, int& exit_code);
void add_merge_command(CLI::App& app, int& exit_code);
void add_compare_command(CLI::App& app, int& exit_code);
void add_inspect_command(CLI::App& app, int& exit_code);
void add_env_command(CLI::App& app, int& exit_code);
void add_diff_command(CLI::App& app, int& exit_code);
void add_check_command(CLI::App& app, int& exit_code);
void add_produce_command(CLI::App& app, int& exit_code);
void add_consume_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_causes_command(CLI::App& app, int& exit_code);
void add_forecast_command(CLI::App& app, int& exit_code);

}  // namespace crossload::cli
