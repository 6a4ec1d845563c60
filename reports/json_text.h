#pragma once
// JSON text as nlohmann's dump(2) writes it, byte for byte, for results.json's million cells:
// nlohmann's serializer escapes a string one byte at a time through a UTF-8 decoder and an
// intermediate buffer, which was the largest single cost of `crossload report`. Here the runs
// of bytes that need no escape are copied at once; numbers, booleans and null, and any string
// that is not valid UTF-8 (nlohmann's error is kept), still go through nlohmann.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace crossload {

class JsonText {
 public:
  // Appends to `out`, which must outlive this writer.
  explicit JsonText(std::string& out);
  // `s` as a JSON string: quoted, escaped as nlohmann escapes it (ensure_ascii off).
  void string(std::string_view s);
  // `value` as value.dump(2) writes it nested at `indent` spaces.
  void value(const nlohmann::json& value, unsigned indent);

 private:
  bool escaped(std::string_view s);  // false, having written nothing, for invalid UTF-8

  std::string& out_;
  nlohmann::detail::serializer<nlohmann::json> dump_;
  nlohmann::json string_ = "";  // a string nlohmann must write, reused
};

}  // namespace crossload
