#include "harness/store/json_reader.h"

#include <cmath>
#include <optional>

#include <simdjson.h>

namespace crossload {

namespace {

using nlohmann::json;
using simdjson::dom::element;
using Type = simdjson::dom::element_type;

// Whether `text` may hold the integer -0 (a "-0" not in an exponent and not followed by a
// fraction, exponent or digit), which nlohmann keeps as a signed integer and simdjson reads as 0.
// Strings are not told apart: a "-0" in one only sends the text to nlohmann.
bool may_hold_negative_zero(std::string_view text) {
  for (auto at = text.find("-0"); at != std::string_view::npos; at = text.find("-0", at + 1)) {
    if (at > 0 && (text[at - 1] == 'e' || text[at - 1] == 'E')) continue;
    char next = at + 2 < text.size() ? text[at + 2] : ' ';
    if (next != '.' && next != 'e' && next != 'E' && (next < '0' || next > '9')) return true;
  }
  return false;
}

// The text being converted, and whether it may hold -0 (looked for at the first integer 0).
struct Source {
  std::string_view text;
  std::optional<bool> negative_zero{};
};

// The value of `e` as nlohmann would have parsed its text, or nothing where simdjson's reading
// may differ from nlohmann's.
std::optional<json> convert(element e, Source& source) {
  switch (e.type()) {
    case Type::OBJECT: {
      json object = json::object();
      for (auto [key, value] : simdjson::dom::object(e)) {
        auto v = convert(value, source);
        if (!v) return std::nullopt;
        object[std::string(key)] = std::move(*v);  // a repeated key: the last one wins, as in nlohmann
      }
      return object;
    }
    case Type::ARRAY: {
      json array = json::array();
      for (element value : simdjson::dom::array(e)) {
        auto v = convert(value, source);
        if (!v) return std::nullopt;
        array.push_back(std::move(*v));
      }
      return array;
    }
    case Type::STRING:
      return json(std::string(std::string_view(e)));
    case Type::INT64: {
      // nlohmann keeps every integer written without a minus sign as unsigned.
      int64_t i = int64_t(e);
      if (i == 0 && !source.negative_zero) source.negative_zero = may_hold_negative_zero(source.text);
      if (i == 0 && *source.negative_zero) return std::nullopt;
      return i >= 0 ? json(static_cast<uint64_t>(i)) : json(i);
    }
    case Type::UINT64:
      return json(uint64_t(e));
    case Type::DOUBLE: {
      double d = double(e);
      if (d == 0 && std::signbit(d)) return std::nullopt;  // "-0" is an integer to nlohmann, -0.0 to simdjson
      return json(d);
    }
    case Type::BOOL:
      return json(bool(e));
    case Type::NULL_VALUE:
      return json(nullptr);
  }
  return std::nullopt;
}

}  // namespace

JsonReader::JsonReader() : parser_(std::make_unique<simdjson::dom::parser>()) {}

JsonReader::~JsonReader() = default;

json JsonReader::parse(std::string_view text) {
  element root;
  if (parser_->parse(text.data(), text.size()).get(root) == simdjson::SUCCESS)
    if (Source source{text}; auto value = convert(root, source)) return std::move(*value);
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace crossload
