#include "harness/env/interpreters.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> candidates(const std::string& name) {
  std::vector<std::string> out;
  if (name.find('/') != std::string::npos) return {name};
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) out.push_back(dir + "/" + name);
  const char* pyenv = std::getenv("PYENV_ROOT");
  const char* home = std::getenv("HOME");
  fs::path versions = pyenv ? fs::path(pyenv) / "versions" : fs::path(home ? home : "/root") / ".pyenv/versions";
  std::error_code ec;
  std::vector<std::string> pyenv_hits;
  for (const auto& v : fs::directory_iterator(versions, ec))
    if (::access((v.path() / "bin" / name).c_str(), X_OK) == 0) pyenv_hits.push_back((v.path() / "bin" / name).string());
  std::sort(pyenv_hits.rbegin(), pyenv_hits.rend());  // the newest patch release first
  out.insert(out.end(), pyenv_hits.begin(), pyenv_hits.end());
  return out;
}

}  // namespace

Result<Interpreter> find_interpreter(const std::string& name, const StepContext& sc) {
  std::string wanted = name.empty() ? "python3" : name;
  std::vector<std::string> tried;
  for (const auto& c : candidates(wanted)) {
    ProcessOptions o;
    o.argv = {c, "-c", "import sys, platform; print(sys.executable); print(platform.python_version())"};
    o.timeout = std::chrono::seconds(30);
    auto r = run_step(o, sc);
    if (r && r->success()) {
      std::istringstream lines(r->out);
      Interpreter i;
      std::getline(lines, i.executable);
      std::getline(lines, i.version);
      // python3 and python3.11 are often links to one file: one cache key for both.
      std::error_code ec;
      if (auto real = fs::canonical(i.executable, ec); !ec) i.executable = real.string();
      if (!i.executable.empty() && !i.version.empty()) return i;
    }
    tried.push_back(c);
  }
  if (tried.empty())
    return make_error(fmt::format("no interpreter '{}' on PATH or among pyenv's versions", wanted));
  return make_error(fmt::format("no working interpreter '{}' (tried {})", wanted, join(tried, ", ")));
}

std::string major_minor(const std::string& version) {
  auto first = version.find('.');
  if (first == std::string::npos) return version;
  auto second = version.find('.', first + 1);
  return version.substr(0, second);
}

}  // namespace crossload
