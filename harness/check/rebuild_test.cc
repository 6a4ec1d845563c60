#include "harness/check/rebuild.h"

#include <gtest/gtest.h>

namespace crossload::check {
namespace {

RecordedStack recorded(const char* sklearn, int numpy, const char* compression = "") {
  return {{sklearn}, numpy, compression};
}

TEST(CheckRebuild, TheBuiltinTableParsesAndCoversEveryMinorRelease) {
  auto table = parse_producer_stacks(builtin_producer_stacks_text(), "producer_stacks.toml");
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->stacks.size(), builtin_producer_stacks().stacks.size());
  for (const char* minor : {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"})
    EXPECT_TRUE(producer_spec(recorded((std::string(minor) + ".0").c_str(), 0), *table)) << minor;
}

TEST(CheckRebuild, TheNumpyMajorComesFromTheModuleNamesTheArtifactImports) {
  audit::InspectionRecord old;
  old.add_global("sklearn.tree._classes.DecisionTreeClassifier");
  old.add_global("numpy.core.multiarray._reconstruct");
  old.add_version("1.3.2");
  EXPECT_EQ(recorded_stack(old).numpy_major, 1);
  EXPECT_EQ(recorded_stack(old).sklearn, (std::vector<std::string>{"1.3.2"}));
  audit::InspectionRecord two;
  two.add_global("numpy._core.numeric._frombuffer");
  EXPECT_EQ(recorded_stack(two).numpy_major, 2);
  EXPECT_EQ(recorded_stack(audit::InspectionRecord{}).numpy_major, 0);
}

TEST(CheckRebuild, TheSpecPinsTheRecordedReleaseWithTheStackOfItsTime) {
  const auto& table = builtin_producer_stacks();
  auto spec = producer_spec(recorded("1.3.2", 1), table);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(*spec, "pip:scikit-learn==1.3.2,numpy==1.26.4,scipy==1.11.4,cloudpickle,skops@3.11");
  // 1.5 has a stack per numpy major; an lz4-compressed joblib file needs lz4 too.
  EXPECT_EQ(*producer_spec(recorded("1.5.2", 2, "lz4"), table),
            "pip:scikit-learn==1.5.2,numpy==2.0.2,scipy==1.14.1,cloudpickle,skops,lz4@3.11");
  EXPECT_EQ(*producer_spec(recorded("1.5.1", 1), table),
            "pip:scikit-learn==1.5.1,numpy==1.26.4,scipy==1.13.1,cloudpickle,skops@3.11");
}

TEST(CheckRebuild, AStackThatNeverExistedOrIsNotInTheTableIsAnErrorSayingWhy) {
  const auto& table = builtin_producer_stacks();
  auto never = producer_spec(recorded("1.3.0", 2), table);
  ASSERT_FALSE(never);
  EXPECT_NE(never.error().message.find("scikit-learn 1.3.0 with numpy 2.x, a stack that was never released"),
            std::string::npos)
      << never.error().message;
  auto unknown = producer_spec(recorded("0.24.2", 1), table);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no stack for scikit-learn 0.24 with numpy 1.x"), std::string::npos);
  EXPECT_FALSE(producer_spec(RecordedStack{}, table));
}

TEST(CheckRebuild, AMalformedTableNamesTheLineAndTheKey) {
  auto bad = parse_producer_stacks("[[stack]]\nsklearn = \"1.3\"\nnumpy = 1\npyhton = \"3.11\"\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("t.toml:4: [[stack]] pyhton: unknown key"), std::string::npos)
      << bad.error().message;
  auto incomplete = parse_producer_stacks("[[stack]]\nsklearn = \"1.3\"\nnumpy = 1\n", "t.toml");
  ASSERT_FALSE(incomplete);
  EXPECT_NE(incomplete.error().message.find("needs python and why"), std::string::npos);
}

}  // namespace
}  // namespace crossload::check
