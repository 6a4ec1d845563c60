#include "harness/check/detect.h"

#include <gtest/gtest.h>

namespace crossload::check {
namespace {

TEST(CheckDetect, ContentDecidesAndTheNameTellsWhichPicklerWroteAPickle) {
  EXPECT_EQ(*load_variant("m.bin", "auto", "pickle"), "pickle-p5");
  EXPECT_EQ(*load_variant("m.joblib", "auto", "pickle"), "joblib");
  EXPECT_EQ(*load_variant("m.cloudpkl", "auto", "pickle"), "cloudpickle");
  EXPECT_EQ(*load_variant("m.pkl", "auto", "joblib"), "joblib");
  EXPECT_EQ(*load_variant("m.zip", "auto", "skops"), "skops");
  EXPECT_EQ(*load_variant("model", "auto", "onnx"), "onnx");
}

TEST(CheckDetect, APickleIsNamedByTheProtocolReadFromItsBytes) {
  EXPECT_EQ(*load_variant("m.pkl", "auto", "pickle", 4), "pickle-p4");
  EXPECT_EQ(*load_variant("m.pkl", "auto", "pickle", 2), "pickle-p4");
  EXPECT_EQ(*load_variant("m.pkl", "auto", "pickle", 5), "pickle-p5");
  EXPECT_EQ(*load_variant("m.pkl", "pickle", "pickle", 4), "pickle-p4");
  EXPECT_EQ(*load_variant("m.onnx", "auto", "onnx", 3), "onnx");  // an ONNX IR version is no protocol
}

TEST(CheckDetect, AGivenFormatWins) {
  EXPECT_EQ(*load_variant("m.onnx", "pickle", "onnx"), "pickle-p5");
  EXPECT_EQ(*load_variant("m", "skops", ""), "skops");
}

TEST(CheckDetect, DataOrUnknownContentIsAnErrorNamingTheFile) {
  auto npy = load_variant("x.npy", "auto", "npy");
  ASSERT_FALSE(npy.ok());
  EXPECT_NE(npy.error().message.find("x.npy"), std::string::npos);
  EXPECT_NE(npy.error().message.find("not a model"), std::string::npos);
  auto unknown = load_variant("blob.dat", "auto", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("--format"), std::string::npos);
  EXPECT_EQ(*load_variant("blob.skops", "auto", ""), "skops");  // the name, when content says nothing
}

}  // namespace
}  // namespace crossload::check
