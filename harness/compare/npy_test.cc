#include "harness/compare/npy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "harness/compare/testing.h"

namespace crossload {
namespace {

// --- writing .npy bytes by hand -----------------------------------------------------

// Magic, version, little-endian header length, then the dict padded with spaces to a
// multiple of 64 and ended by '\n', as numpy writes it.
std::string preamble(const std::string& dict, int major = 1) {
  const std::size_t fixed = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((fixed + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += '\0';
  for (std::size_t i = 0; i < fixed - 8; ++i) out += char((header.size() >> (8 * i)) & 0xff);
  return out + header;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

template <class T>
std::string raw(const std::vector<T>& values, bool big_endian) {
  std::string out;
  for (const T& v : values) {
    std::string bytes(sizeof(T), '\0');
    std::memcpy(bytes.data(), &v, sizeof(T));
    if (big_endian != (std::endian::native == std::endian::big)) std::reverse(bytes.begin(), bytes.end());
    out += bytes;
  }
  return out;
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

Result<NpyArray> parse(const std::string& file) { return parse_npy(as_bytes(file), "preds.npy"); }

std::string parse_error(const std::string& file) {
  auto r = parse(file);
  return r ? std::string("(parsed without error)") : r.error().message;
}

std::uint64_t bits(double d) { return std::bit_cast<std::uint64_t>(d); }

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// --- reading --------------------------------------------------------------------------

TEST(NpyRead, Float64BothByteOrders) {
  const std::vector<double> v{1.5, -2.0, std::numeric_limits<double>::infinity(), -0.0, 0x1p-1074};
  for (const bool big : {false, true}) {
    auto a = parse(preamble(dict(big ? ">f8" : "<f8", "(5,)")) + raw(v, big));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->kind, DtypeKind::kFloat);
    EXPECT_EQ(a->item_size, 8u);
    EXPECT_EQ(a->byte_order, big ? ByteOrder::kBig : ByteOrder::kLittle);
    ASSERT_EQ(a->floats.size(), 5u);
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(bits(a->floats[i]), bits(v[i])) << i;
    EXPECT_EQ(a->shape, std::vector<std::size_t>{5});
    EXPECT_EQ(dtype_name(*a), "float64");
  }
}

TEST(NpyRead, Float32WidensExactlyAndKeepsNanBits) {
  const std::uint32_t signalling_nan = 0x7f800001, negative_quiet_nan = 0xffc00123;
  const std::vector<std::uint32_t> v{std::bit_cast<std::uint32_t>(0.1f), std::bit_cast<std::uint32_t>(-1e-45f),
                                     signalling_nan, negative_quiet_nan};
  for (const bool big : {false, true}) {
    auto a = parse(preamble(dict(big ? ">f4" : "<f4", "(4,)")) + raw(v, big));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->item_size, 4u);
    EXPECT_EQ(a->floats[0], static_cast<double>(0.1f));
    EXPECT_EQ(a->floats[1], static_cast<double>(-1e-45f));
    EXPECT_EQ(bits(a->floats[2]), 0x7ff0000020000000u);  // still signalling: quiet bit clear
    EXPECT_EQ(bits(a->floats[3]), 0xfff8002460000000u);
    EXPECT_EQ(dtype_name(*a), "float32");
  }
}

TEST(NpyRead, Float16) {
  const std::vector<std::uint16_t> v{0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00, 0x8000, 0x0400};
  auto a = parse(preamble(dict(">f2", "(7,)")) + raw(v, true));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->item_size, 2u);
  EXPECT_EQ(a->floats[0], 1.0);
  EXPECT_EQ(a->floats[1], -2.0);
  EXPECT_EQ(a->floats[2], 0x1p-24);
  EXPECT_EQ(a->floats[3], 65504.0);
  EXPECT_EQ(a->floats[4], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::signbit(a->floats[5]));
  EXPECT_EQ(a->floats[6], 0x1p-14);
}

template <class T>
void expect_signed_round_trip(const std::string& code) {
  const std::vector<T> v{std::numeric_limits<T>::min(), -1, 0, 7, std::numeric_limits<T>::max()};
  for (const bool big : {false, true}) {
    const std::string descr = (sizeof(T) == 1 ? "|" : big ? ">" : "<") + code;
    auto a = parse(preamble(dict(descr, "(5,)")) + raw(v, big));
    ASSERT_TRUE(a) << descr << ": " << a.error().message;
    EXPECT_EQ(a->kind, DtypeKind::kInt);
    ASSERT_EQ(a->ints.size(), 5u);
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(a->ints[i], std::int64_t{v[i]}) << descr << " " << i;
  }
}

template <class T>
void expect_unsigned_round_trip(const std::string& code) {
  const std::vector<T> v{0, 1, 200, std::numeric_limits<T>::max()};
  for (const bool big : {false, true}) {
    const std::string descr = (sizeof(T) == 1 ? "|" : big ? ">" : "<") + code;
    auto a = parse(preamble(dict(descr, "(4,)")) + raw(v, big));
    ASSERT_TRUE(a) << descr << ": " << a.error().message;
    EXPECT_EQ(a->kind, DtypeKind::kUInt);
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(a->uints[i], std::uint64_t{v[i]}) << descr << " " << i;
  }
}

TEST(NpyRead, IntegersOfEveryWidthAndByteOrder) {
  expect_signed_round_trip<std::int8_t>("i1");
  expect_signed_round_trip<std::int16_t>("i2");
  expect_signed_round_trip<std::int32_t>("i4");
  expect_signed_round_trip<std::int64_t>("i8");
  expect_unsigned_round_trip<std::uint8_t>("u1");
  expect_unsigned_round_trip<std::uint16_t>("u2");
  expect_unsigned_round_trip<std::uint32_t>("u4");
  expect_unsigned_round_trip<std::uint64_t>("u8");
}

TEST(NpyRead, BoolNormalisesNonZeroBytes) {
  auto a = parse(preamble(dict("|b1", "(4,)")) + std::string("\x00\x01\x02\xff", 4));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->kind, DtypeKind::kBool);
  EXPECT_EQ(a->bools, (std::vector<std::uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(a->byte_order, ByteOrder::kNone);
  EXPECT_EQ(dtype_name(*a), "bool");
}

std::string ucs4(const std::vector<std::u32string>& strings, std::size_t width, bool big) {
  std::vector<std::uint32_t> units;
  for (const auto& s : strings) {
    for (std::size_t i = 0; i < width; ++i) units.push_back(i < s.size() ? s[i] : 0);
  }
  return raw(units, big);
}

TEST(NpyRead, UnicodeBothByteOrders) {
  const std::vector<std::u32string> v{U"setosa", U"versicolor", U"", U"caf\u00e9 \U0001F600", U"twelve chars"};
  for (const bool big : {false, true}) {
    auto a = parse(preamble(dict(big ? ">U12" : "<U12", "(5,)")) + ucs4(v, 12, big));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->kind, DtypeKind::kUnicode);
    EXPECT_EQ(a->item_size, 48u);
    EXPECT_EQ(a->strings, v);
    EXPECT_EQ(dtype_name(*a), "U12");
  }
  EXPECT_EQ(to_utf8(U"caf\u00e9 \U0001F600"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

TEST(NpyRead, UnicodeKeepsEmbeddedNulButDropsTrailingOnes) {
  auto a = parse(preamble(dict("<U4", "(1,)")) + raw(std::vector<std::uint32_t>{'a', 0, 'b', 0}, false));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->strings[0], std::u32string(U"a\0b", 3));
}

TEST(NpyRead, FortranOrderIsNormalisedToCOrder) {
  // The 2x3 matrix [[0,1,2],[3,4,5]] stored column by column.
  auto a = parse(preamble(dict("<i8", "(2, 3)", true)) + raw(std::vector<std::int64_t>{0, 3, 1, 4, 2, 5}, false));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->fortran_order);
  EXPECT_EQ(a->ints, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(NpyRead, FortranOrderThreeDimensions) {
  // Element (i, j, k) of a 2x3x4 array has the value 100i + 10j + k.
  std::vector<double> fortran;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) fortran.push_back(100 * i + 10 * j + k);
  auto a = parse(preamble(dict(">f8", "(2, 3, 4)", true)) + raw(fortran, true));
  ASSERT_TRUE(a) << a.error().message;
  std::size_t flat = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(a->floats[flat++], 100 * i + 10 * j + k);
}

TEST(NpyRead, FortranOrderUnicodeStrings) {
  const std::vector<std::u32string> fortran{U"a", U"c", U"b", U"d"};  // [["a","b"],["c","d"]]
  auto a = parse(preamble(dict(">U1", "(2, 2)", true)) + ucs4(fortran, 1, true));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->strings, (std::vector<std::u32string>{U"a", U"b", U"c", U"d"}));
}

TEST(NpyRead, Versions2And3) {
  for (const int major : {2, 3}) {
    auto a = parse(preamble(dict("<i4", "(2,)"), major) + raw(std::vector<std::int32_t>{-4, 9}, false));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->version_major, major);
    EXPECT_EQ(a->ints, (std::vector<std::int64_t>{-4, 9}));
  }
}

TEST(NpyRead, ZeroDimensionalAndEmptyArrays) {
  auto scalar = parse(preamble(dict("<f8", "()")) + raw(std::vector<double>{2.5}, false));
  ASSERT_TRUE(scalar) << scalar.error().message;
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->size(), 1u);
  EXPECT_EQ(shape_string(scalar->shape), "()");
  auto empty = parse(preamble(dict("<f8", "(0, 5)")));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_EQ(shape_string(empty->shape), "(0, 5)");
  // A zero dimension makes the product zero however large the others are.
  EXPECT_TRUE(parse(preamble(dict("<f8", "(4611686018427387904, 4611686018427387904, 0)"))));
}

TEST(NpyRead, HeaderSpellingsNumpyHasUsed) {
  const std::string data = raw(std::vector<std::int64_t>{1, 2, 3}, false);
  for (const std::string& d : {
           std::string("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"),       // numpy >= 1.9
           std::string("{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}"),         // older numpy
           std::string("{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"<i8\"}"),  // Python 2, any order
           std::string("{u'descr': u'<i8', u'fortran_order': False, u'shape': (3,)}"),
           std::string("{ 'descr' : '<i8' ,\t'fortran_order' : False , 'shape' : ( 3 , ) }"),
       }) {
    auto a = parse(preamble(d) + data);
    ASSERT_TRUE(a) << d << ": " << a.error().message;
    EXPECT_EQ(a->ints, (std::vector<std::int64_t>{1, 2, 3})) << d;
  }
}

TEST(NpyRead, TrailingBytesAfterTheDataAreIgnoredAsNumpyDoes) {
  auto a = parse(preamble(dict("|u1", "(2,)")) + "\x01\x02garbage");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->uints, (std::vector<std::uint64_t>{1, 2}));
}

// --- refusing --------------------------------------------------------------------------

// Every refusal is one line that starts with the file's name.
void expect_one_line_error(const std::string& message) {
  EXPECT_EQ(message.rfind("preds.npy: ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(NpyErrors, ObjectArraysAreRefusedBecauseTheyArePickles) {
  const std::string e = parse_error(preamble(dict("|O", "(3,)")) + std::string(24, '\0'));
  expect_one_line_error(e);
  EXPECT_NE(e.find("object arrays (descr '|O')"), std::string::npos) << e;
  EXPECT_NE(e.find("never unpickles"), std::string::npos) << e;
}

struct BadHeader {
  std::string header;
  std::string expected;
};

TEST(NpyErrors, MalformedHeadersNameTheProblemAndTheByte) {
  const std::string f = "'fortran_order': False";
  const std::vector<BadHeader> cases{
      {"{'descr': '<f8', " + f + "}", "has no 'shape'"},
      {"{}", "has no 'descr'"},
      {"{'descr': '<f8', " + f + ", 'shape': (1,), 'extra': 1}", "unexpected key 'extra' at byte 66"},
      {"{'descr': '<f8', " + f + ", 'shape': (1,), 1: 2}", "unexpected key an integer"},
      {"{'descr': '<f8', 'descr': '<f4', " + f + ", 'shape': (1,)}", "duplicate key 'descr' at byte 27"},
      {"{'descr': '<f8', " + f + ", 'shape': [1]}", "'shape' at byte 60 is a list, not a tuple"},
      {"{'descr': '<f8', " + f + ", 'shape': (-1,)}", "not a non-negative integer"},
      {"{'descr': '<f8', " + f + ", 'shape': (1.5,)}", "expected ',' or ')' but found '.' at byte 62"},
      {"{'descr': '<f8', " + f + ", 'shape': (99999999999999999999,)}", "does not fit in 64 bits"},
      {"{'descr': '<f8', " + f + ", 'shape': (" + repeat("1, ", 65) + ")}", "has 65 dimensions; numpy allows at most 64"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' at byte 44 is an integer, not True or False"},
      {"{'descr': 8, " + f + ", 'shape': (1,)}", "'descr' at byte 20 is an integer, not a string"},
      {"{'descr': [('a', '<f8'), ('b', '<i4')], " + f + ", 'shape': (1,)}", "structured dtype"},
      {"{'descr': float64, " + f + ", 'shape': (1,)}", "unknown name 'float64'"},
      {"{'descr': '<f8, " + f + ", 'shape': (1,)}", "malformed header"},
      {"{'descr': '\\x41', " + f + ", 'shape': (1,)}", "unsupported string escape"},
      {"{'descr': '<f8', " + f + ", 'shape': " + std::string(1000, '(') + "}", "nested deeper than 32"},
      {"{'descr': '|f8', " + f + ", 'shape': (1,)}", "does not say which byte order its 8-byte values use"},
      {"{'descr': 'f8', " + f + ", 'shape': (1,)}", "does not say which byte order"},
      {"{'descr': '<c16', " + f + ", 'shape': (1,)}", "unsupported dtype '<c16' at byte 20"},
      {"{'descr': '<M8[ns]', " + f + ", 'shape': (1,)}", "unsupported dtype '<M8[ns]'"},
      {"{'descr': '<f16', " + f + ", 'shape': (1,)}", "only float16, float32 and float64"},
      {"{'descr': '<i3', " + f + ", 'shape': (1,)}", "integers are 1, 2, 4 or 8 bytes wide"},
      {"{'descr': '<U0', " + f + ", 'shape': (1,)}", "the width must be a positive number"},
      {"{'descr': '<f8x', " + f + ", 'shape': (1,)}", "malformed descr '<f8x'"},
      {"{'descr': '', " + f + ", 'shape': (1,)}", "malformed descr ''"},
      {"[1, 2]", "is a list, not a dict"},
      {"{'descr': '<f8', " + f + ", 'shape': (1,)} trailing", "unexpected 't' after the literal"},
      {"{'descr': '<f8', " + f, "text ends inside a dict"},
      {"", "text ends inside a literal"},
  };
  for (const auto& [header, expected] : cases) {
    const std::string e = parse_error(preamble(header) + std::string(64, '\0'));
    expect_one_line_error(e);
    EXPECT_NE(e.find(expected), std::string::npos) << "header: " << header << "\nerror:  " << e;
  }
}

TEST(NpyErrors, ShapesTheBytesCannotHold) {
  std::string e = parse_error(preamble(dict("<f8", "(1000000,)")) + raw(std::vector<double>{1}, false));
  expect_one_line_error(e);
  EXPECT_NE(e.find("data truncated: shape (1000000,) of '<f8' needs 8000000 bytes from byte 128, but only 8 remain"),
            std::string::npos) << e;
  e = parse_error(preamble(dict("<f8", "(4294967296, 4294967296, 4294967296)")));
  EXPECT_NE(e.find("has more elements than a 64-bit count can hold"), std::string::npos) << e;
  e = parse_error(preamble(dict("<f8", "(2305843009213693952,)")));  // 2^61 elements x 8 bytes
  EXPECT_NE(e.find("needs more than 2^64 bytes"), std::string::npos) << e;
  e = parse_error(preamble(dict("<U1000000", "(1000000000,)")));
  EXPECT_NE(e.find("needs 4000000000000000 bytes"), std::string::npos) << e;
}

TEST(NpyErrors, BadPreambles) {
  const std::string good = preamble(dict("<f8", "(1,)")) + raw(std::vector<double>{1}, false);
  std::string e = parse_error("");
  expect_one_line_error(e);
  EXPECT_NE(e.find("empty file"), std::string::npos) << e;
  e = parse_error("NUMPY" + good.substr(6));
  EXPECT_NE(e.find("not a .npy file: starts with \"NUMPY\\x01\""), std::string::npos) << e;
  e = parse_error(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\0'));
  EXPECT_NE(e.find("not a .npy file: starts with \"\\x89PNG\\x0d\\x0a\""), std::string::npos) << e;
  std::string v4 = good;
  v4[6] = 4;
  EXPECT_NE(parse_error(v4).find("unsupported .npy format version 4.0 at byte 6"), std::string::npos);
  std::string v11 = good;
  v11[7] = 1;
  EXPECT_NE(parse_error(v11).find("version 1.1"), std::string::npos);
  std::string long_header = good;
  long_header[9] = '\x7f';  // header length 0x7f76: far past the end of the file
  e = parse_error(long_header);
  EXPECT_NE(e.find("the header is declared to end at byte 32640, but the file ends at byte 136"), std::string::npos)
      << e;
}

// Cutting a valid file short at every length must give an error, never a crash.
TEST(NpyErrors, TruncatedAtEveryLength) {
  const std::vector<std::string> files{
      preamble(dict("<f8", "(3,)")) + raw(std::vector<double>{1, 2, 3}, false),
      preamble(dict(">i2", "(2, 2)", true), 2) + raw(std::vector<std::int16_t>{1, 2, 3, 4}, true),
      preamble(dict("<U3", "(2,)"), 3) + ucs4({U"ab", U"xyz"}, 3, false),
  };
  for (const std::string& file : files) {
    ASSERT_TRUE(parse(file)) << parse_error(file);
    for (std::size_t n = 0; n < file.size(); ++n) {
      const std::string e = parse_error(file.substr(0, n));
      expect_one_line_error(e);
      EXPECT_EQ(e.find("parsed without error"), std::string::npos) << "length " << n;
    }
  }
}

// Random corruption: whatever the bytes, the reader returns a value or an error.
TEST(NpyErrors, CorruptedBytesNeverCrash) {
  const std::string good = preamble(dict(">f4", "(2, 3)", true)) + raw(std::vector<float>{1, 2, 3, 4, 5, 6}, true);
  std::mt19937 rng(1234);
  for (int round = 0; round < 20000; ++round) {
    std::string file = good;
    for (int k = 0; k < 1 + round % 4; ++k) file[rng() % file.size()] = char(rng());
    auto a = parse(file);
    if (!a) continue;
    std::size_t expected = 1;
    for (const std::size_t d : a->shape) expected *= d;
    EXPECT_EQ(a->size(), expected);
    EXPECT_LE(a->size() * a->item_size, file.size());
  }
}

// --- files -------------------------------------------------------------------------------

using testutil::TempDir;

TEST(NpyFile, ReadsAFileAndNamesThePathInErrors) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/preds.npy";
  std::ofstream(path, std::ios::binary) << preamble(dict("<i8", "(2,)")) + raw(std::vector<std::int64_t>{5, 6}, false);
  auto a = read_npy(path);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->ints, (std::vector<std::int64_t>{5, 6}));

  auto missing = read_npy(dir.path() + "/absent.npy");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, dir.path() + "/absent.npy: cannot open: No such file or directory");
  auto directory = read_npy(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().message.rfind(dir.path() + ": ", 0), 0u) << directory.error().message;

  std::ofstream(path, std::ios::binary | std::ios::trunc) << preamble(dict("<i8", "(2,)"));
  auto truncated = read_npy(path);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().message.rfind(path + ": data truncated", 0), 0u) << truncated.error().message;
}

// --- numpy itself writes the files ----------------------------------------------------------

constexpr const char* kWriter = R"PY(
import sys
import numpy as np

out = sys.argv[1]
i = np.arange(12)
floats = (i - 5.5) / 4  # exact in float16, float32 and float64
floats[3], floats[7] = np.nan, -np.inf
words = ["setosa", "versicolor", "virginica", "", "caf\u00e9", "\U0001F600 emoji",
         "a", "twelve chars", "x" * 12, "\u00fc", "\u03a9", "z"]


def save(name, arr, version=None):
    path = f"{out}/{name}.npy"
    if version is None:
        np.save(path, arr)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


def both_layouts(name, arr):
    save(name, arr.reshape(3, 4))
    save("F" + name, np.asfortranarray(arr.reshape(3, 4)))


for order, tag in (("<", "le"), (">", "be")):
    for code in ("f8", "f4", "f2"):
        both_layouts(f"{code}_{tag}", floats.astype(order + code))
    for code in ("i8", "i4", "i2", "i1"):
        arr = (i - 5).astype(order + code)
        arr[0], arr[11] = np.iinfo(code).min, np.iinfo(code).max
        both_layouts(f"{code}_{tag}", arr)
    for code in ("u8", "u4", "u2", "u1"):
        arr = i.astype(order + code)
        arr[11] = np.iinfo(code).max
        both_layouts(f"{code}_{tag}", arr)
    both_layouts(f"b1_{tag}", i % 3 == 0)
    both_layouts(f"U12_{tag}", np.array(words, dtype=order + "U12"))
    save(f"v2_{tag}", floats.astype(order + "f8"), version=(2, 0))
    save(f"v3_{tag}", floats.astype(order + "f8"), version=(3, 0))
    save(f"F3d_{tag}", np.asfortranarray(np.arange(24).reshape(2, 3, 4)).astype(order + "i4"))
save("scalar", np.float64(2.5))
save("empty", np.zeros((0, 3), dtype=">f4"))
save("object", np.array([1, "a"], dtype=object))
)PY";

