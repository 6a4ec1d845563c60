#pragma once
// Small text helpers shared by every room (no project knowledge here).
#include <string>
#include <string_view>
#include <vector>

namespace crossload {

std::string join(const std::vector<std::string>& parts, const std::string& sep);
std::size_t edit_distance(const std::string& a, const std::string& b);
// " (did you mean 'x'?)" when a candidate is close, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// Quotes a word for a shell line shown to people (echoed commands).
std::string shell_quote(const std::string& word);
std::string shell_line(const std::vector<std::string>& argv);
// `text` on one line of at most `width` bytes (whole UTF-8 characters, "..." when cut): line
// breaks and tabs become "\n", "\r", "\t", so a log keeps one line per entry.
std::string one_line(const std::string& text, std::size_t width);
// Length of the well-formed UTF-8 character starting at text[i] (1 for ASCII, 2 to 4 for the
// rest), or 0 when none starts there: a stray continuation byte, an overlong form, a UTF-16
// surrogate, a code point above U+10FFFF or a character cut by the end of the text.
std::size_t utf8_length(std::string_view text, std::size_t i);
// Glob with '*' (any run) and '?' (any one character) over the whole text.
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace crossload
