#include "harness/forecast/environments.h"

#include <fmt/format.h>

#include <bit>
#include <cctype>
#include <filesystem>
#include <optional>
#include <fstream>
#include <map>

#include "harness/env/env_text.h"

namespace crossload::forecast {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Versions of the Debian packages crossload's rootfs installs (python3, python3-numpy,
// python3-scipy, python3-sklearn, python3-joblib, python3-cloudpickle, python3-onnxruntime),
// from the Debian archive's package pages (packages.debian.org, suites as of 2026-12) and
// matching the fingerprints the cached rootfs report. "absent": the suite has no such package.
const std::map<std::string, std::map<std::string, std::string>> kSuites{
    {"bookworm", {{"python", "3.11.2"}, {"numpy", "1.24.2"}, {"scipy", "1.10.1"}, {"sklearn", "1.2.1"},
                  {"joblib", "1.2.0"}, {"cloudpickle", "2.2.0"}, {"onnxruntime", "absent"}}},
    {"trixie", {{"python", "3.13.5"}, {"numpy", "2.2.4"}, {"scipy", "1.15.3"}, {"sklearn", "1.4.2"},
                {"joblib", "1.4.2"}, {"cloudpickle", "3.1.1"}, {"onnxruntime", "1.21"}}},
};

// Word size and byte order of the CPUs crossload runs (Debian architecture names).
void arch_facts(const std::string& arch, Facts& f) {
  if (arch.empty()) return;
  bool big = arch == "s390x" || arch == "powerpc" || arch == "ppc64" || arch == "mips";
  bool narrow = arch == "armhf" || arch == "armel" || arch == "i386" || arch == "mipsel";
  f.set("env.byteorder", big ? "big" : "little");
  f.set("env.pointer_bits", narrow ? "32" : "64");
}

void host_arch_facts(Facts& f) {
  f.set("env.byteorder", std::endian::native == std::endian::big ? "big" : "little");
  f.set("env.pointer_bits", std::to_string(sizeof(void*) * 8));
}

// "scikit-learn==1.5.2" -> env.sklearn = 1.5.2
void pin_facts(const std::vector<std::string>& pins, Facts& f) {
  for (const auto& pin : pins) {
    auto eq = pin.find("==");
    if (eq == std::string::npos) continue;
    std::string name = pin.substr(0, eq);
    for (auto& c : name) c = static_cast<char>(std::tolower(c));
    if (name == "scikit-learn" || name == "sklearn") name = "sklearn";
    f.set("env." + name, pin.substr(eq + 2));
  }
}

// A host interpreter named through a symlinked venv (each worktree's .venv) is the same one.
std::string same_python(const std::string& python) {
  std::error_code ec;
  fs::path p(python);
  fs::path dir = fs::canonical(p.parent_path(), ec);
  return ec ? python : (dir / p.filename()).string();
}

json spec_key(const EnvSpec& s) {
  return {{"provider", s.provider}, {"python", s.provider == "host" ? same_python(s.python) : s.python}, {"suite", s.suite}, {"arch", s.arch},
          {"packages", s.packages}, {"pip", s.pip}, {"native_onnx", s.native_onnx}};
}

// The newest cached fingerprint whose declaration is this spec's (the name aside: a matrix's
// `sklearn-1.5` and the spec `pip:scikit-learn==1.5.2,...` share one).
std::optional<std::pair<json, std::string>> cached_fingerprint(const EnvSpec& spec, const std::string& cache_dir) {
  std::error_code ec;
  fs::path dir = fs::path(cache_dir) / "fingerprints";
  json want = spec_key(spec);
  std::optional<std::pair<json, std::string>> best;
  fs::file_time_type best_time;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind("env-", 0) != 0) continue;
    std::ifstream in(e.path());
    json entry = json::parse(in, nullptr, false);
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].contains("spec")) continue;
    json have = entry["key"]["spec"];
    have.erase("name");
    if (have.value("provider", "") == "host") have["python"] = same_python(have.value("python", ""));
    if (have != want || !entry.value("fingerprint", json()).is_object()) continue;
    auto t = e.last_write_time(ec);
    if (!best || t > best_time) best = {{entry["fingerprint"], e.path().string()}}, best_time = t;
  }
  return best;
}

}  // namespace

Facts debian_suite_facts(const std::string& suite) {
  Facts f;
  auto it = kSuites.find(suite);
  if (it == kSuites.end()) return f;
  for (const auto& [name, version] : it->second) f.set("env." + name, version);
  pin_facts(suite_pure_wheels(suite), f);
  return f;
}

EnvFacts resolve_env(const EnvSpec& spec, const std::string& cache_dir) {
  EnvFacts out{spec.name, {}, ""};
  if (auto cached = cached_fingerprint(spec, cache_dir)) {
    out.facts = env_facts(cached->first);
    out.source = "cached fingerprint " + cached->second;
    return out;
  }
  if (spec.provider == "debian") {
    out.facts = debian_suite_facts(spec.suite);
    out.source = out.facts.values.empty() ? fmt::format("Debian {}: versions not in crossload's table", spec.suite)
                                          : fmt::format("Debian {}'s packages (crossload's suite table)", spec.suite);
    pin_facts(spec.pip, out.facts);
  } else if (spec.provider == "pip") {
    pin_facts(spec.pip, out.facts);
    if (spec.python.rfind("python3.", 0) == 0) out.facts.set("env.python", spec.python.substr(6));
    out.source = "the pins it declares (no cached fingerprint)";
  } else {
    out.source = "no cached fingerprint (run it once to record one)";
  }
  if (spec.arch.empty()) host_arch_facts(out.facts);
  else arch_facts(spec.arch, out.facts);
  return out;
}

}  // namespace crossload::forecast
