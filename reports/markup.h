#pragma once
// Escaping for the HTML and XML reporters. Error text comes from foreign Python processes and
// may hold control characters or a multi-byte character cut in half: XML 1.0 forbids the one,
// every parser refuses the other, so both become U+FFFD instead of breaking the report.
#include <string>
#include <string_view>

namespace crossload {

// &, <, >, " and ' escaped; invalid UTF-8 and characters XML 1.0 forbids replaced by U+FFFD.
std::string xml_escape(std::string_view text);
inline std::string html_escape(std::string_view text) { return xml_escape(text); }

}  // namespace crossload