class NpyNumpy : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string python = testutil::venv_python();
    if (!std::filesystem::exists(python)) GTEST_SKIP() << python << " is missing";
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(testutil::run_python(kWriter, dir_.path())) << python << " failed to write the files";
  }
  NpyArray read(const std::string& name) {
    auto a = read_npy(dir_.path() + "/" + name + ".npy");
    EXPECT_TRUE(a) << a.error().message;
    return a ? std::move(*a) : NpyArray{};
  }
  TempDir dir_;
};

void expect_float_values(const NpyArray& a, const std::string& what) {
  ASSERT_EQ(a.floats.size(), 12u) << what;
  for (std::size_t i = 0; i < 12; ++i) {
    if (i == 3) EXPECT_TRUE(std::isnan(a.floats[i])) << what;
    else if (i == 7) EXPECT_EQ(a.floats[i], -std::numeric_limits<double>::infinity()) << what;
    else EXPECT_EQ(a.floats[i], (double(i) - 5.5) / 4) << what << " " << i;
  }
}

TEST_F(NpyNumpy, FloatsBothByteOrdersBothLayouts) {
  for (const std::string tag : {"le", "be"})
    for (const std::string code : {"f8", "f4", "f2"})
      for (const std::string layout : {"", "F"}) {
        const NpyArray a = read(layout + code + "_" + tag);
        EXPECT_EQ(a.shape, (std::vector<std::size_t>{3, 4}));
        EXPECT_EQ(a.fortran_order, layout == "F");
        EXPECT_EQ(a.item_size, std::size_t(code[1] - '0'));
        EXPECT_EQ(a.byte_order, tag == "le" ? ByteOrder::kLittle : ByteOrder::kBig);
        expect_float_values(a, layout + code + "_" + tag);
      }
}

