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

// find_interpreter, its answer kept in <cache_dir>/interpreters/ (kept_facts.h): starting a
// Python through a pyenv shim costs a few hundred ms (bash and pyenv's scripts), every run. The
// answer is reused while the lookup would go the same way and end at the same file: the same
// candidates (path, inode, size, mtime of each and of what it links to), the same PATH and pyenv
// selection (PYENV_VERSION, PYENV_DIR, PYENV_ROOT, every .python-version from the working folder
// up, pyenv's global version file), and the interpreter it found unchanged (its real path, inode,
// size, mtime). Anything else asks the interpreter again. An empty `cache_dir` keeps nothing.
Result<Interpreter> find_interpreter(const std::string& name, const StepContext& sc, const std::string& cache_dir);

// "3.10" of "3.10.13".
std::string major_minor(const std::string& version);

}  // namespace crossload
