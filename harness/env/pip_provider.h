#pragma once
// A venv with pinned requirements (scikit-learn==1.3.2, numpy<2) on a base interpreter of this
// machine (spec.python: "python3", "python3.10" or a path), cached by interpreter and pins.
#include <string>

#include "harness/env/cache.h"
#include "harness/env/interpreters.h"
#include "harness/env/provider.h"

namespace crossload {

CacheKey pip_cache_key(const EnvSpec& spec, const Interpreter& base);

class PipProvider : public Provider {
 public:
  std::string name() const override { return "pip"; }
  Result<Launch> provision(const EnvSpec& spec, const ProvisionContext& ctx) override;
};

}  // namespace crossload
