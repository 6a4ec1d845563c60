#pragma once
// Environment providers (host, pip, debian) behind one interface: provision an environment
// (cached) and say how to start a Python inside it.
#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness/env/env_spec.h"
#include "harness/env/qemu.h"
#include "harness/util/result.h"

namespace crossload {

// How to start a program inside a provisioned environment.
struct Launch {
  std::vector<std::string> python;          // argv prefix that runs the environment's python3,
                                            // e.g. {"/x/.venv/bin/python"} or {"bwrap", ..., "/usr/bin/python3"}
  std::map<std::string, std::string> env;   // extra environment variables
  bool emulated = false;                    // runs under QEMU user-mode emulation
  std::string where;                        // human-readable: "host", "bookworm/s390x rootfs under qemu-s390x"
  // When set, the consumer worker is this program inside the environment in place of python3
  // (the native ONNX consumer, harness/env/native_onnx.h); producing still uses python.
  std::string loader_program{};
  // The QEMU build it runs under (empty name: native); recorded in its fingerprint by the harness.
  QemuBuild qemu{};
};

struct ProvisionContext {
  std::string source_root;   // crossload tree, made visible (read-only) at the same path inside
  std::string run_dir;       // made visible (read-write) at the same path inside
  std::string cache_dir;     // where built environments are kept
  std::ostream* log = nullptr;  // every command echoed here with where it ran
  std::chrono::seconds timeout{900};
  // `--qemu BUILD`: every emulated environment runs under this QEMU build (harness/env/qemu.h);
  // empty: each environment's own `qemu` key, else its CPU's preferred build.
  std::string qemu{};
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  // Builds (or finds in the cache) the environment. An Error means ENV_UNAVAILABLE, with the reason.
  virtual Result<Launch> provision(const EnvSpec& spec, const ProvisionContext& ctx) = 0;
};

// The explicit table of providers; nullptr for an unknown name.
std::unique_ptr<Provider> make_provider(const std::string& name);
std::vector<std::string> provider_names();

}  // namespace crossload
