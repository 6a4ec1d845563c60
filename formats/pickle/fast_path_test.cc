// The inspector's fast path (Machine::fast_run) must give the answers of the general one: each
// of its opcodes, when it fails, fails with op_dispatch's message and offset; and its kept
// dtype descriptions are dropped when a pickle changes a dtype after an array used it.
// The expected messages are those of the inspector before the fast path existed.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

using std::string_literals::operator""s;

using testing::inspect;

struct FailingOpcode {
  const char* what;
  std::string pickle;
  const char* message;
};

TEST(PickleFastPath, EachOpcodeFailsAsOpDispatchDoes) {
  const FailingOpcode cases[] = {
      {"BINGET of a missing entry", "\x80\x04h\x05."s,
       "test.pkl: offset 2: memo value not found at index 5"},
      {"LONG_BINGET cut short", "\x80\x04j\x01\x00"s,
       "test.pkl: offset 2: truncated memo index (file ends at offset 5)"},
      {"BINPUT on an empty stack", "\x80\x04q\x00."s,
       "test.pkl: offset 2: unpickling stack underflow"},
      {"MEMOIZE on an empty stack", "\x80\x04\x94."s,
       "test.pkl: offset 2: unpickling stack underflow"},
      {"SHORT_BINUNICODE cut short", "\x80\x04\x8c\x10short"s,
       "test.pkl: offset 2: truncated string or bytes payload (16 bytes declared, 5 left) "
       "(file ends at offset 9)"},
      {"BINBYTES cut short", "\x80\x04" "B\x10\x00\x00\x00" "abc"s,
       "test.pkl: offset 2: truncated string or bytes payload (16 bytes declared, 3 left) "
       "(file ends at offset 10)"},
      {"TUPLE2 of one item", "\x80\x04K\x01\x86."s,
       "test.pkl: offset 4: unpickling stack underflow"},
      {"TUPLE without a MARK", "\x80\x04K\x01t."s, "test.pkl: offset 4: could not find MARK"},
      {"SETITEMS with a key and no value", "\x80\x04}(K\x01u."s,
       "test.pkl: offset 6: odd number of items for SETITEMS"},
      {"SETITEMS with nothing below its MARK", "\x80\x04(K\x01K\x02u."s,
       "test.pkl: offset 7: unpickling stack underflow"},
      {"APPENDS to an int", "\x80\x04K\x01(K\x02" "e."s,
       "test.pkl: offset 7: items added to an object that is not a container"},
      {"REDUCE with an int for arguments", "\x80\x04" "cbuiltins\nlen\nK\x01R."s,
       "test.pkl: offset 18: REDUCE arguments must be a tuple"},
      {"REDUCE of an int", "\x80\x04K\x01)R."s,
       "test.pkl: offset 5: calls an object that is not callable"},
      {"NEWOBJ with an int for arguments", "\x80\x04" "cbuiltins\nobject\nK\x01\x81."s,
       "test.pkl: offset 21: NEWOBJ arguments must be a tuple"},
      {"BUILD with nothing to build", "\x80\x04)b."s,
       "test.pkl: offset 3: unpickling stack underflow"},
  };
  for (const auto& c : cases) {
    auto r = inspect(c.pickle);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.error().message, c.message) << c.what;
  }
}

// Pieces of a protocol 2 pickle as numpy writes them (dtype at memo 1, fields dict at 2).
std::string bin_unicode(std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + std::string(s);
}

std::string dtype_call(std::string_view code) {
  return "cnumpy\ndtype\n" + bin_unicode(code) + "\x89\x88\x87R"s;
}

// BUILD's state: (3, order, None, None, fields, elsize, -1, 0).
std::string dtype_build(std::string_view order, const std::string& fields = "N",
                        const std::string& elsize = "J\xff\xff\xff\xff"s) {
  return "(K\x03"s + bin_unicode(order) + "NN" + fields + elsize + "J\xff\xff\xff\xffK\x00tb"s;
}

// _reconstruct(ndarray, (0,), b'b') then BUILD (1, (count,), memo[1], False, zeros).
std::string array_of_memo1(int count, int itemsize) {
  std::string data(static_cast<std::size_t>(count * itemsize), '\0');
  return "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" "C\x01" "b\x87R"s +
         "(K\x01K"s + static_cast<char>(count) + "\x85h\x01\x89" "C"s +
         static_cast<char>(data.size()) + data + "tb";
}

TEST(PickleFastPath, DtypeBuiltAgainAfterUseIsDescribedAgain) {
  std::string p = "\x80\x02("s + dtype_call("f8") + dtype_build("<") + "q\x01" +
                  array_of_memo1(2, 8) + "h\x01" + dtype_build(">") + "0" +
                  array_of_memo1(2, 8) + "t.";
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->arrays.size(), 2u);
  EXPECT_EQ(r->arrays[0].byte_order, "little");
  EXPECT_EQ(r->arrays[1].byte_order, "big");
}

TEST(PickleFastPath, FieldsChangedAfterUseAreDescribedAgain) {
  // A structured dtype with fields {'a': (<f8, 0)}; then fields['a'] = (>f8, 0) by SETITEMS.
  std::string fields = "}q\x02"s + bin_unicode("a") + dtype_call("f8") + dtype_build("<") +
                       "K\x00\x86s"s;
  std::string change = "h\x02("s + bin_unicode("a") + dtype_call("f8") + dtype_build(">") +
                       "K\x00\x86u0"s;
  std::string p = "\x80\x02("s + dtype_call("V8") + dtype_build("|", fields, "K\x08") +
                  "q\x01" + array_of_memo1(1, 8) + change + array_of_memo1(1, 8) + "t.";
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->arrays.size(), 2u);
  EXPECT_EQ(r->arrays[0].byte_order, "little");
  EXPECT_EQ(r->arrays[1].byte_order, "mixed");  // both spellings of 'a' are in the dict
}

}  // namespace
}  // namespace crossload::audit
