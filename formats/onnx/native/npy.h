#pragma once
// .npy files as the harness and the Python worker write them (format versions 1-3, C order):
// the inputs arrive as float32 or float64 of either byte order; the predictions leave in this
// CPU's byte order, with numpy's descr for the dtype ('<f4', '<i8', '<U7', '|b1').
#include <cstdint>
#include <string>
#include <vector>

namespace crossload_native {

struct Array {
  std::string descr;           // numpy dtype string, e.g. "<f4"
  std::vector<int64_t> shape;  // C order
  std::vector<char> data;      // the elements, in `descr`'s byte order
};

// '<' or '>': how this CPU stores numbers (numpy's descr prefix for native order).
char native_order();

// Reads a 2-D float32/float64 array of either byte order as float32 rows (what ONNX models
// converted by skl2onnx take). False and `err` naming the file and the problem otherwise.
bool read_float_matrix(const std::string& path, std::vector<float>* values, std::vector<int64_t>* shape,
                       std::string* err);

// Writes `a` as a version-1 .npy file.
bool write_npy(const std::string& path, const Array& a, std::string* err);

}  // namespace crossload_native
