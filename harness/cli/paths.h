#pragma once
// Where crossload finds its own tree and its cache, unless told otherwise.
#include <cstdlib>
#include <string>

namespace crossload::cli {

inline std::string default_source_root() {
  const char* env = std::getenv("CROSSLOAD_ROOT");
  return env && *env ? env : CROSSLOAD_SOURCE_ROOT;
}

inline std::string default_cache_dir() {
  if (const char* env = std::getenv("CROSSLOAD_CACHE_DIR"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/crossload";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/crossload";
}

}  // namespace crossload::cli
