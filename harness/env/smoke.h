#pragma once
// The import check every built environment must pass before it is marked complete: it imports
// the stack (proving links and fix-ups work) and reports what the environment really holds.
#include <nlohmann/json.hpp>
#include <string>

#include "harness/util/result.h"

namespace crossload {

// Python source for `python -c`: prints one JSON line {python, byteorder, machine, packages}; the
// packages are the base stack and every format's (formats/registry.h).
std::string smoke_script();
// Parses the first line of the script's stdout.
Result<nlohmann::json> parse_smoke_output(const std::string& out, const std::string& where);

}  // namespace crossload
