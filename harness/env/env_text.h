#pragma once
// Environments written on the command line by what they are, with no matrix file:
//
//   debian:SUITE/ARCH                a Debian rootfs: the suite's own stack (plus the pure-Python
//                                    skops/skl2onnx wheels the default matrices give that suite)
//   pip:REQ,REQ[@X.Y][/ARCH]         a venv with these pins on Python X.Y (default python3);
//                                    with /ARCH, that CPU's wheels in a Debian rootfs
//   python:/path/to/python           an interpreter that already exists (a venv, conda, system)
//   requirements:FILE[@X.Y][/ARCH]   pip with the pins of a requirements file (`pip freeze`
//                                    form); Python X.Y from `@X.Y` or a python_version marker
//
// The spec text is the environment's name (reports show it). The EnvSpec it gives has the same
// fields as the matrix table that says the same, so both share one cache entry.
#include <string>
#include <vector>

#include "harness/env/env_spec.h"
#include "harness/util/result.h"

namespace crossload {

// True when `name` is written as a spec (starts with one of the kinds above).
bool is_env_text(const std::string& name);

// The environment a spec describes; an Error names the spec, the problem and the forms accepted.
Result<EnvSpec> parse_env_text(const std::string& text);

// The pure-Python wheels a Debian suite lacks and its rootfs gets from PyPI (skops, skl2onnx
// in versions whose requirements the suite meets); empty for a suite without such pins.
std::vector<std::string> suite_pure_wheels(const std::string& suite);

// The Debian suite whose python3 is version X.Y ("3.11" -> bookworm), or an Error listing them.
Result<std::string> suite_for_python(const std::string& major_minor);

// The pins of a requirements file and the python_version its markers require (empty if none).
struct Requirements {
  std::vector<std::string> pins;
  std::string python;
};
Result<Requirements> read_requirements(const std::string& path);

}  // namespace crossload
