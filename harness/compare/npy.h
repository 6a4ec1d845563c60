#pragma once
// Reading numpy's .npy format (versions 1.0, 2.0, 3.0) without Python: predictions
// travel between environments as .npy files written by the worker, on machines of
// either byte order. Values come back normalised to native byte order and C order.
// Object arrays are refused: they are pickles, and crossload never unpickles.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

enum class DtypeKind { kFloat, kInt, kUInt, kBool, kUnicode };
// kNone for one-byte types, whose descr numpy writes with '|'.
enum class ByteOrder { kLittle, kBig, kNone };

struct NpyArray {
  DtypeKind kind = DtypeKind::kFloat;
  std::size_t item_size = 0;                 // bytes per element in the file (<U12: 48)
  ByteOrder byte_order = ByteOrder::kNone;   // as written in the file
  std::string descr{};                       // as written, e.g. ">f4"
  std::vector<std::size_t> shape{};          // () for a 0-d array
  bool fortran_order = false;                // as written; the values below are always C order
  int version_major = 1, version_minor = 0;

  // Exactly one of these holds the values (C order, native byte order), chosen by kind.
  // Floats of every width are widened exactly to double; item_size keeps float32 and
  // float16 distinct for ULP purposes (a NaN's payload and quiet bit survive widening).
  std::vector<double> floats{};         // kFloat
  std::vector<std::int64_t> ints{};     // kInt, any width
  std::vector<std::uint64_t> uints{};   // kUInt, any width
  std::vector<std::uint8_t> bools{};    // kBool, 0 or 1
  std::vector<std::u32string> strings{};  // kUnicode, trailing NULs stripped as numpy does

  std::size_t size() const;  // number of elements (1 for a 0-d array)
};

// numpy's name for the dtype, without its byte order: "float64", "int32", "bool", "U12".
std::string dtype_name(const NpyArray& a);
std::string_view byte_order_name(ByteOrder order);   // "little-endian", "big-endian", ...
std::string shape_string(const std::vector<std::size_t>& shape);  // "(150,)", "(3, 4)", "()"
std::string to_utf8(std::u32string_view s);  // for messages; invalid code points become U+FFFD

// Errors are one line naming the file ("name: problem at byte N"). Memory use is
// bounded by the bytes actually present, never by what the header claims: the file
// once, plus its values widened to 8 bytes each (a string object per unicode element).
Result<NpyArray> read_npy(const std::string& path);
Result<NpyArray> parse_npy(std::span<const std::byte> bytes, std::string_view name);

}  // namespace crossload
