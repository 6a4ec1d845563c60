#include "harness/compare/npy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

#include "harness/compare/py_literal.h"

namespace crossload {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kMaxDims = 64;  // numpy's NPY_MAXDIMS
constexpr std::string_view kSupported = "crossload reads float, signed and unsigned integer, bool and unicode arrays";

// Everything the header says, checked, before a single value is decoded.
struct Layout {
  DtypeKind kind = DtypeKind::kFloat;
  std::size_t item_size = 0;
  std::size_t unit_size = 0;  // the byte-swapped unit: item_size, or 4 for unicode
  ByteOrder byte_order = ByteOrder::kNone;
  std::string descr;
  std::vector<std::size_t> shape;
  bool fortran_order = false;
  int major = 1, minor = 0;
  std::size_t data_offset = 0;
  std::size_t count = 0;
};

Error fail(std::string_view name, std::string_view problem) {
  return make_error(fmt::format("{}: {}", name, problem));
}

std::string quoted_prefix(std::span<const std::byte> bytes) {
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 6); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  return out;
}

std::uint64_t read_le(std::span<const std::byte> bytes, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= std::uint64_t(std::to_integer<unsigned>(bytes[at + i])) << (8 * i);
  return v;
}

// Magic, version and header length: the fixed part in front of the header dict.
Status read_preamble(std::span<const std::byte> bytes, std::string_view name, Layout& out) {
  const std::size_t have = bytes.size();
  if (have == 0) return fail(name, "empty file (0 bytes), not a .npy file");
  const std::string_view start(reinterpret_cast<const char*>(bytes.data()), std::min(have, kMagic.size()));
  if (kMagic.substr(0, start.size()) != start)
    return fail(name, fmt::format("not a .npy file: starts with \"{}\", not \"\\x93NUMPY\"", quoted_prefix(bytes)));
  if (have < 8) return fail(name, fmt::format("truncated: file ends at byte {} inside the 8-byte magic and version", have));
  out.major = std::to_integer<int>(bytes[6]);
  out.minor = std::to_integer<int>(bytes[7]);
  if (out.major < 1 || out.major > 3 || out.minor != 0)
    return fail(name, fmt::format("unsupported .npy format version {}.{} at byte 6 (1.0, 2.0 and 3.0 are known)",
                                  out.major, out.minor));
  const std::size_t len_width = out.major == 1 ? 2 : 4;
  if (have < 8 + len_width)
    return fail(name, fmt::format("truncated: file ends at byte {} inside the header length", have));
  const std::uint64_t header_len = read_le(bytes, 8, len_width);
  out.data_offset = 8 + len_width + header_len;
  if (header_len > have - 8 - len_width)
    return fail(name, fmt::format("truncated: the header is declared to end at byte {}, but the file ends at byte {}",
                                  out.data_offset, have));
  return ok_status();
}

// --- descr: "<f8", ">U12", "|b1" -------------------------------------------------

std::string object_refusal(const std::string& descr) {
  return fmt::format(
      "object arrays (descr '{}') can only be read by unpickling, and crossload never unpickles; "
      "have the worker save a numeric or unicode array",
      descr);
}

Result<std::size_t> parse_width(std::string_view digits, std::string_view name, const std::string& descr,
                                std::size_t offset) {
  std::size_t width = 0;
  bool ok = !digits.empty() && digits.size() <= 9;  // no dtype is a gigabyte wide
  for (const char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    width = width * 10 + std::size_t(c - '0');
  }
  if (!ok || width == 0)
    return fail(name, fmt::format("malformed descr '{}' at byte {}: the width must be a positive number", descr, offset));
  return width;
}

