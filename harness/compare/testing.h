#pragma once
// Helpers shared by the tests of harness/compare (not part of the library).
#include "harness/util/source_root.h"
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace crossload::testutil {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "crossload-compare-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The project venv's interpreter: numpy there writes the files the tests read back.
inline std::string venv_python() { return std::string(crossload::source_root()) + "/.venv/bin/python"; }

// Writes `script` into dir and runs it with dir as its argument; true if it exited 0.
inline bool run_python(const std::string& script, const std::string& dir) {
  const std::string path = dir + "/script.py";
  std::ofstream(path) << script;
  const std::string command = venv_python() + " " + path + " " + dir;
  return std::system(command.c_str()) == 0;
}

}  // namespace crossload::testutil
