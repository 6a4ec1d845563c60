#include "reports/markup.h"

#include <gtest/gtest.h>

#include "reports/summaries.h"

namespace crossload {
namespace {

TEST(XmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST(XmlEscape, KeepsValidUtf8AndWhitespace) {
  EXPECT_EQ(xml_escape("µs → ok\t\n"), "µs → ok\t\n");
  EXPECT_EQ(xml_escape("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // 4-byte character
}

TEST(XmlEscape, ReplacesWhatXmlForbidsAndBrokenUtf8) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(xml_escape(std::string("a\x01" "b\x1B" "c\x7F", 6)), "a" + r + "b" + r + "c" + r);
  EXPECT_EQ(xml_escape("cut \xC3"), "cut " + r);             // first half of "é"
  EXPECT_EQ(xml_escape("\xC0\xAF"), r + r);                   // overlong "/"
  EXPECT_EQ(xml_escape("\xED\xA0\x80"), r + r + r);           // UTF-16 surrogate
  EXPECT_EQ(xml_escape("\xEF\xBF\xBF"), r + r + r);           // U+FFFF
  EXPECT_EQ(xml_escape(std::string("nul\0x", 5)), "nul" + r + "x");
}

TEST(Utf8Prefix, NeverCutsInsideACharacter) {
  EXPECT_EQ(utf8_prefix("short", 10), "short");
  EXPECT_EQ(utf8_prefix("aaaaé bbbb", 8), "aaaa...");  // 'é' would straddle the cut at 5
  EXPECT_EQ(utf8_prefix("abcdefghij", 8), "abcde...");
}

}  // namespace
}  // namespace crossload
