// Replays every input kept by ci/fuzz under fixtures/hostile/regressions/: each must give a
// record or an error, never a crash (the sanitizer build of ci/fuzz checks them harder).
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

TEST(AuditRegressions, EveryKeptFuzzInputIsHandled) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(CROSSLOAD_SOURCE_ROOT) / "fixtures/hostile/regressions";
  if (!fs::exists(dir)) GTEST_SKIP() << "no regression inputs";
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
}

}  // namespace
}  // namespace crossload::audit
