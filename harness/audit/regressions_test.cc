// Replays every input kept under fixtures/hostile/regressions/ (what ci/fuzz found, a minimised
// corpus of its runs, and hostile files built by hand): each must give a record or an error
// naming an offset, never a crash (the sanitizer build of ci/fuzz checks them harder).
#include "harness/util/source_root.h"
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

TEST(AuditRegressions, EveryKeptFuzzInputIsHandled) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(crossload::source_root()) / "fixtures/hostile/regressions";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " is missing";
  Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 24;
  int replayed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::string bytes = testing::read_all(entry.path().string());
    auto r = inspect_bytes(bytes, entry.path().string(), policy, options);
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("offset"), std::string::npos) << r.error().message;
    }
    ++replayed;
  }
  RecordProperty("replayed", replayed);
  // An empty folder would make this test pass while checking nothing.
  EXPECT_GE(replayed, 20) << "keep the minimised fuzz corpus in " << dir
                          << " (ci/fuzz, then libFuzzer -merge=1 into <target>/)";
}

}  // namespace
}  // namespace crossload::audit