// The type letter and width decide kind and item size; anything else is refused by name.
Status set_kind(char letter, std::size_t width, std::string_view name, std::size_t offset, Layout& out) {
  const auto unsupported = [&](std::string_view why) {
    return fail(name, fmt::format("unsupported dtype '{}' at byte {}: {}", out.descr, offset, why));
  };
  const bool power_of_two = width == 1 || width == 2 || width == 4 || width == 8;
  switch (letter) {
    case 'f':
      if (width != 2 && width != 4 && width != 8) return unsupported("only float16, float32 and float64 are read");
      out.kind = DtypeKind::kFloat; break;
    case 'i':
    case 'u':
      if (!power_of_two) return unsupported("integers are 1, 2, 4 or 8 bytes wide");
      out.kind = letter == 'i' ? DtypeKind::kInt : DtypeKind::kUInt; break;
    case 'b':
    case '?':
      if (width != 1) return unsupported("bool is 1 byte wide");
      out.kind = DtypeKind::kBool; break;
    case 'U':
      if (width > std::numeric_limits<std::size_t>::max() / 4) return unsupported("too wide");
      out.kind = DtypeKind::kUnicode;
      out.item_size = width * 4;
      out.unit_size = 4;
      return ok_status();
    default:
      return unsupported(kSupported);
  }
  out.item_size = out.unit_size = width;
  return ok_status();
}

Status parse_descr(const PyLiteral& lit, std::string_view name, Layout& out) {
  if (lit.kind == PyLiteral::Kind::kList)
    return fail(name, fmt::format("structured dtype (a list of fields) at byte {} is not supported: predictions are "
                                  "plain arrays", lit.offset));
  if (lit.kind != PyLiteral::Kind::kStr)
    return fail(name, fmt::format("'descr' at byte {} is {}, not a string", lit.offset, kind_name(lit.kind)));
  out.descr = lit.str;
  std::string_view d = lit.str;
  const char order = d.empty() ? '\0' : d.front();
  if (order == '<' || order == '>' || order == '|' || order == '=') d.remove_prefix(1);
  if (!d.empty() && d.front() == 'O') return fail(name, object_refusal(out.descr));
  if (d.empty()) return fail(name, fmt::format("malformed descr '{}' at byte {}", out.descr, lit.offset));
  if (std::string_view("fiub?U").find(d.front()) == std::string_view::npos)
    return fail(name, fmt::format("unsupported dtype '{}' at byte {}: {}", out.descr, lit.offset, kSupported));
  std::size_t width = 1;
  if (d.front() != '?') {
    auto w = parse_width(d.substr(1), name, out.descr, lit.offset);
    if (!w) return w.error();
    width = *w;
  } else if (d.size() != 1) {
    return fail(name, fmt::format("malformed descr '{}' at byte {}", out.descr, lit.offset));
  }
  if (auto s = set_kind(d.front(), width, name, lit.offset, out); !s) return s;
  if (out.unit_size == 1) return ok_status();  // a single byte has no byte order
  if (order != '<' && order != '>')
    return fail(name, fmt::format("descr '{}' at byte {} does not say which byte order its {}-byte values use",
                                  out.descr, lit.offset, out.unit_size));
  out.byte_order = order == '<' ? ByteOrder::kLittle : ByteOrder::kBig;
  return ok_status();
}

// --- shape and the rest of the header dict ----------------------------------------

Status parse_shape(const PyLiteral& lit, std::string_view name, Layout& out) {
  if (lit.kind != PyLiteral::Kind::kTuple)
    return fail(name, fmt::format("'shape' at byte {} is {}, not a tuple", lit.offset, kind_name(lit.kind)));
  if (lit.items.size() > kMaxDims)
    return fail(name, fmt::format("'shape' at byte {} has {} dimensions; numpy allows at most {}", lit.offset,
                                  lit.items.size(), kMaxDims));
  for (const PyLiteral& dim : lit.items) {
    if (dim.kind != PyLiteral::Kind::kInt || dim.integer < 0)
      return fail(name, fmt::format("'shape' at byte {} has a dimension that is not a non-negative integer",
                                    dim.offset));
    if (static_cast<std::uint64_t>(dim.integer) > std::numeric_limits<std::size_t>::max())
      return fail(name, fmt::format("dimension {} at byte {} is too large for this machine", dim.integer, dim.offset));
    out.shape.push_back(static_cast<std::size_t>(dim.integer));
  }
  return ok_status();
}

