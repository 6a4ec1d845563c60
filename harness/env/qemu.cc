#include "harness/env/qemu.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>

#include "harness/util/process.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDebianPrefix = "debian:";

bool executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

// Debian's qemu-user-static puts them in /usr/bin; a hand-built QEMU may be elsewhere on PATH.
std::string find_system_qemu(const std::string& cpu) {
  std::string name = "qemu-" + cpu + "-static";
  if (executable("/usr/bin/" + name)) return "/usr/bin/" + name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return {};
}

// Since trixie Debian's static emulators are qemu-<cpu> (package qemu-user); before, qemu-<cpu>-static.
std::string find_unpacked_qemu(const fs::path& dir, const std::string& cpu) {
  for (const std::string name : {"qemu-" + cpu, "qemu-" + cpu + "-static"})
    if (executable(dir / "usr/bin" / name)) return (dir / "usr/bin" / name).string();
  return {};
}

std::string version_line(const std::string& binary) {
  ProcessOptions o;
  o.argv = {binary, "--version"};
  o.timeout = std::chrono::milliseconds(10000);
  auto r = run_process(o);
  if (!r || !r->success()) return "unknown version";
  return r->out.substr(0, r->out.find('\n'));
}

}  // namespace

Status check_qemu_build_name(const std::string& name) {
  if (name == "system") return ok_status();
  if (name.rfind(kDebianPrefix, 0) == 0 && name.size() > kDebianPrefix.size() &&
      name.find('/') == std::string::npos)
    return ok_status();
  return make_error(fmt::format("unknown QEMU build '{}' (expected \"system\" or \"debian:SUITE\", e.g. debian:trixie)", name));
}

Result<QemuBuild> find_qemu_build(const std::string& name, const std::string& cpu, const std::string& cache_dir) {
  if (auto st = check_qemu_build_name(name); !st) return st.error();
  std::string binary;
  if (name == "system") {
    binary = find_system_qemu(cpu);
    if (binary.empty())
      return make_error(fmt::format("no qemu-{}-static on this machine (Debian package qemu-user-static; ci/setup installs it)", cpu));
  } else {
    std::string suite = name.substr(kDebianPrefix.size());
    fs::path dir = fs::path(cache_dir) / "qemu" / suite;
    binary = find_unpacked_qemu(dir, cpu);
    if (binary.empty())
      return make_error(fmt::format("QEMU build {}: no qemu-{} in {} (unpack it with `ci/fetch-qemu {} {}`)", name, cpu,
                                    dir.string(), suite, cache_dir));
  }
  return QemuBuild{name, binary, version_line(binary)};
}

std::vector<QemuBuild> installed_qemu_builds(const std::string& cpu, const std::string& cache_dir) {
  std::vector<QemuBuild> builds;
  if (auto b = find_qemu_build("system", cpu, cache_dir)) builds.push_back(*b);
  std::error_code ec;
  std::vector<std::string> suites;
  for (const auto& entry : fs::directory_iterator(fs::path(cache_dir) / "qemu", ec))
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      suites.push_back(entry.path().filename().string());
  std::sort(suites.begin(), suites.end());
  for (const auto& suite : suites)
    if (auto b = find_qemu_build(std::string(kDebianPrefix) + suite, cpu, cache_dir)) builds.push_back(*b);
  return builds;
}

void record_qemu(nlohmann::json& fingerprint, const QemuBuild& qemu) {
  if (qemu.name.empty() || !fingerprint.is_object()) return;
  fingerprint["qemu"] = {{"build", qemu.name}, {"version", qemu.version}};
}

std::string preferred_qemu_build(const std::string& debian_arch) {
  // The embedded table was checked by qemu_test.cc; a malformed one still leaves "system".
  toml::table table;
  try {
    table = toml::parse(builtin_qemu_builds_text(), std::string_view("harness/env/qemu_builds.toml"));
  } catch (const toml::parse_error&) {
    return "system";
  }
  if (auto name = table["preferred"][debian_arch].value<std::string>()) return *name;
  return "system";
}

}  // namespace crossload
