#include "harness/env/pip_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

#include "harness/env/build_step.h"
#include "harness/env/debian_provider.h"
#include "harness/env/env_text.h"
#include "harness/env/smoke.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

std::string where(const std::string& venv_python, const Interpreter& base) {
  return fmt::format("venv {} (python {})", venv_python, base.version);
}

Result<nlohmann::json> build_venv(const EnvSpec& spec, const Interpreter& base, const BuildDir& dir,
                                  const ProvisionContext& ctx) {
  StepContext sc{ctx.log, dir.log_path};
  fs::path venv = fs::path(dir.dir) / "venv";
  ProcessOptions mk;
  mk.argv = {base.executable, "-m", "venv", venv.string()};
  mk.timeout = std::chrono::seconds(300);
  if (auto r = run_step_checked(mk, sc, "creating a venv with " + base.executable); !r) return r.error();
  std::string py = (venv / "bin/python").string();
  // Wheels only: building an old scikit-learn from source takes many minutes and a matching
  // compiler stack; a pin with no wheel for this Python is better reported than attempted.
  ProcessOptions pip;
  pip.argv = {py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"};
  pip.argv.insert(pip.argv.end(), spec.pip.begin(), spec.pip.end());
  pip.timeout = std::chrono::duration_cast<milliseconds>(ctx.timeout);
  pip.where = where(py, base);
  auto installed = run_step_checked(pip, sc, fmt::format("pip install {} on Python {}", join(spec.pip, " "), base.version));
  if (!installed) return installed.error();
  ProcessOptions smoke;
  smoke.argv = {py, "-c", smoke_script()};
  smoke.timeout = std::chrono::seconds(300);
  smoke.where = pip.where;
  auto r = run_step_checked(smoke, sc, "importing numpy/scipy/scikit-learn in the venv");
  if (!r) return r.error();
  auto facts = parse_smoke_output(r->out, pip.where);
  if (!facts) return facts.error();
  return nlohmann::json{{"base_python", base.executable}, {"base_version", base.version},
                        {"requirements", spec.pip}, {"smoke", *facts},
                        {"pip_seconds", installed->seconds}};
}

}  // namespace

CacheKey pip_cache_key(const EnvSpec& spec, const Interpreter& base) {
  std::vector<std::string> reqs = spec.pip;
  std::sort(reqs.begin(), reqs.end());
  return make_cache_key(fmt::format("pip-py{}", major_minor(base.version)),
                        {{"provider", "pip"},
                         {"python", base.executable},
                         {"python_version", base.version},
                         {"requirements", join(reqs, "\n  ")},
                         {"fixup_version", std::to_string(kFixupVersion)}});
}

Result<EnvSpec> pip_on_debian_python(const EnvSpec& spec, const Error& not_found) {
  static const std::regex versioned(R"(python(\d+\.\d+))");
  std::smatch m;
  if (!std::regex_match(spec.python, m, versioned)) return not_found;
  auto suite = suite_for_python(m[1]);
  if (!suite) return make_error(fmt::format("{}; {}", not_found.message, suite.error().message));
  auto arch = host_debian_arch();
  if (!arch) return make_error(fmt::format("{}; {}", not_found.message, arch.error().message));
  EnvSpec on_debian = spec;
  on_debian.suite = *suite;
  on_debian.arch = *arch;
  return on_debian;
}

Result<EnvSpec> resolve_pip_spec(const EnvSpec& spec, Interpreter* base, const StepContext& sc,
                                 const std::string& cache_dir) {
  if (!spec.arch.empty()) return spec;
  auto found = find_interpreter(spec.python.empty() ? "python3" : spec.python, sc, cache_dir);
  if (found) {
    *base = *found;
    return spec;
  }
  auto on_debian = pip_on_debian_python(spec, found.error());
  if (!on_debian) return make_error(fmt::format("{}: [env.{}] python: {}", spec.origin, spec.name, on_debian.error().message));
  return on_debian;
}

Result<Launch> PipProvider::provision(const EnvSpec& given, const ProvisionContext& ctx) {
  Interpreter found;
  auto spec = resolve_pip_spec(given, &found, StepContext{ctx.log, ""}, ctx.cache_dir);
  if (!spec) return spec.error();
  // Another CPU's wheels, or a Python this machine lacks, need a Debian rootfs (debian_provider.h).
  if (!spec->arch.empty()) {
    if (given.arch.empty() && ctx.log)
      *ctx.log << fmt::format("{}: no {} on this machine: Python from Debian {} ({}, native)\n", given.name,
                              given.python, spec->suite, spec->arch);
    return DebianProvider().provision(*spec, ctx);
  }
  if (ctx.cache_dir.empty()) return make_error("no cache directory given for the pip provider");
  EnvCache cache(ctx.cache_dir);
  CacheKey key = pip_cache_key(given, found);
  auto dir = cache.get_or_build(
      key, [&](const BuildDir& d) { return build_venv(given, found, d, ctx); }, ctx.log,
      std::chrono::duration_cast<milliseconds>(ctx.timeout));
  if (!dir) return dir.error();
  Launch l;
  l.python = {*dir + "/venv/bin/python"};
  l.env = {{"PYTHONNOUSERSITE", "1"}};
  l.where = where(l.python[0], found);
  return l;
}

}  // namespace crossload
