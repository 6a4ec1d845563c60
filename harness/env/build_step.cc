#include "harness/env/build_step.h"

#include <fmt/format.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/util/text.h"

namespace crossload {

namespace {

void append_log(const std::string& path, const ProcessOptions& o, const ProcessResult* r, const Error* e) {
  std::ofstream log(path, std::ios::app);
  log << "\n+ " << shell_line(o.argv) << "   [" << o.where << "]\n";
  if (e) {
    log << "could not start: " << e->message << "\n";
    return;
  }
  log << r->out;
  if (!r->out.empty() && r->out.back() != '\n') log << "\n";
  log << r->err;
  if (!r->err.empty() && r->err.back() != '\n') log << "\n";
  log << "# " << r->status_text() << " after " << format_duration(r->seconds) << "\n";
}

// The system tools a pip-installed crossload cannot carry, looked up on PATH when an environment
// first needs them: a missing one's error names the Debian package that brings it.
std::string missing_tool_hint(const std::string& program) {
  static const std::vector<std::pair<std::string, std::string>> kPackages{
      {"mmdebstrap", "mmdebstrap"}, {"bwrap", "bubblewrap"}, {"setarch", "util-linux"}};
  for (const auto& [tool, package] : kPackages)
    if (program == tool) return fmt::format(" (Debian package {}: apt-get install {})", package, package);
  if (program.rfind("qemu-", 0) == 0) return " (Debian package qemu-user-static: apt-get install qemu-user-static)";
  return "";
}

}  // namespace

Result<ProcessResult> run_step(ProcessOptions options, const StepContext& ctx) {
  options.echo = ctx.echo;
  options.die_with_parent = true;  // a build step is run and reaped by the thread that starts it
  options.out = Stream::kCapture;
  options.err = Stream::kCapture;
  auto r = run_process(options);
  if (!ctx.log_path.empty()) append_log(ctx.log_path, options, r ? &*r : nullptr, r ? nullptr : &r.error());
  return r;
}

Result<ProcessResult> run_step_checked(ProcessOptions options, const StepContext& ctx, const std::string& what) {
  std::string program = options.argv.empty() ? "" : options.argv[0];
  auto r = run_step(std::move(options), ctx);
  if (!r)
    return make_error(fmt::format("{}: {}{} (full log: {})", what, r.error().message, missing_tool_hint(program),
                                  ctx.log_path));
  if (r->success()) return r;
  std::string tail = r->tail(2);
  return make_error(fmt::format("{} failed ({}){}{} (full log: {})", what, r->status_text(),
                                tail.empty() ? "" : ": ", tail, ctx.log_path));
}

void note(const StepContext& ctx, const std::string& text) {
  if (ctx.echo) *ctx.echo << "  " << text << std::endl;
  if (!ctx.log_path.empty()) std::ofstream(ctx.log_path, std::ios::app) << "# " << text << "\n";
}

}  // namespace crossload
