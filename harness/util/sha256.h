#pragma once
#include <string>

#include "harness/util/result.h"

namespace crossload {
// Hex SHA-256 of a file's bytes (OpenSSL), read in chunks so large artifacts stay cheap.
Result<std::string> sha256_file(const std::string& path);
// Hex SHA-256 of a string (cache keys, reuse keys).
std::string sha256_text(const std::string& text);
}  // namespace crossload
