#pragma once
// QEMU user-mode builds: the machine's own static emulators (/usr/bin/qemu-<cpu>-static, "system")
// and those of other Debian suites unpacked beside them into the cache by ci/fetch-qemu
// (<cache>/qemu/<suite>/usr/bin/qemu-<cpu>, "debian:<suite>"). An emulated environment runs under
// one build: its own `qemu` key, else the command line's --qemu, else the CPU's preferred build
// (qemu_builds.toml, measured by ci/bench-qemu). The other build gives a second opinion on a
// failure only emulation shows (harness/run/second_opinion.h).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/util/result.h"

namespace crossload {

struct QemuBuild {
  std::string name;     // "system" | "debian:trixie"
  std::string binary;   // the host's path of the static emulator
  std::string version;  // the first line of `--version`: "qemu-s390x version 7.2.20 (Debian ...)"

  bool operator==(const QemuBuild&) const = default;
};

// `cpu` is QEMU's name for it (s390x, aarch64, arm, riscv64, loongarch64).
// An Error names the build and says how to get it (apt-get, ci/fetch-qemu).
Result<QemuBuild> find_qemu_build(const std::string& name, const std::string& cpu, const std::string& cache_dir);

// Every build of `cpu` this machine has: "system" first (when installed), then the unpacked suites.
std::vector<QemuBuild> installed_qemu_builds(const std::string& cpu, const std::string& cache_dir);

// The build qemu_builds.toml prefers for a Debian architecture ("system" when it names none).
std::string preferred_qemu_build(const std::string& debian_arch);

// Checks a build name's form ("system" or "debian:<suite>"); the message says what was wrong.
Status check_qemu_build_name(const std::string& name);

// What an emulated environment's fingerprint records of its QEMU ("qemu": {"build", "version"}),
// harness-side: the guest cannot see its emulator. Nothing for a native one (empty name).
void record_qemu(nlohmann::json& fingerprint, const QemuBuild& qemu);

// The embedded text of harness/env/qemu_builds.toml (generated at build time).
std::string_view builtin_qemu_builds_text();

}  // namespace crossload
