#include "npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace crossload_native {

namespace {

const char kMagic[] = "\x93NUMPY";

bool fail(std::string* err, const std::string& path, const std::string& what) {
  *err = path + ": " + what;
  return false;
}

// The header dict's values, read with the same narrow grammar numpy writes.
bool parse_header(const std::string& header, std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']+)')"))) return false;
  *descr = m[1].str();
  if (!std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*(True|False))"))) return false;
  *fortran = m[1].str() == "True";
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) return false;
  shape->clear();
  std::string dims = m[1].str();
  const std::regex digits(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), digits); it != std::sregex_iterator(); ++it)
    shape->push_back(std::stoll(it->str()));
  return true;
}

template <typename T>
T load_swapped(const char* p, bool swap) {
  char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap)
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

}  // namespace

char native_order() {
  const uint16_t one = 1;
  char first;
  std::memcpy(&first, &one, 1);
  return first == 1 ? '<' : '>';
}

bool read_float_matrix(const std::string& path, std::vector<float>* values, std::vector<int64_t>* shape,
                       std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(err, path, "cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) return fail(err, path, "not a .npy file (bad magic)");
  int major = static_cast<unsigned char>(bytes[6]);
  std::size_t len_size = major == 1 ? 2 : 4, start = 8 + len_size;
  if (major < 1 || major > 3 || bytes.size() < start) return fail(err, path, "unknown .npy version");
  std::size_t header_len = 0;
  for (std::size_t i = 0; i < len_size; ++i) header_len |= std::size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  if (bytes.size() < start + header_len) return fail(err, path, "truncated header");
  std::string descr;
  bool fortran = false;
  if (!parse_header(bytes.substr(start, header_len), &descr, &fortran, shape)) return fail(err, path, "unreadable header");
  if (fortran) return fail(err, path, "Fortran-ordered arrays are not read (the harness writes C order)");
  if (shape->size() != 2) return fail(err, path, "expected a 2-D array of rows, got " + std::to_string(shape->size()) + "-D");
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '>') || descr[1] != 'f' || (descr[2] != '4' && descr[2] != '8'))
    return fail(err, path, "dtype '" + descr + "' is not float32/float64");
  std::size_t n = static_cast<std::size_t>((*shape)[0] * (*shape)[1]), width = descr[2] - '0';
  const char* data = bytes.data() + start + header_len;
  if (bytes.size() - start - header_len < n * width) return fail(err, path, "truncated data");
  bool swap = descr[0] != native_order();
  values->resize(n);
  for (std::size_t i = 0; i < n; ++i)
    (*values)[i] = width == 4 ? load_swapped<float>(data + 4 * i, swap) : static_cast<float>(load_swapped<double>(data + 8 * i, swap));
  return true;
}

bool write_npy(const std::string& path, const Array& a, std::string* err) {
  std::ostringstream dict;
  dict << "{'descr': '" << a.descr << "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) dict << a.shape[i] << (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  dict << "), }";
  std::string header = dict.str();
  // numpy pads the header with spaces so the data starts on a 64-byte boundary.
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fail(err, path, "cannot create");
  out.write(kMagic, 6);
  out.put('\x01').put('\x00');
  out.put(static_cast<char>(header.size() & 0xff)).put(static_cast<char>(header.size() >> 8));
  out << header;
  out.write(a.data.data(), static_cast<std::streamsize>(a.data.size()));
  if (!out.flush()) return fail(err, path, "write failed");
  return true;
}

}  // namespace crossload_native
