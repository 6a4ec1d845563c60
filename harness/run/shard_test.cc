#include "harness/run/shard.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

TEST(Shard, ParsesAndRejects) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 4);
  for (const char* bad : {"3/2", "0/4", "1/0", "a/b", "2", "2/4x", "-1/3"}) {
    auto r = parse_shard(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos);
  }
}

TEST(Shard, EveryPairIsInExactlyOneShard) {
  for (int n = 1; n <= 5; ++n)
    for (std::size_t pair = 0; pair < 23; ++pair) {
      int holders = 0;
      for (int k = 1; k <= n; ++k) holders += Shard{k, n}.holds(pair);
      EXPECT_EQ(holders, 1);
    }
}

}  // namespace
}  // namespace crossload
