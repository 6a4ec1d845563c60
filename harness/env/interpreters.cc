#include "harness/env/interpreters.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "harness/env/kept_facts.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

fs::path pyenv_root() {
  std::string root = env_or_empty("PYENV_ROOT"), home = env_or_empty("HOME");
  return root.empty() ? fs::path(home.empty() ? "/root" : home) / ".pyenv" : fs::path(root);
}

std::vector<std::string> candidates(const std::string& name) {
  std::vector<std::string> out;
  if (name.find('/') != std::string::npos) return {name};
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) out.push_back(dir + "/" + name);
  fs::path versions = pyenv_root() / "versions";
  std::error_code ec;
  std::vector<std::string> pyenv_hits;
  for (const auto& v : fs::directory_iterator(versions, ec))
    if (::access((v.path() / "bin" / name).c_str(), X_OK) == 0) pyenv_hits.push_back((v.path() / "bin" / name).string());
  std::sort(pyenv_hits.rbegin(), pyenv_hits.rend());  // the newest patch release first
  out.insert(out.end(), pyenv_hits.begin(), pyenv_hits.end());
  return out;
}

// What a pyenv shim reads to choose a version (pyenv-version-file, pyenv-version-name).
nlohmann::json pyenv_selection() {
  nlohmann::json files = nlohmann::json::array();
  std::error_code ec;
  fs::path dir = env_or_empty("PYENV_DIR").empty() ? fs::current_path(ec) : fs::path(env_or_empty("PYENV_DIR"));
  for (; !dir.empty(); dir = dir.parent_path()) {
    files.push_back(file_identity(dir / ".python-version"));
    if (dir == dir.root_path()) break;
  }
  files.push_back(file_identity(pyenv_root() / "version"));
  return {{"PATH", env_or_empty("PATH")}, {"PYENV_VERSION", env_or_empty("PYENV_VERSION")},
          {"PYENV_DIR", env_or_empty("PYENV_DIR")}, {"PYENV_ROOT", env_or_empty("PYENV_ROOT")}, {"files", files}};
}

nlohmann::json lookup_key(const std::string& name) {
  nlohmann::json found = nlohmann::json::array();
  std::error_code ec;
  for (const auto& c : candidates(name)) {
    found.push_back(file_identity(c));
    if (auto real = fs::canonical(c, ec); !ec && real != fs::path(c)) found.push_back(file_identity(real));
  }
  return {{"name", name}, {"candidates", found}, {"selection", pyenv_selection()}};
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

Result<Interpreter> find_interpreter(const std::string& name, const StepContext& sc, const std::string& cache_dir) {
  if (cache_dir.empty()) return find_interpreter(name, sc);
  std::string wanted = name.empty() ? "python3" : name;
  nlohmann::json key = lookup_key(wanted);
  std::string path = kept_path(cache_dir, "interpreters", "python", key);
  if (auto kept = read_kept(path, key)) {
    Interpreter i{kept->value("executable", ""), kept->value("version", "")};
    if (!i.executable.empty() && !i.version.empty() && kept->value("identity", nlohmann::json()) == file_identity(i.executable))
      return i;
  }
  auto found = find_interpreter(wanted, sc);
  if (found) keep(path, key, {{"executable", found->executable}, {"version", found->version},
                              {"identity", file_identity(found->executable)}});
  return found;
}

std::string major_minor(const std::string& version) {
  auto first = version.find('.');
  if (first == std::string::npos) return version;
  auto second = version.find('.', first + 1);
  return version.substr(0, second);
}

}  // namespace crossload
