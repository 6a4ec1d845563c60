#include "harness/env/host_provider.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

namespace crossload {

Result<Launch> HostProvider::provision(const EnvSpec& spec, const ProvisionContext&) {
  namespace fs = std::filesystem;
  bool on_path = spec.python.find('/') == std::string::npos;
  if (!on_path && ::access(spec.python.c_str(), X_OK) != 0) {
    return make_error(fmt::format("{}: [env.{}] python: {} is not an executable interpreter{}",
                                  spec.origin, spec.name, spec.python,
                                  fs::exists(spec.python) ? "" : " (no such file; did ci/setup run?)"));
  }
  Launch launch;
  launch.python = {spec.python};
  launch.where = "host (" + spec.python + ")";
  return launch;
}

}  // namespace crossload
