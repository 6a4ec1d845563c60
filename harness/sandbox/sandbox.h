#pragma once
// The consumer sandbox: every worker that loads artifacts runs under bubblewrap with no network,
// its own PID namespace, the run directory read-only except the cells it writes, and a private
// /tmp. What it guarantees and what it does not: docs/isolation.md.
#include <ostream>
#include <string>
#include <vector>

#include "harness/env/provider.h"
#include "harness/util/result.h"

namespace crossload {

struct SandboxPaths {
  std::string run_dir;      // <out>: visible read-only, but for <out>/cells (writable)
  std::string source_root;  // the crossload tree (the worker, formats, fixtures): read-only
  std::string cache_dir;    // built environments: read-only
};

// The argv of a sandboxed launch: a host or pip launch gains a bwrap prefix; a debian launch,
// already bwrap, gains a PID namespace and the read-only run directory. An Error names why the
// launch cannot be sandboxed (a bwrap launch that does not bind the run directory).
Result<Launch> sandbox_launch(const Launch& launch, const SandboxPaths& paths);

// Whether bwrap can build the sandbox here: ok, or what failed and how to fix it.
Status probe_sandbox(std::ostream* log);

// `<out>/cells`: the one place a consumer worker writes.
std::string sandbox_cells_dir(const std::string& run_dir);

}  // namespace crossload
