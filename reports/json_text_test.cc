#include "reports/json_text.h"

#include <gtest/gtest.h>

#include "harness/store/random_json.h"

namespace crossload {
namespace {

using nlohmann::json;

// What JsonText writes for `v` at `indent`, or "THROWS" when it throws.
std::string ours(const json& v, unsigned indent) {
  std::string out;
  JsonText text(out);
  try {
    text.value(v, indent);
  } catch (const json::exception&) {
    return "THROWS";
  }
  return out;
}

// What nlohmann's serializer writes for `v` nested at `indent` (dump(2) of the whole document).
std::string theirs(const json& v, unsigned indent) {
  std::string out;
  nlohmann::detail::serializer<json> dump(nlohmann::detail::output_adapter<char, std::string>(out), ' ');
  try {
    dump.dump(v, true, false, 2, indent);
  } catch (const json::exception&) {
    return "THROWS";
  }
  return out;
}

TEST(JsonText, WritesEveryByteAsNlohmannDoes) {
  for (int b = 0; b < 256; ++b) {
    json v = std::string("a") + static_cast<char>(b) + "z";
    EXPECT_EQ(ours(v, 0), theirs(v, 0)) << "byte " << b;
  }
}

TEST(JsonText, KeepsValidUtf8AndLeavesInvalidUtf8ToNlohmann) {
  for (const char* s : {"µs → ok", "\xF0\x9F\x98\x80", "\x7F", "cut \xC3", "\xC0\xAF", "\xED\xA0\x80", "\xEF\xBF\xBF",
                        "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "ok\xE2\x82"}) {
    EXPECT_EQ(ours(json(s), 0), theirs(json(s), 0)) << s;
  }
  EXPECT_EQ(ours(json("cut \xC3"), 0), "THROWS");  // nlohmann's strict handler, as before
}

TEST(JsonText, LaysOutNestedValuesAsDumpTwoAtAnyIndent) {
  json v = json::parse(R"({"b":[1,2.5,-0.0,1e-08,true,null,[],{}],"a":{"x":"y\n","e":[]},"n":18446744073709551615,
                          "f":1.0658141036401503e-14,"s":"tab\there","k\"ey":{"inner":[{"z":1}]}})");
  for (unsigned indent : {0u, 2u, 6u}) EXPECT_EQ(ours(v, indent), theirs(v, indent)) << indent;
  EXPECT_EQ(ours(json::object(), 4), "{}");
  EXPECT_EQ(ours(json::array(), 4), "[]");
}

TEST(JsonText, AgreesWithNlohmannOnRandomDocuments) {
  testing::RandomJson random(7);
  for (int i = 0; i < 500; ++i) {
    json v = random.document();
    ASSERT_EQ(ours(v, 4), theirs(v, 4)) << v.dump();
  }
}

}  // namespace
}  // namespace crossload
