#include "harness/env/debian_provider.h"
#include "harness/env/host_provider.h"
#include "harness/env/pip_provider.h"
#include "harness/env/provider.h"

namespace crossload {

// The explicit table of providers (no self-registration: a static library may drop it).
std::unique_ptr<Provider> make_provider(const std::string& name) {
  if (name == "host") return std::make_unique<HostProvider>();
  if (name == "pip") return std::make_unique<PipProvider>();
  if (name == "debian") return std::make_unique<DebianProvider>();
  return nullptr;
}

std::vector<std::string> provider_names() { return {"host", "pip", "debian"}; }

}  // namespace crossload
