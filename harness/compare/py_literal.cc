#include "harness/compare/py_literal.h"

#include <fmt/format.h>

#include <limits>
#include <utility>

namespace crossload {

namespace {

// Headers nest at most three deep (dict > descr list > field tuple); anything much
// deeper is hostile input, and recursion must not be allowed to exhaust the stack.
constexpr int kMaxDepth = 32;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

std::string describe(char c) {
  if (c >= 0x21 && c <= 0x7e) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
}

class Parser {
 public:
  Parser(std::string_view text, std::size_t base) : text_(text), base_(base) {}

  Result<PyLiteral> parse_all() {
    auto value = parse_value(0);
    if (!value) return value;
    skip_space();
    if (pos_ < text_.size()) return fail(fmt::format("unexpected {} after the literal", describe(text_[pos_])));
    return value;
  }

 private:
  Error fail(std::string_view problem) const {
    return make_error(fmt::format("{} at byte {}", problem, base_ + pos_));
  }
  Error fail_end(std::string_view what) const {
    return fail(fmt::format("text ends inside {}", what));
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  Result<PyLiteral> parse_value(int depth) {
    skip_space();
    if (depth > kMaxDepth) return fail(fmt::format("literal nested deeper than {} levels", kMaxDepth));
    if (pos_ >= text_.size()) return fail_end("a literal (a value was expected)");
    const char c = text_[pos_];
    if (c == '{') return parse_dict(depth);
    if (c == '(') return parse_sequence(depth, ')', PyLiteral::Kind::kTuple);
    if (c == '[') return parse_sequence(depth, ']', PyLiteral::Kind::kList);
    if (c == '\'' || c == '"') return parse_string();
    if (c == '-' || c == '+' || is_digit(c)) return parse_int();
    if (is_word_char(c)) return parse_word();
    return fail(fmt::format("unexpected {} where a value was expected", describe(c)));
  }

  Result<PyLiteral> parse_word() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    const std::string_view word = text_.substr(start, pos_ - start);
    if ((word == "u" || word == "U") && pos_ < text_.size() &&
        (text_[pos_] == '\'' || text_[pos_] == '"'))
      return parse_string();  // Python 2 wrote u'descr'
    PyLiteral lit;
    lit.offset = base_ + start;
    if (word == "True" || word == "False") {
      lit.kind = PyLiteral::Kind::kBool;
      lit.boolean = word == "True";
    } else if (word != "None") {
      pos_ = start;
      return fail(fmt::format("unknown name '{}' (only True, False and None are literals)", word));
    }
    return lit;
  }

  Result<PyLiteral> parse_int() {
    PyLiteral lit{.kind = PyLiteral::Kind::kInt, .offset = base_ + pos_};
    const bool negative = text_[pos_] == '-';
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    skip_space();  // Python accepts "- 3"
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) return fail("expected digits after the sign");
    std::uint64_t magnitude = 0;
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
    for (; pos_ < text_.size() && is_digit(text_[pos_]); ++pos_) {
      magnitude = magnitude * 10 + static_cast<unsigned>(text_[pos_] - '0');
      if (magnitude > kLimit) return fail("integer does not fit in 64 bits");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2 long
    if (magnitude == kLimit && !negative) return fail("integer does not fit in 64 bits");
    lit.integer = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    return lit;
  }

  Result<PyLiteral> parse_string() {
    PyLiteral lit{.kind = PyLiteral::Kind::kStr, .offset = base_ + pos_};
    const char quote = text_[pos_++];
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_];
      if (c == '\n') return fail("line break inside a string");
      if (c == '\\') {
        auto escaped = parse_escape();
        if (!escaped) return escaped.error();
        c = *escaped;
      }
      lit.str.push_back(c);
      ++pos_;
    }
    if (pos_ >= text_.size()) return fail_end("a string (no closing quote)");
    ++pos_;
    return lit;
  }