Status check_keys(const PyLiteral& dict, std::string_view name) {
  for (std::size_t i = 0; i < dict.items.size(); i += 2) {
    const PyLiteral& key = dict.items[i];
    const bool known = key.kind == PyLiteral::Kind::kStr &&
                       (key.str == "descr" || key.str == "fortran_order" || key.str == "shape");
    if (!known)
      return fail(name, fmt::format("unexpected key {} at byte {} in the header (expected exactly 'descr', "
                                    "'fortran_order' and 'shape')",
                                    key.kind == PyLiteral::Kind::kStr ? "'" + key.str + "'" : std::string(kind_name(key.kind)),
                                    key.offset));
  }
  for (const char* required : {"descr", "fortran_order", "shape"})
    if (dict.find(required) == nullptr)
      return fail(name, fmt::format("the header dict at byte {} has no '{}'", dict.offset, required));
  return ok_status();
}

Status parse_header(std::span<const std::byte> bytes, std::string_view name, Layout& out) {
  const std::size_t start = out.major == 1 ? 10 : 12;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + start, out.data_offset - start);
  auto dict = parse_py_literal(text, start);
  if (!dict) return fail(name, "malformed header: " + dict.error().message);
  if (dict->kind != PyLiteral::Kind::kDict)
    return fail(name, fmt::format("the header at byte {} is {}, not a dict", dict->offset, kind_name(dict->kind)));
  if (auto s = check_keys(*dict, name); !s) return s;
  const PyLiteral& fortran = *dict->find("fortran_order");
  if (fortran.kind != PyLiteral::Kind::kBool)
    return fail(name, fmt::format("'fortran_order' at byte {} is {}, not True or False", fortran.offset,
                                  kind_name(fortran.kind)));
  out.fortran_order = fortran.boolean;
  if (auto s = parse_descr(*dict->find("descr"), name, out); !s) return s;
  return parse_shape(*dict->find("shape"), name, out);
}

// The header's claims are checked against the bytes present before anything is allocated.
Status check_size(std::span<const std::byte> bytes, std::string_view name, Layout& out) {
  std::size_t count = 1;
  const bool empty = std::find(out.shape.begin(), out.shape.end(), 0) != out.shape.end();
  for (const std::size_t dim : out.shape)
    if (!empty && __builtin_mul_overflow(count, dim, &count))
      return fail(name, fmt::format("shape {} has more elements than a 64-bit count can hold",
                                    shape_string(out.shape)));
  out.count = empty ? 0 : count;
  std::size_t needed = 0;
  const std::size_t remaining = bytes.size() - out.data_offset;
  const bool overflow = __builtin_mul_overflow(out.count, out.item_size, &needed);
  if (overflow || needed > remaining)
    return fail(name, fmt::format("data truncated: shape {} of '{}' needs {} bytes from byte {}, but only {} remain",
                                  shape_string(out.shape), out.descr,
                                  overflow ? std::string("more than 2^64") : std::to_string(needed),
                                  out.data_offset, remaining));
  return ok_status();
}

// --- decoding values ----------------------------------------------------------------

template <class U>
U load(const std::byte* p, bool swap) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (sizeof(U) == 2) return swap ? U(__builtin_bswap16(v)) : v;
  else if constexpr (sizeof(U) == 4) return swap ? __builtin_bswap32(v) : v;
  else if constexpr (sizeof(U) == 8) return swap ? __builtin_bswap64(v) : v;
  else return v;
}

// Widening by hand keeps a NaN's payload and signalling bit, which a hardware
// conversion would quieten: bitwise comparison must see the bits the file holds.
double nan_double(std::uint64_t sign, std::uint64_t mantissa_top_aligned) {
  return std::bit_cast<double>((sign << 63) | (std::uint64_t{0x7ff} << 52) | mantissa_top_aligned);
}

double widen_f32(std::uint32_t bits) {
  const std::uint32_t mantissa = bits & 0x7fffff;
  if ((bits & 0x7f800000) == 0x7f800000 && mantissa != 0) return nan_double(bits >> 31, std::uint64_t{mantissa} << 29);
  return static_cast<double>(std::bit_cast<float>(bits));
}

