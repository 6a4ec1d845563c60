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

TEST(Utf8Length, MeasuresWellFormedCharactersOnly) {
  EXPECT_EQ(utf8_length("a", 0), 1u);
  EXPECT_EQ(utf8_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_length("\xE2\x86\x92", 0), 3u);      // →
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80", 0), 4u);  // 😀
  EXPECT_EQ(utf8_length("\xEF\xBF\xBF", 0), 3u);      // U+FFFF is well-formed (XML refuses it, not UTF-8)
  EXPECT_EQ(utf8_length("\xC3", 0), 0u);               // cut by the end
  EXPECT_EQ(utf8_length("\xA9", 0), 0u);               // a continuation byte
  EXPECT_EQ(utf8_length("\xC0\xAF", 0), 0u);           // overlong
  EXPECT_EQ(utf8_length("\xE0\x80\xAF", 0), 0u);       // overlong
  EXPECT_EQ(utf8_length("\xED\xA0\x80", 0), 0u);       // UTF-16 surrogate
  EXPECT_EQ(utf8_length("\xF4\x90\x80\x80", 0), 0u);   // above U+10FFFF
  EXPECT_EQ(utf8_length("\xF8\x88\x80\x80", 0), 0u);   // no such lead byte
  EXPECT_EQ(utf8_length("x\xC3\xA9", 1), 2u);
}

}  // namespace
}  // namespace crossload
