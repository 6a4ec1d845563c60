#pragma once
// A venv with pinned requirements (scikit-learn==1.3.2, numpy<2) on a base interpreter of this
// machine (spec.python: "python3", "python3.10" or a path), cached by interpreter and pins.
#include <string>

#include "harness/env/cache.h"
#include "harness/env/interpreters.h"
#include "harness/env/provider.h"

namespace crossload {

CacheKey pip_cache_key(const EnvSpec& spec, const Interpreter& base);

// A Python this machine lacks (spec.python "python3.14", no pyenv) comes from the Debian suite
// whose python3 it is (env_text.h: bookworm 3.11, trixie 3.13, sid 3.14, bullseye 3.9), for this
// CPU, run natively: the spec of that wheels-in-a-rootfs environment. An Error (nothing has that
// version) says what was tried and lists the versions that exist.
Result<EnvSpec> pip_on_debian_python(const EnvSpec& spec, const Error& not_found);

// The spec a pip environment is provisioned as: itself when its base interpreter is here (then
// `base` holds it), else pip_on_debian_python's. With a `cache_dir`, the base interpreter found
// by an earlier run is reused while it is unchanged (find_interpreter's kept answer).
Result<EnvSpec> resolve_pip_spec(const EnvSpec& spec, Interpreter* base, const StepContext& sc = {},
                                 const std::string& cache_dir = "");

class PipProvider : public Provider {
 public:
  std::string name() const override { return "pip"; }
  Result<Launch> provision(const EnvSpec& spec, const ProvisionContext& ctx) override;
};

}  // namespace crossload
