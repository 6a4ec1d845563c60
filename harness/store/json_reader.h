#pragma once
// JSON text read back from the store (a cell's detail, an artifact's manifest) into nlohmann's
// values. A million-cell report spent a sixth of its time in nlohmann's parser, which reads a
// byte at a time; simdjson reads the text about four times faster, and the values are built
// from its document. Whatever simdjson refuses or reads differently from nlohmann (a number too
// large for 64 bits, nesting past its depth, "-0") is given to nlohmann, so the values and the
// errors are always nlohmann's.
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

namespace simdjson::dom {
class parser;
}

namespace crossload {

class JsonReader {
 public:
  JsonReader();
  ~JsonReader();
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  // As nlohmann::json::parse(text, nullptr, false): the value, or a discarded one when the text
  // is not JSON. One reader reuses its buffers from one text to the next.
  nlohmann::json parse(std::string_view text);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

}  // namespace crossload
