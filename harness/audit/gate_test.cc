#include "harness/audit/gate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace crossload::audit {
namespace {

using json = nlohmann::json;
using std::string_literals::operator""s;
namespace fs = std::filesystem;

fs::path temp_dir() { return fs::temp_directory_path() / ("crossload-gate-test-" + std::to_string(::getpid())); }

std::string write_temp(const std::string& name, const std::string& bytes) {
  fs::create_directories(temp_dir());
  fs::path p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

class AuditGate : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(temp_dir()); }
};

json audit_of(const std::string& name, const std::string& bytes, const ManifestBounds& b = {}) {
  return audit_for_manifest(write_temp(name, bytes), Policy(), b);
}

TEST_F(AuditGate, UnsafePickleIsRefusedWithItsReasonAndOffset) {
  // A harmless int first, so the dangerous global is not at offset 0.
  json a = audit_of("unsafe.pkl", "\x80\x02K\x01" "0" "cos\nsystem\n(S'true'\ntR."s);
  EXPECT_EQ(a["verdict"], "UNSAFE");
  EXPECT_EQ(a["format"], "pickle");
  auto r = refusal(a);
  ASSERT_TRUE(r);
  EXPECT_NE(r->reason.find("os.system"), std::string::npos) << r->reason;
  EXPECT_EQ(r->rule, "CL100");
  EXPECT_TRUE(r->has_offset);
  EXPECT_EQ(r->offset, 5u);
}

TEST_F(AuditGate, SafeAndUntrustedLoad) {
  json safe = audit_of("safe.pkl", "\x80\x04K\x01."s);
  EXPECT_EQ(safe["verdict"], "SAFE");
  EXPECT_FALSE(refusal(safe));
  json untrusted = audit_of("untrusted.pkl", "\x80\x02" "cmymodule\nMyModel\n)R."s);
  EXPECT_EQ(untrusted["verdict"], "UNTRUSTED");
  EXPECT_FALSE(refusal(untrusted));
}

TEST_F(AuditGate, AnUnparseableFileIsRecordedAndRefused) {
  json a = audit_of("garbage.pkl", "this is no model");
  EXPECT_EQ(a["verdict"], "UNSAFE");
  ASSERT_TRUE(a.contains("error"));
  EXPECT_NE(a["error"].get<std::string>().find("garbage.pkl"), std::string::npos) << a["error"];
  auto r = refusal(a);
  ASSERT_TRUE(r);
  EXPECT_NE(r->reason.find("could not parse"), std::string::npos) << r->reason;
  EXPECT_TRUE(r->has_offset);
}

TEST_F(AuditGate, ATruncatedPickleSaysWhere) {
  auto r = refusal(audit_of("truncated.pkl", "\x80\x04\x8c\x10" "abc"s));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_offset) << r->reason;
  EXPECT_NE(r->reason.find("truncated.pkl"), std::string::npos) << r->reason;
}

TEST_F(AuditGate, MissingOrMalformedRecordIsNeverSafe) {
  EXPECT_TRUE(refusal(json()));
  EXPECT_TRUE(refusal(json::object()));
  EXPECT_TRUE(refusal(json{{"verdict", 3}}));
  EXPECT_TRUE(refusal(json{{"verdict", "MAYBE"}}));
}

TEST_F(AuditGate, ABigRecordIsTrimmedButKeepsTheReasonToRefuse) {
  std::string p = "\x80\x02"s;
  for (int i = 0; i < 300; ++i) p += "cmod" + std::to_string(i) + "\nf\n0";  // 300 untrusted globals
  p += "cos\nsystem\n0N.";
  ManifestBounds b;
  json a = audit_of("many.pkl", p, b);
  EXPECT_EQ(a["verdict"], "UNSAFE");
  EXPECT_EQ(a["findings"].size(), b.findings);
  EXPECT_EQ(a["findings"][0]["severity"], "error");
  EXPECT_EQ(a["globals"].size(), b.globals);
  EXPECT_EQ(a["omitted"]["globals"], 301 - b.globals);
  EXPECT_GT(a["omitted"]["findings"].get<int>(), 0);
  auto r = refusal(a);
  ASSERT_TRUE(r);
  EXPECT_NE(r->reason.find("os.system"), std::string::npos);
}

TEST_F(AuditGate, NamesThatAreNotUtf8StayValidJson) {
  json a = audit_of("bytes.pkl", "\x80\x02" "cos\nsys\xfftem\n0N."s);
  EXPECT_NO_THROW((void)a.dump());
  EXPECT_NE(a["verdict"], "SAFE");
}

}  // namespace
}  // namespace crossload::audit
