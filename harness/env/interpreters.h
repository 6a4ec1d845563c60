#pragma once
// Finding a base Python interpreter by name ("python3", "python3.10") or path on this machine.
#include <chrono>
#include <string>

#include "harness/env/build_step.h"
#include "harness/util/result.h"

namespace crossload {

struct Interpreter {
  std::string executable;  // sys.executable: a real path, not a pyenv shim
  std::string version;     // "3.10.13"
};

// A path is used as given; a bare name is looked up on PATH, then among pyenv's installed
// versions ($PYENV_ROOT or ~/.pyenv), whose shims refuse versions that are not selected.
// Each candidate is started once to learn its real executable and version.
Result<Interpreter> find_interpreter(const std::string& name, const StepContext& sc);

// "3.10" of "3.10.13".
std::string major_minor(const std::string& version);

}  // namespace crossload
