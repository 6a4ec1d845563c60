#include "reports/json_text.h"

#include "harness/util/text.h"

namespace crossload {

namespace {

using nlohmann::json;

// nlohmann's escape of an ASCII byte that is not copied as it is, or "" for one that is.
std::string_view ascii_escape(unsigned char c, char (&hex)[7]) {
  switch (c) {
    case '\b': return "\\b";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\f': return "\\f";
    case '\r': return "\\r";
    case '"': return "\\\"";
    case '\\': return "\\\\";
    default:
      if (c > 0x1F) return "";
      static constexpr char kDigits[] = "0123456789abcdef";  // nlohmann writes \u%04x, lower case
      hex[0] = '\\', hex[1] = 'u', hex[2] = '0', hex[3] = '0', hex[4] = kDigits[c >> 4], hex[5] = kDigits[c & 0xF];
      return std::string_view(hex, 6);
  }
}

}  // namespace

JsonText::JsonText(std::string& out) : out_(out), dump_(nlohmann::detail::output_adapter<char, std::string>(out), ' ') {}

void JsonText::string(std::string_view s) {
  if (escaped(s)) return;
  string_.get_ref<std::string&>() = s;
  dump_.dump(string_, true, false, 2, 0);  // throws as nlohmann always did for invalid UTF-8
}

bool JsonText::escaped(std::string_view s) {
  const std::size_t start = out_.size();
  out_ += '"';
  char hex[7];
  for (std::size_t i = 0; i < s.size();) {
    std::size_t plain = i;  // a run copied as it is
    while (plain < s.size()) {
      auto c = static_cast<unsigned char>(s[plain]);
      if (c >= 0x80) {
        std::size_t n = utf8_length(s, plain);
        if (n == 0) break;
        plain += n;
      } else if (c > 0x1F && c != '"' && c != '\\') {
        ++plain;
      } else {
        break;
      }
    }
    out_.append(s.substr(i, plain - i));
    if ((i = plain) == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {  // not valid UTF-8: nlohmann decides
      out_.resize(start);
      return false;
    }
    out_.append(ascii_escape(c, hex));
    ++i;
  }
  out_ += '"';
  return true;
}

void JsonText::value(const json& v, unsigned indent) {
  const bool object = v.is_object();
  if (!object && !v.is_array()) {
    if (v.is_string()) string(v.get_ref<const std::string&>());
    else dump_.dump(v, true, false, 2, indent);
    return;
  }
  if (v.empty()) {
    out_ += object ? "{}" : "[]";
    return;
  }
  out_ += object ? "{\n" : "[\n";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first) out_ += ",\n";
    first = false;
    out_.append(indent + 2, ' ');
    if (object) string(it.key()), out_ += ": ";
    value(*it, indent + 2);
  }
  out_ += '\n';
  out_.append(indent, ' ');
  out_ += object ? '}' : ']';
}

}  // namespace crossload
