#include "harness/env/interpreters.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "harness/compare/testing.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;

// An interpreter that counts how often it is started (a shim's cost, paid per start) and names
// `real` as the executable it runs.
struct CountingInterpreter {
  fs::path script, real, count;
  explicit CountingInterpreter(const fs::path& dir) {
    script = dir / "python-counting";
    real = dir / "python3.99";
    count = dir / "starts";
    std::ofstream(real) << "an interpreter binary";
    std::ofstream(script) << "#!/bin/sh\necho start >> " << count.string() << "\necho " << real.string()
                          << "\necho 3.99.1\n";
    fs::permissions(script, fs::perms::owner_all);
  }
  int starts() const {
    std::ifstream in(count);
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
};

void touch(const fs::path& p) { fs::last_write_time(p, fs::last_write_time(p) + std::chrono::seconds(5)); }

TEST(Interpreters, AnAnswerIsKeptWhileTheLookupAndTheInterpreterAreUnchanged) {
  TempDir tmp;
  CountingInterpreter py(tmp.path());
  std::string cache = tmp.path() + "/cache";
  auto first = find_interpreter(py.script.string(), {}, cache);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->executable, py.real.string());
  EXPECT_EQ(first->version, "3.99.1");
  EXPECT_EQ(py.starts(), 1);
  auto again = find_interpreter(py.script.string(), {}, cache);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->executable, py.real.string());
  EXPECT_EQ(again->version, "3.99.1");
  EXPECT_EQ(py.starts(), 1);  // not started again
  EXPECT_TRUE(find_interpreter(py.script.string(), {}, ""));  // no cache directory: always asks
  EXPECT_EQ(py.starts(), 2);
}

TEST(Interpreters, AChangedInterpreterShimOrSelectionIsAskedAgain) {
  TempDir tmp;
  CountingInterpreter py(tmp.path());
  std::string cache = tmp.path() + "/cache";
  ASSERT_TRUE(find_interpreter(py.script.string(), {}, cache));
  touch(py.real);  // the interpreter it found was rebuilt
  ASSERT_TRUE(find_interpreter(py.script.string(), {}, cache));
  EXPECT_EQ(py.starts(), 2);
  touch(py.script);  // the shim (or the file the name stands for) changed
  ASSERT_TRUE(find_interpreter(py.script.string(), {}, cache));
  EXPECT_EQ(py.starts(), 3);
  const char* was = std::getenv("PYENV_VERSION");
  std::string saved = was ? was : "";
  ::setenv("PYENV_VERSION", "3.99.1-crossload-test", 1);  // pyenv would pick another version
  ASSERT_TRUE(find_interpreter(py.script.string(), {}, cache));
  if (was) ::setenv("PYENV_VERSION", saved.c_str(), 1);
  else ::unsetenv("PYENV_VERSION");
  EXPECT_EQ(py.starts(), 4);
  ASSERT_TRUE(find_interpreter(py.script.string(), {}, cache));  // back to the first selection
  EXPECT_EQ(py.starts(), 4);
}

}  // namespace
}  // namespace crossload
