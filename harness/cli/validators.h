#pragma once
// Checks of flag values that CLI11 runs while it parses, before any command starts working: a
// run of full.toml takes an hour, and must not end in "unknown report 'pdf'". A refused value is
// a usage error (exit 2) naming the flag, the value and what it accepts.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "harness/env/qemu.h"
#include "harness/run/shard.h"
#include "harness/util/text.h"

namespace crossload::cli {

// One of `names`, with the closest one offered.
inline CLI::Validator one_of(std::vector<std::string> names) {
  return CLI::Validator(
      [names](std::string& value) -> std::string {
        for (const auto& n : names)
          if (n == value) return "";
        return "'" + value + "' is not one of " + join(names, ", ") + did_you_mean(value, names);
      },
      "", "ONE_OF");
}

// A QEMU build's name: "system" or "debian:SUITE" (harness/env/qemu.h).
inline CLI::Validator qemu_build() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto st = check_qemu_build_name(value);
        return st ? std::string() : st.error().message;
      },
      "BUILD", "QEMU_BUILD");
}

// "K/N" with 1 <= K <= N (harness/run/shard.h).
inline CLI::Validator shard_spec() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto s = parse_shard(value);
        if (s) return "";
        const std::string& m = s.error().message;  // "--shard X: why"; CLI11 names the flag itself
        return value + m.substr(m.find(": "));
      },
      "K/N", "SHARD");
}

// A directory crossload may create or write into: not an existing file, and under a writable
// directory (the nearest one that exists).
inline CLI::Validator out_dir() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::path p = fs::absolute(value, ec);
        if (ec || value.empty()) return "'" + value + "' is not a usable directory path";
        if (fs::exists(p, ec) && !fs::is_directory(p, ec))
          return value + " is a file, not a directory; name a directory (it is created when missing)";
        fs::path existing = p;
        while (!fs::exists(existing, ec) && existing.has_parent_path() && existing != existing.parent_path())
          existing = existing.parent_path();
        if (!fs::is_directory(existing, ec))
          return value + ": " + existing.string() + " is a file, so no directory can be made under it";
        if (::access(existing.c_str(), W_OK | X_OK) != 0)
          return value + ": cannot write in " + existing.string() + " (permission denied)";
        return "";
      },
      "DIR", "OUT_DIR");
}

}  // namespace crossload::cli
