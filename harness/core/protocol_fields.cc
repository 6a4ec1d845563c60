#include "harness/core/protocol_fields.h"

#include <fmt/format.h>

#include <algorithm>

namespace crossload {

using json = nlohmann::json;

FieldReader::FieldReader(std::string op, const json& result) : op_(std::move(op)), result_(result) {
  if (!result_.is_object()) problem_ = malformed(op_, "the result is not an object");
}

Error FieldReader::malformed(const std::string& op, const std::string& what) {
  return make_error(fmt::format("the worker's '{}' answer is malformed: {} (harness/worker/PROTOCOL.md)", op, what));
}

void FieldReader::fail(const char* key, const char* expected) {
  if (problem_) return;
  auto it = result_.find(key);
  problem_ = malformed(op_, it == result_.end() ? fmt::format("'{}' is missing", key)
                                                : fmt::format("'{}' is not {}: {}", key, expected, it->dump()));
}

const json* FieldReader::field(const char* key, bool required) {
  if (problem_) return nullptr;
  auto it = result_.find(key);
  if (it != result_.end() && !it->is_null()) return &*it;
  if (required && it == result_.end()) fail(key, "");
  return nullptr;
}

double FieldReader::number(const char* key) {
  const json* v = field(key, true);
  if (v && v->is_number()) return v->get<double>();
  if (v || (!problem_ && result_.contains(key))) fail(key, "a number");
  return 0;
}

int64_t FieldReader::integer(const char* key) {
  const json* v = field(key, true);
  if (v && v->is_number_integer()) return v->get<int64_t>();
  if (v || (!problem_ && result_.contains(key))) fail(key, "an integer");
  return 0;
}

std::string FieldReader::text(const char* key) {
  const json* v = field(key, true);
  if (v && v->is_string()) return v->get<std::string>();
  if (v || (!problem_ && result_.contains(key))) fail(key, "a string");
  return {};
}

std::vector<std::string> FieldReader::texts(const char* key) {
  const json* v = field(key, true);
  bool ok = v && v->is_array() && std::all_of(v->begin(), v->end(), [](const json& e) { return e.is_string(); });
  if (ok) return v->get<std::vector<std::string>>();
  if (v || (!problem_ && result_.contains(key))) fail(key, "a list of strings");
  return {};
}

std::vector<double> FieldReader::numbers(const char* key) {
  const json* v = field(key, true);
  bool ok = v && v->is_array() && std::all_of(v->begin(), v->end(), [](const json& e) { return e.is_number(); });
  if (ok) return v->get<std::vector<double>>();
  if (v || (!problem_ && result_.contains(key))) fail(key, "a list of numbers");
  return {};
}

json FieldReader::number_or_null(const char* key) {
  if (problem_) return json();
  if (!result_.contains(key)) fail(key, "");
  const json* v = field(key, false);
  if (!v) return json();
  if (!v->is_number()) fail(key, "a number or null");
  return *v;
}

double FieldReader::number_or(const char* key, double fallback) {
  const json* v = field(key, false);
  if (!v) return fallback;
  if (v->is_number()) return v->get<double>();
  fail(key, "a number");
  return fallback;
}

std::optional<int64_t> FieldReader::integer_if(const char* key) {
  const json* v = field(key, false);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  fail(key, "an integer");
  return std::nullopt;
}

json FieldReader::array_or_empty(const char* key) {
  const json* v = field(key, false);
  if (!v) return json::array();
  if (v->is_array()) return *v;
  fail(key, "a list");
  return json::array();
}

json FieldReader::object_or_empty(const char* key) {
  const json* v = field(key, false);
  if (!v) return json::object();
  if (v->is_object()) return *v;
  fail(key, "an object");
  return json::object();
}

}  // namespace crossload
