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

TEST(Text, OneLineEscapesLineBreaksAndCutsWholeCharacters) {
  EXPECT_EQ(one_line("Traceback:\n  File \"x\"\r\n\tboom", 100), "Traceback:\\n  File \"x\"\\r\\n\\tboom");
  EXPECT_EQ(one_line("abcdefgh", 6), "abc...");
  EXPECT_EQ(one_line("ab\xc3\xa9" "cdef", 6), "ab...");  // never half of the two-byte 'é'
  EXPECT_EQ(one_line("short", 6), "short");
}

}  // namespace
}  // namespace crossload
