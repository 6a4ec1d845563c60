#pragma once
#include "harness/env/provider.h"

namespace crossload {

// An existing interpreter on this machine (a venv, a conda env, the system python).
class HostProvider : public Provider {
 public:
  std::string name() const override { return "host"; }
  Result<Launch> provision(const EnvSpec& spec, const ProvisionContext& ctx) override;
};

}  // namespace crossload
