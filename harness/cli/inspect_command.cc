// `crossload inspect FILE...`: the static audit. Flags only: it opens no store, builds no
// environment and never imports or executes what it reads.
#include <fmt/format.h>

#include <iostream>
#include <string>
#include <vector>

#include "harness/audit/inspect.h"
#include "harness/audit/render.h"
#include "harness/cli/commands.h"
#include "harness/cli/forecast_envs.h"
#include "harness/cli/paths.h"
#include "harness/core/matrix.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

// Exit codes of `inspect` (docs/inspect.md), from the shared table.
constexpr int kAllPass = exit_code::kOk;            // every verdict below --fail-on
constexpr int kVerdictFailed = exit_code::kCellsFailed;  // some verdict at or above --fail-on
constexpr int kUnreadable = exit_code::kBadInput;   // some file could not be read or parsed

struct InspectArgs {
  std::vector<std::string> files;
  std::string format = "text";
  std::vector<std::string> trust_files;
  std::string fail_on = "untrusted";
  std::uint64_t max_decompressed = std::uint64_t{2} << 30;
  std::uint64_t max_tensor_bytes = std::uint64_t{4} << 30;
  bool forecast = false;  // and a forecast per environment of the default matrix (forecast_envs.h)
};

bool fails(audit::Verdict v, const std::string& fail_on) {
  if (fail_on == "never") return false;
  if (fail_on == "unsafe") return v == audit::Verdict::kUnsafe;
  return v != audit::Verdict::kSafe;
}

int run_inspect(const InspectArgs& args, const CommandFlags& flags) {
  audit::Policy policy;
  for (const auto& t : args.trust_files)
    if (auto st = policy.add_trust_file(t); !st) {
      std::cerr << "crossload inspect: " << st.error().message << "\n";
      return exit_code::kUsage;
    }
  audit::InspectOptions options;
  options.max_decompressed = args.max_decompressed;
  options.max_tensor_bytes = args.max_tensor_bytes;
  std::vector<audit::InspectionRecord> records;
  std::vector<audit::InspectError> errors;
  for (const auto& path : args.files) {
    auto rec = audit::inspect_file(path, policy, options);
    if (rec) {
      records.push_back(std::move(*rec));
    } else {
      std::cerr << "crossload inspect: error: " << rec.error().message << "\n";
      errors.push_back({path, rec.error().message});
    }
  }
  if (args.format == "json") std::cout << audit::render_json(records);
  else if (args.format == "sarif") std::cout << audit::render_sarif(records, errors);
  else std::cout << audit::render_text(records);
  if (args.forecast)  // JSON and SARIF keep stdout machine-readable: the forecast goes to stderr
    for (const auto& r : records)
      (args.format == "text" ? std::cout : std::cerr)
          << forecast_section(r, flags.matrix, {}, flags.cache_dir);
  std::cout.flush();
  if (!errors.empty()) return kUnreadable;
  for (const auto& r : records)
    if (fails(r.verdict, args.fail_on)) return kVerdictFailed;
  return kAllPass;
}

}  // namespace

CommandRun inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = &app;
  cmd->add_option("files", args->files, "artifacts: pickle, joblib, cloudpickle, skops, ONNX, "
                                        ".npy, .npz")
      ->required();
  cmd->add_option("--format", args->format, "output: text (default), json, sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  cmd->add_option("--trust", args->trust_files,
                  "file of extra trusted names, one 'module.name' or 'module.*' per line "
                  "(repeatable; never overrides the dangerous set)");
  cmd->add_option("--fail-on", args->fail_on,
                  "exit 1 when a verdict is at least: untrusted (default), unsafe, never")
      ->check(CLI::IsMember({"untrusted", "unsafe", "never"}));
  cmd->add_option("--max-decompressed", args->max_decompressed,
                  "bytes a compressed joblib file may inflate to (default 2 GiB)");
  cmd->add_option("--max-tensor-bytes", args->max_tensor_bytes,
                  "bytes an ONNX tensor may declare (default 4 GiB)");
  cmd->add_flag("--forecast", args->forecast,
                "also forecast each artifact in the consumers of the matrix (--matrix; crossload forecast)");
  return [args](const CommandFlags& f) { return run_inspect(*args, f); };
}

}  // namespace crossload::cli
