#include "harness/util/text.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

TEST(Text, DidYouMeanSuggestsCloseWordsOnly) {
  EXPECT_EQ(did_you_mean("pyhton", {"python", "suite", "arch"}), " (did you mean 'python'?)");
  EXPECT_EQ(did_you_mean("zzzzzz", {"python", "suite"}), "");
}

TEST(Text, ShellQuoteLeavesPlainWordsAndQuotesOthers) {
  EXPECT_EQ(shell_line({"python3", "-c", "print('hi')"}), "python3 -c 'print('\\''hi'\\'')'");
  EXPECT_EQ(shell_quote("/usr/bin/qemu-s390x-static"), "/usr/bin/qemu-s390x-static");
}

}  // namespace
}  // namespace crossload
