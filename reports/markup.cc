#include "reports/markup.h"

#include "harness/util/text.h"

namespace crossload {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 character at text[i] that XML may hold, or 0: a well-formed one that is
// not one of the noncharacters U+FFFE and U+FFFF.
std::size_t xml_char_length(std::string_view text, std::size_t i) {
  std::size_t n = utf8_length(text, i);
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  if (n == 3 && byte(i) == 0xEF && byte(i + 1) == 0xBF && byte(i + 2) >= 0xBE) return 0;  // U+FFFE, U+FFFF
  return n;
}

bool xml_allowed(unsigned char c) { return c >= 0x20 || c == '\t' || c == '\n' || c == '\r'; }

// ASCII that xml_escape copies unchanged.
bool plain_ascii(unsigned char c) {
  return c < 0x7F && xml_allowed(c) && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'';
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t plain = i;  // a run of bytes written as they are, appended at once
    while (plain < text.size() && plain_ascii(static_cast<unsigned char>(text[plain]))) ++plain;
    if (plain > i) {
      out.append(text.substr(i, plain - i));
      if ((i = plain) == text.size()) break;
    }
    std::size_t n = xml_char_length(text, i);
    if (n == 0) { out += kReplacement; ++i; continue; }
    if (n > 1) { out.append(text.substr(i, n)); i += n; continue; }
    char c = text[i++];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (xml_allowed(static_cast<unsigned char>(c)) && c != 0x7F) out += c;
        else out += kReplacement;
    }
  }
  return out;
}

}  // namespace crossload
