#pragma once
// A parser for the small subset of Python literal syntax that a .npy header uses:
// dicts, tuples, lists, str, int, True/False/None. numpy writes the header with
// repr() and reads it with ast.literal_eval; this is the same language, minus
// floats, bytes and sets, which no header contains. It never evaluates anything.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

struct PyLiteral {
  enum class Kind { kStr, kInt, kBool, kNone, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  std::string str{};          // kStr
  std::int64_t integer = 0;   // kInt
  bool boolean = false;       // kBool
  // kTuple / kList: the elements; kDict: keys and values alternate (k0, v0, k1, v1, ...).
  std::vector<PyLiteral> items{};
  std::size_t offset = 0;     // where the literal starts in the parsed text, for errors

  const PyLiteral* find(std::string_view key) const;  // dict lookup by str key
};

std::string_view kind_name(PyLiteral::Kind kind);

// Parses exactly one literal followed only by whitespace. Errors read
// "<problem> at byte <base_offset + position>" so callers can prefix a file name.
Result<PyLiteral> parse_py_literal(std::string_view text, std::size_t base_offset = 0);

}  // namespace crossload
