#include "harness/bench/fingerprint.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace crossload::bench {
namespace {

// The real libraries on the real machine: the counts must agree with the kernel's.
TEST(BenchFingerprint, TopologyAgreesWithTheKernel) {
  auto fp = host_fingerprint();
  EXPECT_TRUE(fp["errors"].empty()) << fp["errors"].dump();
  EXPECT_EQ(fp["logical_cpus"].get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_EQ(fp["topology"]["pus"].get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GE(fp["topology"]["packages"].get<int>(), 1);
  EXPECT_GE(fp["topology"]["cores"].get<int>(), 1);
  EXPECT_GE(fp["topology"]["numa_nodes"].get<int>(), 1);
  ASSERT_FALSE(fp["caches"].empty());
  EXPECT_GT(fp["caches"][0]["size"].get<long>(), 0);
}

TEST(BenchFingerprint, CpuAndIsaFromCpuinfo) {
  auto fp = host_fingerprint();
  EXPECT_FALSE(fp["cpu"]["model"].get<std::string>().empty());
  const auto& isa = fp["cpu"]["isa"];
#if defined(__x86_64__)
  EXPECT_TRUE(isa["SSE4.2"].get<bool>());  // every x86-64 this project runs on has it
  EXPECT_FALSE(isa["NEON"].get<bool>());
#elif defined(__aarch64__)
  EXPECT_TRUE(isa["NEON"].get<bool>());
#endif
#if defined(__x86_64__) && defined(__AVX2__)
  EXPECT_TRUE(isa["AVX2"].get<bool>());
#endif
}

TEST(BenchFingerprint, IsaSummaryListsWhatIsPresent) {
  nlohmann::json fp = {{"cpu", {{"isa", {{"AVX2", true}, {"AVX-512F", false}, {"FMA3", true}}}}}};
  EXPECT_EQ(isa_summary(fp), "AVX2, FMA3");
  EXPECT_EQ(isa_summary(nlohmann::json::object()), "none known");
}

}  // namespace
}  // namespace crossload::bench