  // Leaves pos_ on the last character of the escape sequence.
  Result<char> parse_escape() {
    if (++pos_ >= text_.size()) return fail_end("a string escape");
    switch (text_[pos_]) {
      case '\\': return '\\';
      case '\'': return '\'';
      case '"': return '"';
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case '0': return '\0';
      default: return fail(fmt::format("unsupported string escape \\{}", text_[pos_]));
    }
  }

  // Tuples and lists: "()", "(x,)", "(x, y)", "(x, y,)"; "(x)" is a parenthesised x.
  Result<PyLiteral> parse_sequence(int depth, char close, PyLiteral::Kind kind) {
    PyLiteral lit{.kind = kind, .offset = base_ + pos_};
    ++pos_;
    bool saw_comma = false;
    for (;;) {
      skip_space();
      if (pos_ >= text_.size()) return fail_end(kind == PyLiteral::Kind::kTuple ? "a tuple" : "a list");
      if (text_[pos_] == close) break;
      auto item = parse_value(depth + 1);
      if (!item) return item;
      lit.items.push_back(std::move(*item));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        saw_comma = true;
      } else if (pos_ < text_.size() && text_[pos_] != close) {
        return fail(fmt::format("expected ',' or '{}' but found {}", close, describe(text_[pos_])));
      }
    }
    ++pos_;
    if (kind == PyLiteral::Kind::kTuple && lit.items.size() == 1 && !saw_comma)
      return std::move(lit.items.front());
    return lit;
  }

  Result<PyLiteral> parse_dict(int depth) {
    PyLiteral lit{.kind = PyLiteral::Kind::kDict, .offset = base_ + pos_};
    ++pos_;
    for (;;) {
      skip_space();
      if (pos_ >= text_.size()) return fail_end("a dict");
      if (text_[pos_] == '}') break;
      auto entry = parse_dict_entry(depth, lit);
      if (!entry.ok()) return entry.error();
    }
    ++pos_;
    return lit;
  }

  Status parse_dict_entry(int depth, PyLiteral& dict) {
    auto key = parse_value(depth + 1);
    if (!key) return key.error();
    if (key->kind == PyLiteral::Kind::kStr && dict.find(key->str) != nullptr) {
      pos_ = key->offset - base_;
      return fail(fmt::format("duplicate key '{}'", key->str));
    }
    skip_space();
    if (pos_ >= text_.size()) return fail_end("a dict");
    if (text_[pos_] != ':') return fail(fmt::format("expected ':' after a dict key but found {}", describe(text_[pos_])));
    ++pos_;
    auto value = parse_value(depth + 1);
    if (!value) return value.error();
    dict.items.push_back(std::move(*key));
    dict.items.push_back(std::move(*value));
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
    else if (pos_ < text_.size() && text_[pos_] != '}')
      return fail(fmt::format("expected ',' or '}}' but found {}", describe(text_[pos_])));
    return ok_status();
  }

  std::string_view text_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

}  // namespace

const PyLiteral* PyLiteral::find(std::string_view key) const {
  for (std::size_t i = 0; i + 1 < items.size(); i += 2)
    if (items[i].kind == Kind::kStr && items[i].str == key) return &items[i + 1];
  return nullptr;
}

std::string_view kind_name(PyLiteral::Kind kind) {
  switch (kind) {
    case PyLiteral::Kind::kStr: return "a string";
    case PyLiteral::Kind::kInt: return "an integer";
    case PyLiteral::Kind::kBool: return "a bool";
    case PyLiteral::Kind::kNone: return "None";
    case PyLiteral::Kind::kTuple: return "a tuple";
    case PyLiteral::Kind::kList: return "a list";
    case PyLiteral::Kind::kDict: return "a dict";
  }
  return "a literal";
}

Result<PyLiteral> parse_py_literal(std::string_view text, std::size_t base_offset) {
  return Parser(text, base_offset).parse_all();
}

}  // namespace crossload
