#pragma once
// Pure-Python wheels from PyPI added to a Debian rootfs (skops, skl2onnx: no suite packages them),
// in versions compatible with what the suite ships. The suite's own distributions are presented
// to pip's resolver as already installed and pinned, so pip picks e.g. an older skops for
// bookworm's scikit-learn 1.2 instead of upgrading scikit-learn.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/env/build_step.h"
#include "harness/util/result.h"

namespace crossload {

struct Distribution {
  std::string name;     // as in its metadata directory: scikit_learn
  std::string version;  // 1.2.1
};

// The distributions a rootfs's /usr/lib/python3/dist-packages holds (*.dist-info, *.egg-info),
// with versions pip can read (Debian's "+dfsg"-style local parts dropped).
std::vector<Distribution> rootfs_distributions(const std::string& rootfs);

// Resolves `requirements` against the rootfs's distributions, downloads the wheels, checks that
// each is pure Python, and installs them into <rootfs>/usr/local/lib/python<X.Y>/dist-packages.
// Returns the mix: [{"name", "version", "wheel"}].
Result<nlohmann::json> install_pure_wheels(const std::vector<std::string>& requirements,
                                           const std::string& rootfs, const std::string& python_version,
                                           const StepContext& sc, const std::string& work_dir,
                                           std::chrono::milliseconds timeout);

}  // namespace crossload
