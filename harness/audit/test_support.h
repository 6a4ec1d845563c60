#pragma once
// Test helpers for the audit: produce real artifacts with the project venv's Python (so the
// tests check what scikit-learn, joblib, cloudpickle, skops and skl2onnx really write).
#include "harness/util/source_root.h"
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unistd.h>
#include <string>

#include "harness/audit/inspect.h"

namespace crossload::audit::testing {

// The whole audit of pickle bytes held in memory (named test.pkl), under the default policy.
inline Result<InspectionRecord> inspect(const std::string& bytes) {
  Policy policy;
  return inspect_bytes(bytes, "test.pkl", policy);
}

inline std::string venv_python() {
  return std::string(crossload::source_root()) + "/.venv/bin/python";
}

inline bool have_venv() { return std::filesystem::exists(venv_python()); }

// Runs `code` with the venv Python; the script writes the artifact to the path in sys.argv[1].
// Returns the artifact's path (in a fresh temp dir), or nullopt if Python failed.
inline std::optional<std::string> python_artifact(const std::string& code,
                                                  const std::string& name) {
  namespace fs = std::filesystem;
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() /
                 ("crossload-audit-test-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter++));
  fs::create_directories(dir);
  fs::path script = dir / "make.py";
  fs::path out = dir / name;
  std::ofstream(script) << "import sys, warnings\nwarnings.simplefilter('ignore')\n" << code;
  std::string cmd = venv_python() + " " + script.string() + " " + out.string() + " 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  char buf[4096];
  std::string log;
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) log.append(buf, n);
  if (::pclose(p) != 0 || !fs::exists(out)) {
    std::fprintf(stderr, "python failed:\n%s\n", log.c_str());
    return std::nullopt;
  }
  return out.string();
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace crossload::audit::testing
