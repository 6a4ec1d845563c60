#pragma once
// One environment as a matrix file declares it ([env.NAME] tables). Which fields matter
// depends on the provider; the matrix parser checks that, the provider uses them.
#include <string>
#include <vector>

namespace crossload {

struct EnvSpec {
  std::string name;
  std::string provider;               // "host" | "pip" | "debian"
  std::string python;                 // host: interpreter path (absolute after parsing); pip: base interpreter
  std::string suite;                  // debian: bookworm, trixie, forky, sid; pip with arch: the rootfs's suite
  std::string arch;                   // debian: amd64, arm64, s390x, ppc64el, riscv64, i386, armhf;
                                      // pip: wheels for that CPU in a Debian rootfs (default suite bookworm)
  std::vector<std::string> packages;  // debian: extra Debian packages
  std::vector<std::string> pip;       // pip: pinned requirements; debian: pure-Python wheels added with --no-deps
  std::string qemu;                   // debian/pip with arch: the QEMU build ("system", "debian:trixie"); empty: the CPU's preferred
  bool native_onnx = false;           // debian: loads run in the native C++ ONNX consumer (formats/onnx/native)
  std::string origin;                 // "matrix/quick.toml:12" for error messages
};

// An environment's name as one path component of a log or output file: a name given on the
// command line is its spec (`debian:bookworm/s390x`, harness/env/env_text.h) and may hold '/'.
inline std::string env_file_name(std::string name) {
  for (char& c : name)
    if (c == '/') c = '_';
  return name;
}

}  // namespace crossload
