#include "harness/util/source_root.h"
#include "harness/cli/paths.h"

#include <cstdlib>
#include <filesystem>
#include <optional>

namespace crossload::cli {

namespace fs = std::filesystem;

namespace {

// The installed tree, found from the binary's own path so an installed crossload works from any
// directory, its source tree long gone: <prefix>/bin -> <prefix>/share/crossload (meson install);
// a wheel puts it at <venv>/crossload, beside <venv>/bin, or, after auditwheel repair moved the
// binary to <venv>/lib/pythonX.Y/site-packages/crossload.scripts, four levels up.
std::optional<std::string> installed_root() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  for (const char* relative : {"../share/crossload", "../crossload", "../../../../crossload"}) {
    fs::path root = (exe.parent_path() / relative).lexically_normal();
    if (fs::exists(root / "harness" / "worker" / "worker.py", ec)) return root.string();
  }
  return std::nullopt;
}

}  // namespace

std::string default_source_root() {
  if (const char* env = std::getenv("CROSSLOAD_ROOT"); env && *env) return env;
  if (auto installed = installed_root()) return *installed;
  return crossload::source_root();
}

std::string default_cache_dir() {
  if (const char* env = std::getenv("CROSSLOAD_CACHE_DIR"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/crossload";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/crossload";
}

}  // namespace crossload::cli
