#include "harness/store/json_reader.h"

#include <gtest/gtest.h>

#include "harness/store/random_json.h"

namespace crossload {
namespace {

using nlohmann::json;

// The same value with the same types throughout (nlohmann's == calls 1 and 1u and 1.0 equal).
void expect_same(const json& ours, const json& theirs, const std::string& text) {
  ASSERT_EQ(ours.type(), theirs.type()) << text;
  ASSERT_EQ(ours.dump(), theirs.dump()) << text;
  if (ours.is_structured())
    for (auto a = ours.begin(), b = theirs.begin(); a != ours.end(); ++a, ++b) expect_same(*a, *b, text);
}

void expect_as_nlohmann(JsonReader& reader, const std::string& text) {
  expect_same(reader.parse(text), json::parse(text, nullptr, false), text);
}

TEST(JsonReader, ReadsValuesWithNlohmannsTypes) {
  JsonReader reader;
  for (const char* text : {R"({"b":[1,-2,2.5,1e-08,true,false,null,[],{}],"a":{"x":"y\n\u00e9\u0000"}})", "0", "-0", "-0.0", "[0,-0]", "[-0.5,1e-08,0]", "{\"-0\":0}",
                           "9223372036854775807", "9223372036854775808", "18446744073709551615", "-9223372036854775808",
                           "18446744073709551616", "-9223372036854775809", "1e400", "1E2", "1.0", "\"\\ud83d\\ude00\"",
                           R"({"k":1,"k":2})", "\xEF\xBB\xBF{\"bom\":1}", "  [ 1 , 2 ]  "})
    expect_as_nlohmann(reader, text);
}

TEST(JsonReader, RefusesWhatNlohmannRefuses) {
  JsonReader reader;
  for (const char* text : {"", "[1,2", "{\"a\":}", "1 2", "nul", "\"cut \xC3\"", "\"\\ud800\"", "{'a':1}", "[1,]"}) {
    EXPECT_TRUE(reader.parse(text).is_discarded()) << text;
    EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;
  }
}

TEST(JsonReader, ReadsNestingDeeperThanSimdjsonAllows) {
  JsonReader reader;
  std::string deep = std::string(3000, '[') + std::string(3000, ']');
  expect_as_nlohmann(reader, deep);
}

TEST(JsonReader, AgreesWithNlohmannOnRandomDocuments) {
  testing::RandomJson random(11);
  JsonReader reader;
  for (int i = 0; i < 500; ++i) {
    std::string doc = random.document().dump(i % 2 ? -1 : 2);
    expect_as_nlohmann(reader, doc);
  }
}

}  // namespace
}  // namespace crossload
