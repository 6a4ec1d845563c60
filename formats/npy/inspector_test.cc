#include "formats/npy/inspector.h"

#include <gtest/gtest.h>

#include "harness/audit/inspect.h"

namespace crossload::audit {
namespace {

using std::string_literals::operator""s;

std::string npy(std::string header, std::size_t data_bytes) {
  header += std::string(64 - (10 + header.size()) % 64, ' ');
  header.back() = '\n';
  std::string out = "\x93NUMPY\x01\x00"s;
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + std::string(data_bytes, '\0');
}

Result<InspectionRecord> inspect(const std::string& bytes) {
  Policy policy;
  return inspect_bytes(bytes, "a.npy", policy);
}

TEST(NpyInspector, HeaderGivesDtypeByteOrderShapeAndBytes) {
  auto r = inspect(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }", 48));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, "npy");
  EXPECT_EQ(r->protocol, 1);
  ASSERT_EQ(r->arrays.size(), 1u);
  EXPECT_EQ(r->arrays[0].dtype, "f4");
  EXPECT_EQ(r->arrays[0].byte_order, "big");
  EXPECT_EQ(r->arrays[0].shape, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(r->arrays[0].bytes, 48u);
  EXPECT_EQ(r->verdict, Verdict::kSafe);
}

TEST(NpyInspector, StructuredDtypeIsSizedFromItsFields) {
  auto r = inspect(npy("{'descr': [('a', '<i8'), ('b', '<f4', (2,))], 'fortran_order': False, "
                       "'shape': (5,), }",
                       80));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->arrays[0].dtype, "V16");
  EXPECT_EQ(r->arrays[0].byte_order, "little");
}

TEST(NpyInspector, TruncatedDataIsAnErrorWithOffset) {
  auto r = inspect(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }", 10));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("a.npy: offset 128"), std::string::npos) << r.error().message;
}

TEST(NpyInspector, HugeShapeDoesNotAllocate) {
  auto r = inspect(npy("{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (4611686018427387903, 4611686018427387903), }",
                       0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("2^64"), std::string::npos) << r.error().message;
}

TEST(NpyInspector, MalformedHeaderIsAnError) {
  auto r = inspect(npy("{'descr': '<f8', 'shape': (3,", 0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset 10"), std::string::npos) << r.error().message;
}

TEST(NpyInspector, ObjectArrayPayloadIsScannedAsAPickle) {
  std::string bytes = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 0);
  bytes += "cos\nsystem\n(S'id'\ntR.";
  auto r = inspect(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_EQ(r->findings.back().offset, 128u);  // the offset is in the file
}

}  // namespace
}  // namespace crossload::audit