double widen_f16(std::uint16_t bits) {
  const unsigned sign = bits >> 15, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  if (exponent == 0x1f && mantissa != 0) return nan_double(sign, std::uint64_t{mantissa} << 42);
  double magnitude = exponent == 0x1f ? std::numeric_limits<double>::infinity()
                     : exponent == 0  ? std::ldexp(double(mantissa), -24)
                                      : std::ldexp(double(mantissa | 0x400), int(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

bool needs_swap(ByteOrder order) {
  return (order == ByteOrder::kBig && std::endian::native == std::endian::little) ||
         (order == ByteOrder::kLittle && std::endian::native == std::endian::big);
}

void decode_floats(const std::byte* p, const Layout& l, std::vector<double>& out) {
  const bool swap = needs_swap(l.byte_order);
  out.resize(l.count);
  if (l.item_size == 8 && !swap && l.count > 0) {  // memcpy wants a non-null pointer even for 0 bytes
    std::memcpy(out.data(), p, l.count * 8);
    return;
  }
  for (std::size_t i = 0; i < l.count; ++i, p += l.item_size) {
    if (l.item_size == 8) out[i] = std::bit_cast<double>(load<std::uint64_t>(p, swap));
    else if (l.item_size == 4) out[i] = widen_f32(load<std::uint32_t>(p, swap));
    else out[i] = widen_f16(load<std::uint16_t>(p, swap));
  }
}

// Integers of any width land in 64 bits; signed ones are sign-extended through their own width.
template <class T, class U>
T load_int(const std::byte* p, bool swap) {
  if constexpr (std::is_signed_v<T>) return T(std::make_signed_t<U>(load<U>(p, swap)));
  else return T(load<U>(p, swap));
}

template <class T>
void decode_ints(const std::byte* p, const Layout& l, std::vector<T>& out) {
  const bool swap = needs_swap(l.byte_order);
  out.resize(l.count);
  for (std::size_t i = 0; i < l.count; ++i, p += l.item_size) {
    switch (l.item_size) {
      case 1: out[i] = load_int<T, std::uint8_t>(p, swap); break;
      case 2: out[i] = load_int<T, std::uint16_t>(p, swap); break;
      case 4: out[i] = load_int<T, std::uint32_t>(p, swap); break;
      default: out[i] = load_int<T, std::uint64_t>(p, swap); break;
    }
  }
}

void decode_bools(const std::byte* p, const Layout& l, std::vector<std::uint8_t>& out) {
  out.resize(l.count);
  for (std::size_t i = 0; i < l.count; ++i) out[i] = p[i] != std::byte{0};
}

void decode_strings(const std::byte* p, const Layout& l, std::vector<std::u32string>& out) {
  const bool swap = needs_swap(l.byte_order);
  const std::size_t chars = l.item_size / 4;
  out.resize(l.count);
  for (std::size_t i = 0; i < l.count; ++i, p += l.item_size) {
    std::size_t n = chars;
    while (n > 0 && load<std::uint32_t>(p + 4 * (n - 1), swap) == 0) --n;  // numpy drops trailing NULs
    out[i].resize(n);
    for (std::size_t c = 0; c < n; ++c) out[i][c] = load<std::uint32_t>(p + 4 * c, swap);
  }
}

// A Fortran-ordered file holds the first index fastest; walk the C-order positions
// with an odometer and fetch each from its Fortran position.
template <class T>
void to_c_order(std::vector<T>& values, const std::vector<std::size_t>& shape) {
  if (shape.size() < 2 || values.empty()) return;
  const std::size_t nd = shape.size();
  std::vector<std::size_t> stride(nd, 1), index(nd, 0);
  for (std::size_t k = 1; k < nd; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  std::vector<T> c_order(values.size());
  std::size_t from = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    c_order[i] = std::move(values[from]);
    for (std::size_t k = nd; k-- > 0;) {  // advance the last index first, carrying left
      from += stride[k];
      if (++index[k] < shape[k]) break;
      from -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
  values = std::move(c_order);
}

NpyArray decode(std::span<const std::byte> bytes, const Layout& l) {
  NpyArray a{.kind = l.kind, .item_size = l.item_size, .byte_order = l.byte_order, .descr = l.descr,
             .shape = l.shape, .fortran_order = l.fortran_order, .version_major = l.major,
             .version_minor = l.minor};
  const std::byte* p = bytes.data() + l.data_offset;
  const auto reorder = [&](auto& v) { if (l.fortran_order) to_c_order(v, l.shape); };
  switch (l.kind) {
    case DtypeKind::kFloat: decode_floats(p, l, a.floats); reorder(a.floats); break;
    case DtypeKind::kInt: decode_ints(p, l, a.ints); reorder(a.ints); break;
    case DtypeKind::kUInt: decode_ints(p, l, a.uints); reorder(a.uints); break;
    case DtypeKind::kBool: decode_bools(p, l, a.bools); reorder(a.bools); break;
    case DtypeKind::kUnicode: decode_strings(p, l, a.strings); reorder(a.strings); break;
  }
  return a;
}

void append_utf8(std::string& out, char32_t c) {
  if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xc0 | (c >> 6)), out += char(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += char(0xe0 | (c >> 12)), out += char(0x80 | ((c >> 6) & 0x3f)), out += char(0x80 | (c & 0x3f));
  } else {
    out += char(0xf0 | (c >> 18)), out += char(0x80 | ((c >> 12) & 0x3f));
    out += char(0x80 | ((c >> 6) & 0x3f)), out += char(0x80 | (c & 0x3f));
  }
}

}  // namespace

std::size_t NpyArray::size() const {
  switch (kind) {
    case DtypeKind::kFloat: return floats.size();
    case DtypeKind::kInt: return ints.size();
    case DtypeKind::kUInt: return uints.size();
    case DtypeKind::kBool: return bools.size();
    case DtypeKind::kUnicode: return strings.size();
  }
  return 0;
}

std::string dtype_name(const NpyArray& a) {
  switch (a.kind) {
    case DtypeKind::kFloat: return fmt::format("float{}", a.item_size * 8);
    case DtypeKind::kInt: return fmt::format("int{}", a.item_size * 8);
    case DtypeKind::kUInt: return fmt::format("uint{}", a.item_size * 8);
    case DtypeKind::kBool: return "bool";
    case DtypeKind::kUnicode: return fmt::format("U{}", a.item_size / 4);
  }
  return "unknown";
}

std::string_view byte_order_name(ByteOrder order) {
  switch (order) {
    case ByteOrder::kLittle: return "little-endian";
    case ByteOrder::kBig: return "big-endian";
    case ByteOrder::kNone: return "single-byte";
  }
  return "unknown";
}

std::string shape_string(const std::vector<std::size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape.front());
  return fmt::format("({})", fmt::join(shape, ", "));
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char32_t c : s) append_utf8(out, c);
  return out;
}

Result<NpyArray> parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  Layout layout;
  if (auto s = read_preamble(bytes, name, layout); !s) return s.error();
  if (auto s = parse_header(bytes, name, layout); !s) return s.error();
  if (auto s = check_size(bytes, name, layout); !s) return s.error();
  return decode(bytes, layout);
}

Result<NpyArray> read_npy(const std::string& path) {
  const auto closer = [](std::FILE* f) { std::fclose(f); };
  std::unique_ptr<std::FILE, decltype(closer)> file(std::fopen(path.c_str(), "rb"), closer);
  if (!file) return fail(path, "cannot open: " + std::generic_category().message(errno));
  // Read to the end rather than trusting the size: the file may be a pipe, or growing.
  // One byte more than the size lets a single read see the end of a regular file.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::size_t want = ec ? 65536 : static_cast<std::size_t>(size) + 1, used = 0;
  std::vector<std::byte> bytes;
  for (;;) {
    bytes.resize(used + want);
    const std::size_t got = std::fread(bytes.data() + used, 1, want, file.get());
    used += got;
    if (got < want) break;
    want = 65536;
  }
  if (std::ferror(file.get())) return fail(path, "read failed: " + std::generic_category().message(errno));
  bytes.resize(used);
  return parse_npy(bytes, path);
}

}  // namespace crossload
