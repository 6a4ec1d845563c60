#include "harness/core/protocol.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace crossload {
namespace {

using json = nlohmann::json;

Answer answer_of(json whole) {
  WorkerReply r;
  r.answer = std::move(whole);
  r.seconds = 0.5;
  return {r};
}

Answer result_of(const json& result) { return answer_of({{"id", 1}, {"ok", true}, {"result", result}}); }

// Each decoder on its good answer, with a required field taken out, with it of the wrong type,
// on the worker's error answer and on no answer at all.
template <class R>
void check_decoder(const char* op, const json& good, const char* required, const json& wrong) {
  SCOPED_TRACE(op);
  auto ok = decode<R>(result_of(good));
  ASSERT_TRUE(ok.result.has_value()) << ok.why();
  EXPECT_FALSE(ok.error.has_value());
  EXPECT_EQ(ok.seconds, 0.5);

  json missing = good;
  missing.erase(required);
  auto m = decode<R>(result_of(missing));
  ASSERT_TRUE(m.error.has_value());
  EXPECT_FALSE(m.result.has_value());
  EXPECT_EQ(m.error->stage, "protocol");
  EXPECT_EQ(m.error->type, "MalformedAnswer");
  EXPECT_EQ(m.error->message, fmt::format("the worker's '{}' answer is malformed: '{}' is missing "
                                          "(harness/worker/PROTOCOL.md)", op, required));

  json bad = good;
  bad[required] = wrong;
  auto w = decode<R>(result_of(bad));
  ASSERT_TRUE(w.error.has_value());
  EXPECT_NE(w.error->message.find(fmt::format("'{}' answer is malformed: '{}' is not ", op, required)),
            std::string::npos) << w.error->message;

  auto e = decode<R>(answer_of({{"id", 1}, {"ok", false},
                                {"error", {{"stage", "crash"}, {"type", "Signal"}, {"message", "killed"}, {"signal", 11}}}}));
  ASSERT_TRUE(e.error.has_value());
  EXPECT_FALSE(e.result.has_value());
  EXPECT_EQ(e.error->stage, "crash");
  EXPECT_EQ(e.error->type, "Signal");
  EXPECT_EQ(e.error->message, "killed");
  EXPECT_EQ(e.error->signal, 11);
  EXPECT_EQ(e.error->raw["signal"], 11);

  WorkerReply dead;
  dead.failure = {WorkerFailure::Kind::kDied, 9, -1, "the worker of env x died"};
  auto d = decode<R>(Answer{dead});
  EXPECT_FALSE(d.answered());
  EXPECT_FALSE(d.error.has_value());
  EXPECT_EQ(d.why(), "the worker of env x died");
}

const json kLoad = {{"load_seconds", 0.25}, {"predict_seconds", 0.125}, {"outputs", {"predict", "predict_proba"}},
                    {"warnings", json::array({{{"category", "InconsistentVersionWarning"}, {"message", "m"},
                                               {"original_sklearn_version", "1.5.2"}},
                                              {{"category", "UserWarning"}, {"message", "u"}, {"count", 2}}})},
                    {"invariants", json::array({{{"name", "proba_sum"}, {"message", "rows do not sum to 1"}}})},
                    {"rss_at_fork_kb", 1000}, {"rss_peak_kb", 2000}};

TEST(ProtocolAnswers, Train) {
  json good = {{"inputs", "/a/inputs.npy"}, {"train_seconds", 1.5}, {"cv_score", nullptr}, {"cv_std", nullptr},
               {"n_features", 4}, {"data_sha256", "d"}, {"recipe_sha256", "r"}};
  check_decoder<TrainAnswer>("train", good, "inputs", 3);
  check_decoder<TrainAnswer>("train", good, "train_seconds", "fast");
  check_decoder<TrainAnswer>("train", good, "cv_score", "high");
  auto t = decode<TrainAnswer>(result_of(good));
  EXPECT_EQ(t.result->inputs, "/a/inputs.npy");
  EXPECT_TRUE(t.result->cv_score.is_null());
  EXPECT_EQ(t.result->facts, good);  // recorded whole in the manifest
}

TEST(ProtocolAnswers, Dump) {
  json good = {{"sha256", "ab"}, {"size_bytes", 1234}, {"dump_seconds", 0.01}, {"outputs", {"predict"}},
               {"format_details", {{"untrusted_types", {"numpy.dtype"}}}}, {"warnings", json::array()}};
  check_decoder<DumpAnswer>("dump", good, "sha256", nullptr);
  check_decoder<DumpAnswer>("dump", good, "size_bytes", 12.5);
  check_decoder<DumpAnswer>("dump", good, "outputs", json::array({1}));
  auto d = decode<DumpAnswer>(result_of(good));
  EXPECT_EQ(d.result->size_bytes, 1234);
  EXPECT_EQ(d.result->untrusted_types(), json::array({"numpy.dtype"}));
  good.erase("format_details");
  EXPECT_EQ(decode<DumpAnswer>(result_of(good)).result->untrusted_types(), json::array());
  good["format_details"] = "zlib";
  EXPECT_NE(decode<DumpAnswer>(result_of(good)).why().find("'format_details' is not an object"), std::string::npos);
}

TEST(ProtocolAnswers, LoadPredict) {
  check_decoder<LoadAnswer>("load_predict", kLoad, "load_seconds", "0.2");
  check_decoder<LoadAnswer>("load_predict", kLoad, "outputs", "predict");
  auto l = decode<LoadAnswer>(result_of(kLoad));
  EXPECT_EQ(l.result->outputs, (std::vector<std::string>{"predict", "predict_proba"}));
  ASSERT_EQ(l.result->warnings.size(), 2u);
  EXPECT_EQ(l.result->warnings[0], (CellWarning{"InconsistentVersionWarning", "m", "1.5.2"}));
  EXPECT_EQ(l.result->warnings[1], (CellWarning{"UserWarning", "u", std::nullopt}));
  EXPECT_EQ(l.result->invariants[0]["name"], "proba_sum");
  EXPECT_EQ(l.result->rss_peak_kb, 2000);
}

TEST(ProtocolAnswers, LoadPredictOfTheNativeConsumerHasNoInvariantsNorRss) {
  json native = {{"load_seconds", 0.25}, {"predict_seconds", 0.125}, {"outputs", {"predict"}}, {"warnings", json::array()}};
  auto l = decode<LoadAnswer>(result_of(native));
  ASSERT_TRUE(l.result.has_value()) << l.why();
  EXPECT_EQ(l.result->invariants, json::array());
  EXPECT_EQ(l.result->rss_at_fork_kb, 0);
}

TEST(ProtocolAnswers, CheckPredict) {
  json good = kLoad;
  good["n_features_in"] = 4;
  check_decoder<CheckPredictAnswer>("check_predict", good, "predict_seconds", json::array());
  check_decoder<CheckPredictAnswer>("check_predict", good, "outputs", json::object());
  EXPECT_EQ(decode<CheckPredictAnswer>(result_of(good)).result->n_features_in, 4);
  good["n_features_in"] = nullptr;
  EXPECT_FALSE(decode<CheckPredictAnswer>(result_of(good)).result->n_features_in.has_value());
  good["n_features_in"] = "four";
  EXPECT_NE(decode<CheckPredictAnswer>(result_of(good)).why().find("'n_features_in' is not an integer"),
            std::string::npos);
}

TEST(ProtocolAnswers, ConvertInputsAndRetrainCv) {
  check_decoder<ConvertInputsAnswer>("convert_inputs", {{"rows", 10}, {"columns", 3}}, "columns", 3.5);
  json retrain = {{"cv_score", 0.95}, {"cv_std", 0.01}, {"train_seconds", 2.0}};
  check_decoder<RetrainCvAnswer>("retrain_cv", retrain, "cv_score", "0.95");
  EXPECT_EQ(decode<RetrainCvAnswer>(result_of(retrain)).result->cv_score, 0.95);
}

TEST(ProtocolAnswers, BenchSteps) {
  check_decoder<BenchTrainAnswer>("bench/train",
                                  {{"inputs", "i.npy"}, {"train_seconds", 1.0}, {"outputs", {"predict"}},
                                   {"rtol", 1e-7}, {"atol", 0}},
                                  "rtol", nullptr);
  json measure = {{"first_load_seconds", 0.5}, {"warm_load_seconds", {0.1, 0.2}}, {"first_predict_seconds", {0.01}},
                  {"batch_seconds", {0.02, 0.03}}, {"batch_rows", 1000}, {"outputs", {"predict"}}};
  check_decoder<BenchMeasureAnswer>("bench/measure", measure, "warm_load_seconds", json::array({0.1, "x"}));
  check_decoder<BenchMeasureAnswer>("bench/measure", measure, "batch_rows", 1000.5);
  EXPECT_EQ(decode<BenchMeasureAnswer>(result_of(measure)).result->batch_seconds, (std::vector<double>{0.02, 0.03}));
  check_decoder<BenchRssAnswer>("bench/rss", {{"rss_before_kb", 100}, {"rss_growth_kb", 50}}, "rss_growth_kb", "50");
  check_decoder<BenchShareAnswer>("bench/share", {{"processes", 2}, {"pss_before_kb", {1, 2}}, {"pss_after_kb", {3, 4}}},
                                  "pss_after_kb", 7);
}

TEST(ProtocolAnswers, AResultThatIsNoObjectIsMalformed) {
  auto d = decode<DumpAnswer>(result_of(json::array()));
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->message,
            "the worker's 'dump' answer is malformed: the result is not an object (harness/worker/PROTOCOL.md)");
}

TEST(ProtocolAnswers, AnErrorAnswerWithoutAnErrorObjectIsAnEmptyError) {
  auto d = decode<LoadAnswer>(answer_of({{"id", 1}, {"ok", false}}));
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->stage, "");
  EXPECT_EQ(d.error->raw, json::object());
}

TEST(ProtocolAnswers, ParseWarningsSkipsWhatIsNoWarning) {
  auto w = parse_warnings(json::array({1, {{"category", "C"}, {"message", 2}}}));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (CellWarning{"C", "", std::nullopt}));
  EXPECT_TRUE(parse_warnings(json("no list")).empty());
}

}  // namespace
}  // namespace crossload