template <class T>
std::vector<std::int64_t> expected_signed() {
  std::vector<std::int64_t> v;
  for (int i = 0; i < 12; ++i) v.push_back(i - 5);
  v[0] = std::numeric_limits<T>::min(), v[11] = std::numeric_limits<T>::max();
  return v;
}

template <class T>
std::vector<std::uint64_t> expected_unsigned() {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 0; i < 12; ++i) v.push_back(i);
  v[11] = std::numeric_limits<T>::max();
  return v;
}

TEST_F(NpyNumpy, IntegersBoolsAndStrings) {
  const std::vector<std::u32string> words{U"setosa", U"versicolor", U"virginica", U"", U"caf\u00e9",
                                          U"\U0001F600 emoji", U"a", U"twelve chars", U"xxxxxxxxxxxx",
                                          U"\u00fc", U"\u03a9", U"z"};
  std::vector<std::uint8_t> bools;
  for (int i = 0; i < 12; ++i) bools.push_back(i % 3 == 0);
  for (const std::string tag : {"le", "be"})
    for (const std::string layout : {"", "F"}) {
      const std::string suffix = "_" + tag;
      EXPECT_EQ(read(layout + "i8" + suffix).ints, expected_signed<std::int64_t>());
      EXPECT_EQ(read(layout + "i4" + suffix).ints, expected_signed<std::int32_t>());
      EXPECT_EQ(read(layout + "i2" + suffix).ints, expected_signed<std::int16_t>());
      EXPECT_EQ(read(layout + "i1" + suffix).ints, expected_signed<std::int8_t>());
      EXPECT_EQ(read(layout + "u8" + suffix).uints, expected_unsigned<std::uint64_t>());
      EXPECT_EQ(read(layout + "u4" + suffix).uints, expected_unsigned<std::uint32_t>());
      EXPECT_EQ(read(layout + "u2" + suffix).uints, expected_unsigned<std::uint16_t>());
      EXPECT_EQ(read(layout + "u1" + suffix).uints, expected_unsigned<std::uint8_t>());
      EXPECT_EQ(read(layout + "b1" + suffix).bools, bools);
      EXPECT_EQ(read(layout + "U12" + suffix).strings, words);
    }
}

TEST_F(NpyNumpy, VersionsScalarsEmptyAndThreeDimensionalFortran) {
  for (const std::string tag : {"le", "be"}) {
    const NpyArray v2 = read("v2_" + tag), v3 = read("v3_" + tag);
    EXPECT_EQ(v2.version_major, 2);
    EXPECT_EQ(v3.version_major, 3);
    expect_float_values(v2, "v2_" + tag);
    expect_float_values(v3, "v3_" + tag);
    const NpyArray cube = read("F3d_" + tag);
    EXPECT_TRUE(cube.fortran_order);
    for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(cube.ints.at(i), i);
  }
  EXPECT_EQ(read("scalar").floats, std::vector<double>{2.5});
  EXPECT_TRUE(read("scalar").shape.empty());
  EXPECT_EQ(read("empty").shape, (std::vector<std::size_t>{0, 3}));
  auto object = read_npy(dir_.path() + "/object.npy");
  ASSERT_FALSE(object);
  EXPECT_NE(object.error().message.find("never unpickles"), std::string::npos) << object.error().message;
}

}  // namespace
}  // namespace crossload
