#include "reports/markup.h"

namespace crossload {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  if (n == 2 && b < 0xC2) return 0;                                   // overlong
  if (n == 3 && b == 0xE0 && byte(i + 1) < 0xA0) return 0;            // overlong
  if (n == 3 && b == 0xED && byte(i + 1) >= 0xA0) return 0;           // UTF-16 surrogate
  if (n == 3 && b == 0xEF && byte(i + 1) == 0xBF && byte(i + 2) >= 0xBE) return 0;  // U+FFFE, U+FFFF
  if (n == 4 && (b > 0xF4 || (b == 0xF0 && byte(i + 1) < 0x90) || (b == 0xF4 && byte(i + 1) >= 0x90))) return 0;
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
    std::size_t n = utf8_length(text, i);
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
