#pragma once
// Binary wheels from PyPI for another CPU, installed into a Debian rootfs of that CPU: the `pip`
// provider with an `arch` (a pinned scikit-learn on aarch64, s390x, ...). The host's pip picks
// the wheels for the rootfs's Python and glibc and unpacks them there; nothing is built and
// nothing foreign runs until the import check.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/env/build_step.h"
#include "harness/util/result.h"

namespace crossload {

// glibc's "major.minor" as its libc.so.6 states it ("... release version 2.36."), without running it.
Result<std::string> rootfs_glibc_version(const std::string& rootfs, const std::string& triplet);

// The platform tags a wheel for this CPU may carry under that glibc, newest first:
// manylinux_2_36_aarch64 ... manylinux_2_17_aarch64, manylinux2014_aarch64 (and the older
// manylinux1/2010 spellings on x86).
std::vector<std::string> manylinux_tags(const std::string& wheel_machine, const std::string& glibc);

// Resolves and installs `requirements` (with their dependencies) as binary wheels for that
// Python, CPU and glibc into <rootfs>/usr/local/lib/python<X.Y>/dist-packages.
// Returns what was installed: [{"name", "version", "wheel"}].
Result<nlohmann::json> install_platform_wheels(const std::vector<std::string>& requirements,
                                               const std::string& rootfs, const std::string& python_version,
                                               const std::vector<std::string>& tags, const StepContext& sc,
                                               const std::string& work_dir, std::chrono::milliseconds timeout);

}  // namespace crossload
