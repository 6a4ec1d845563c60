#include "harness/audit/render.h"

#include <gtest/gtest.h>

namespace crossload::audit {
namespace {

InspectionRecord sample() {
  InspectionRecord r;
  r.path = "m.pkl";
  r.format = "pickle";
  r.protocol = 4;
  r.add_finding(Severity::kError, Rule::kDangerousGlobal, "imports os.system (process)", 12);
  r.add_global("os.system");
  r.arrays.push_back({"f8", "little", {3, 4}, 96, 200, "pickle"});
  r.add_version("1.9.1");
  r.settle_verdict();
  return r;
}

TEST(Render, TextIsOneBlockPerFile) {
  EXPECT_EQ(render_text({sample()}),
            "m.pkl: UNSAFE (pickle, protocol 4)\n"
            "  error   CL100 dangerous-global     offset 12: imports os.system (process)\n"
            "  globals:  os.system\n"
            "  array:    f8 little (3, 4) 96 bytes at offset 200 (pickle)\n"
            "  sklearn:  1.9.1\n");
}

TEST(Render, JsonFollowsTheRecordContract) {
  auto j = nlohmann::json::parse(render_json({sample()}));
  ASSERT_TRUE(j.is_array());
  const auto& r = j[0];
  EXPECT_EQ(r["path"], "m.pkl");
  EXPECT_EQ(r["format"], "pickle");
  EXPECT_EQ(r["protocol"], 4);
  EXPECT_EQ(r["verdict"], "UNSAFE");
  EXPECT_EQ(r["findings"][0]["severity"], "error");
  EXPECT_EQ(r["findings"][0]["offset"], 12);
  EXPECT_EQ(r["globals"][0], "os.system");
  EXPECT_EQ(r["arrays"][0]["shape"], nlohmann::json({3, 4}));
  EXPECT_EQ(r["arrays"][0]["byte_order"], "little");
  EXPECT_EQ(r["versions"][0], "1.9.1");
  EXPECT_TRUE(r["compression"].is_null());
}

TEST(Render, JsonSurvivesInvalidUtf8) {
  InspectionRecord r = sample();
  r.add_global("mod\xff.name");
  EXPECT_NO_THROW(render_json({r}));
}

// render_json writes the text itself (for speed); it must be what the nlohmann tree gives.
TEST(Render, JsonTextIsExactlyTheRecordTreeDumped) {
  InspectionRecord odd;
  odd.path = "dir/\"quoted\"\\ \t\x01 caf\xc3\xa9 \xff\xfe bad";
  odd.format = "onnx";
  odd.compression = "lz4";
  odd.add_finding(Severity::kWarning, Rule::kCustomOperator, "line\nbreak \x7f and \xe2\x82", 0);
  odd.add_global("mod\xff.name");
  odd.arrays.push_back({"V64", "mixed", {}, 0, 7, "onnx:w"});
  odd.opsets.push_back({"", 17});
  odd.opsets.push_back({"ai.onnx.ml", -1});
  odd.operators.push_back({"com.microsoft", "PythonOp", 3});
  odd.external_data = {"../x.bin"};
  odd.settle_verdict();
  InspectionRecord empty;
  std::vector<InspectionRecord> records{sample(), odd, empty};
  nlohmann::json tree = nlohmann::json::array();
  for (const auto& r : records) tree.push_back(record_to_json(r));
  EXPECT_EQ(render_json(records), tree.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  EXPECT_EQ(render_json({}), "[]\n");
}

TEST(Render, SarifHasRulesResultsAndNotifications) {
  auto s = nlohmann::json::parse(render_sarif({sample()}, {{"bad.pkl", "bad.pkl: offset 3: x"}}));
  EXPECT_EQ(s["version"], "2.1.0");
  const auto& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "crossload");
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), all_rules().size());
  const auto& result = run["results"][0];
  EXPECT_EQ(result["ruleId"], "CL100");
  EXPECT_EQ(result["level"], "error");
  EXPECT_EQ(run["tool"]["driver"]["rules"][result["ruleIndex"].get<int>()]["id"], "CL100");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["region"]["byteOffset"], 12);
  EXPECT_EQ(run["invocations"][0]["executionSuccessful"], false);
  EXPECT_EQ(run["invocations"][0]["toolExecutionNotifications"].size(), 1u);
}

TEST(Render, RuleTableMatchesTheEnum) {
  for (std::size_t i = 0; i < all_rules().size(); ++i)
    EXPECT_EQ(static_cast<std::size_t>(all_rules()[i].rule), i);
}

}  // namespace
}  // namespace crossload::audit
