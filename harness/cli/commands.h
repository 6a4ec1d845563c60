#pragma once
// The command table's parts. Each subcommand lives in its own file and has one function that adds
// its own flags to its CLI11 app and returns what runs it; harness/cli/cli.cc holds the table
// {name, description, flag groups, function}, adds the flag groups a command names
// (flag_groups.h) and passes their values to it.
#include <CLI/CLI.hpp>

#include <functional>

#include "harness/cli/flag_groups.h"
#include "harness/util/result.h"

namespace crossload::cli {

// Says what went wrong ("error: ..." on stderr) and returns the exit code of its kind: the one
// mapping of harness/util/exit_codes.h, so no command picks a number of its own.
int fail(const Error& error);
// The same through the command's log. An Error of kind kInterrupted (SIGINT/SIGTERM stopped the
// command: harness/util/interrupt.h) is told as it is, without "error:" since stopping was asked
// for; its message says what was kept (README, "Interrupting a run").
int fail(const Error& error, RunLog& log);

// Runs a parsed command: the flag groups' values in, the process exit code out.
using CommandRun = std::function<int(const CommandFlags&)>;
// Adds a command's own flags (and subcommands) to `cmd`; returns what runs it.
using AddCommandFlags = CommandRun (*)(CLI::App& cmd);

struct Command {
  const char* name;
  const char* description;
  unsigned flag_groups;  // FlagGroup bits: added by the table, before the command's own flags
  AddCommandFlags add_flags;
};

CommandRun run_command(CLI::App& cmd);
CommandRun plan_command(CLI::App& cmd);
CommandRun merge_command(CLI::App& cmd);
CommandRun report_command(CLI::App& cmd);
CommandRun compare_command(CLI::App& cmd);
CommandRun env_command(CLI::App& cmd);
CommandRun inspect_command(CLI::App& cmd);
CommandRun diff_command(CLI::App& cmd);
CommandRun check_command(CLI::App& cmd);
CommandRun produce_command(CLI::App& cmd);
CommandRun consume_command(CLI::App& cmd);
CommandRun bench_command(CLI::App& cmd);
CommandRun causes_command(CLI::App& cmd);
CommandRun forecast_command(CLI::App& cmd);

}  // namespace crossload::cli
