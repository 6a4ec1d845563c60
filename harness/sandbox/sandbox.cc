#include "harness/sandbox/sandbox.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "harness/util/process.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

using Args = std::vector<std::string>;

bool under_tmp(const std::string& path) { return path == "/tmp" || path.rfind("/tmp/", 0) == 0; }

// The sandbox's /tmp is a fresh tmpfs, which hides the host's: what the worker needs from there
// (a venv, the source tree, the environment cache of a test) comes back read-only.
Args rebind_from_host_tmp(const Launch& launch, const SandboxPaths& paths) {
  std::vector<std::string> wanted{paths.source_root, paths.cache_dir};
  if (!launch.python.empty() && launch.python[0].find('/') != std::string::npos) {
    // <prefix>/bin/python: the interpreter's installation, and the one its link points into.
    fs::path python(launch.python[0]);
    std::error_code ec;
    wanted.push_back(python.parent_path().parent_path().string());
    fs::path real = fs::canonical(python, ec);
    if (!ec) wanted.push_back(real.parent_path().parent_path().string());
  }
  Args args;
  for (const auto& path : wanted) {
    if (path.empty() || !under_tmp(path)) continue;
    if (std::find(args.begin(), args.end(), path) != args.end()) continue;
    args.insert(args.end(), {"--ro-bind-try", path, path});
  }
  return args;
}

// The run directory read-only (artifacts, results store, reports, logs), but the cells the
// worker writes predictions into.
Args run_dir_binds(const SandboxPaths& paths) {
  std::string cells = sandbox_cells_dir(paths.run_dir);
  return {"--ro-bind", paths.run_dir, paths.run_dir, "--bind", cells, cells};
}

Launch wrap_host_launch(const Launch& launch, const SandboxPaths& paths) {
  Args a{"bwrap",    "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/",
         "--dev",    "/dev",          "--proc",        "/proc",             "--tmpfs",   "/tmp"};
  for (Args part : {rebind_from_host_tmp(launch, paths), run_dir_binds(paths)}) a.insert(a.end(), part.begin(), part.end());
  // The host's TMPDIR may name a directory the sandbox shows read-only or not at all.
  a.insert(a.end(), {"--setenv", "TMPDIR", "/tmp", "--chdir", "/"});
  a.insert(a.end(), launch.python.begin(), launch.python.end());
  Launch out = launch;
  out.python = std::move(a);
  return out;
}

// A debian launch is bwrap already, with no network and a private /tmp: it gains a PID namespace
// (a fresh /proc to match it) and, after its read-write bind of the run directory, the read-only one.
Result<Launch> tighten_bwrap_launch(const Launch& launch, const SandboxPaths& paths) {
  Args a = launch.python;
  auto bwrap = std::find(a.begin(), a.end(), "bwrap");
  const Args run_bind{"--bind", paths.run_dir, paths.run_dir};
  auto bind = std::search(bwrap, a.end(), run_bind.begin(), run_bind.end());
  if (bind == a.end())
    return make_error(fmt::format("cannot sandbox the launch '{}': it does not bind the run directory {}",
                                  fmt::join(a, " "), paths.run_dir));
  auto bwrap_at = bwrap - a.begin();
  auto after_bind = (bind - a.begin()) + static_cast<long>(run_bind.size());
  Args extra{"--proc", "/proc"};
  Args binds = run_dir_binds(paths);
  extra.insert(extra.end(), binds.begin(), binds.end());
  a.insert(a.begin() + after_bind, extra.begin(), extra.end());
  a.insert(a.begin() + bwrap_at + 1, "--unshare-pid");
  Launch out = launch;
  out.python = std::move(a);
  return out;
}

}  // namespace

std::string sandbox_cells_dir(const std::string& run_dir) { return run_dir + "/cells"; }

Result<Launch> sandbox_launch(const Launch& launch, const SandboxPaths& paths) {
  std::error_code ec;
  fs::create_directories(sandbox_cells_dir(paths.run_dir), ec);  // bwrap binds only what exists
  if (ec) return make_error(fmt::format("{}: cannot create: {}", sandbox_cells_dir(paths.run_dir), ec.message()));
  bool is_bwrap = std::find(launch.python.begin(), launch.python.end(), "bwrap") != launch.python.end();
  if (is_bwrap) return tighten_bwrap_launch(launch, paths);
  return wrap_host_launch(launch, paths);
}

Status probe_sandbox(std::ostream* log) {
  ProcessOptions o;
  o.argv = {"bwrap", "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "true"};
  o.timeout = std::chrono::seconds(30);
  o.echo = log;
  auto r = run_process(o);
  if (!r) return make_error("bubblewrap (bwrap) is not installed: " + r.error().message +
                            " (Debian package bubblewrap; ci/setup installs it)");
  if (!r->success())
    return make_error(fmt::format("bwrap cannot build the sandbox here ({}): {}", r->status_text(), r->tail()));
  return ok_status();
}

}  // namespace crossload
