#pragma once
// Reading one answer's fields for the decoders of protocol_answers.cc (and the list's): the first
// field that is missing or of the wrong type becomes the Error, naming the op and the field, so a
// decoder reads every field in a row and asks for the verdict once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/util/result.h"

namespace crossload {

class FieldReader {
 public:
  FieldReader(std::string op, const nlohmann::json& result);

  // Required fields.
  double number(const char* key);
  int64_t integer(const char* key);
  std::string text(const char* key);
  std::vector<std::string> texts(const char* key);
  std::vector<double> numbers(const char* key);
  nlohmann::json number_or_null(const char* key);  // present, a number or null
  // Optional ones: the fallback when absent or null; present with another type is still an error.
  double number_or(const char* key, double fallback);
  std::optional<int64_t> integer_if(const char* key);
  nlohmann::json array_or_empty(const char* key);
  nlohmann::json object_or_empty(const char* key);

  // The value, or the Error about the first bad field.
  template <class T>
  Result<T> verdict(T value) const {
    if (problem_) return *problem_;
    return value;
  }
  // "the worker's '<op>' answer is malformed: <what> (harness/worker/PROTOCOL.md)"
  static Error malformed(const std::string& op, const std::string& what);

 private:
  const nlohmann::json* field(const char* key, bool required);  // null: absent (or reported)
  void fail(const char* key, const char* expected);
  std::string op_;
  const nlohmann::json& result_;
  std::optional<Error> problem_;
};

}  // namespace crossload
