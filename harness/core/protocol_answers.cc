#include "harness/core/protocol_answers.h"

#include "harness/core/protocol_fields.h"

namespace crossload {

using json = nlohmann::json;

Result<ListAnswer> ListAnswer::from_json(const json& result) {
  if (!result.is_object()) return FieldReader::malformed("list", "the result is not an object");
  const json fixtures = result.value("fixtures", json::array());
  if (!fixtures.is_array()) return FieldReader::malformed("list", "'fixtures' is not a list");
  ListAnswer out;
  try {
    for (const auto& f : fixtures) {
      out.fixtures.push_back({f.value("name", ""), f.value("description", ""),
                              f.value("outputs", std::vector<std::string>{}), f.value("tags", std::vector<std::string>{}),
                              f.value("rtol", 1e-7), f.value("atol", 0.0)});
      const json recipe = f.value("recipe_sha256", json());
      out.recipes[out.fixtures.back().name] = recipe.is_string() ? recipe.get<std::string>() : "";
    }
    for (const auto& f : result.value("formats", json::array())) out.formats.push_back(f.value("name", ""));
  } catch (const json::exception& e) {
    return FieldReader::malformed("list", e.what());
  }
  out.raw = result;
  return out;
}

Result<TrainAnswer> TrainAnswer::from_json(const json& result) {
  FieldReader f("train", result);
  TrainAnswer a;
  a.inputs = f.text("inputs");
  a.train_seconds = f.number("train_seconds");
  a.cv_score = f.number_or_null("cv_score");
  a.facts = result;
  return f.verdict(std::move(a));
}

Result<DumpAnswer> DumpAnswer::from_json(const json& result) {
  FieldReader f("dump", result);
  DumpAnswer a;
  a.sha256 = f.text("sha256");
  a.size_bytes = f.integer("size_bytes");
  a.dump_seconds = f.number("dump_seconds");
  a.outputs = f.texts("outputs");
  a.format_details = f.object_or_empty("format_details");
  a.warnings = f.array_or_empty("warnings");
  return f.verdict(std::move(a));
}

json DumpAnswer::untrusted_types() const { return format_details.value("untrusted_types", json::array()); }

namespace {

void read_load(FieldReader& f, LoadAnswer& a) {
  a.load_seconds = f.number("load_seconds");
  a.predict_seconds = f.number("predict_seconds");
  a.outputs = f.texts("outputs");
  a.warnings = parse_warnings(f.array_or_empty("warnings"));
  a.invariants = f.array_or_empty("invariants");  // the native ONNX consumer judges none
  a.rss_at_fork_kb = f.number_or("rss_at_fork_kb", 0);
  a.rss_peak_kb = f.number_or("rss_peak_kb", 0);
}

}  // namespace

Result<LoadAnswer> LoadAnswer::from_json(const json& result) {
  FieldReader f("load_predict", result);
  LoadAnswer a;
  read_load(f, a);
  return f.verdict(std::move(a));
}

Result<CheckPredictAnswer> CheckPredictAnswer::from_json(const json& result) {
  FieldReader f("check_predict", result);
  CheckPredictAnswer a;
  read_load(f, a);
  a.n_features_in = f.integer_if("n_features_in");
  return f.verdict(std::move(a));
}

std::vector<CellWarning> parse_warnings(const json& list) {
  std::vector<CellWarning> out;
  if (!list.is_array()) return out;
  for (const auto& w : list) {
    if (!w.is_object()) continue;
    const json category = w.value("category", json()), message = w.value("message", json());
    const json version = w.value("original_sklearn_version", json());
    CellWarning cw{category.is_string() ? category.get<std::string>() : "",
                   message.is_string() ? message.get<std::string>() : "", std::nullopt};
    if (version.is_string()) cw.original_sklearn_version = version.get<std::string>();
    out.push_back(std::move(cw));
  }
  return out;
}

Result<ConvertInputsAnswer> ConvertInputsAnswer::from_json(const json& result) {
  FieldReader f("convert_inputs", result);
  ConvertInputsAnswer a;
  a.rows = f.integer("rows");
  a.columns = f.integer("columns");
  return f.verdict(a);
}

Result<RetrainCvAnswer> RetrainCvAnswer::from_json(const json& result) {
  FieldReader f("retrain_cv", result);
  RetrainCvAnswer a;
  a.cv_score = f.number_or_null("cv_score");
  return f.verdict(std::move(a));
}

Result<BenchTrainAnswer> BenchTrainAnswer::from_json(const json& result) {
  FieldReader f("bench/train", result);
  BenchTrainAnswer a;
  a.inputs = f.text("inputs");
  a.outputs = f.texts("outputs");
  a.rtol = f.number("rtol");
  a.atol = f.number("atol");
  return f.verdict(std::move(a));
}

Result<BenchMeasureAnswer> BenchMeasureAnswer::from_json(const json& result) {
  FieldReader f("bench/measure", result);
  BenchMeasureAnswer a;
  a.first_load_seconds = f.number("first_load_seconds");
  a.warm_load_seconds = f.numbers("warm_load_seconds");
  a.first_predict_seconds = f.numbers("first_predict_seconds");
  a.batch_seconds = f.numbers("batch_seconds");
  a.batch_rows = f.integer("batch_rows");
  return f.verdict(std::move(a));
}

Result<BenchRssAnswer> BenchRssAnswer::from_json(const json& result) {
  FieldReader f("bench/rss", result);
  BenchRssAnswer a;
  a.rss_before_kb = f.number("rss_before_kb");
  a.rss_growth_kb = f.number("rss_growth_kb");
  return f.verdict(a);
}

Result<BenchShareAnswer> BenchShareAnswer::from_json(const json& result) {
  FieldReader f("bench/share", result);
  BenchShareAnswer a;
  a.pss_before_kb = f.numbers("pss_before_kb");
  a.pss_after_kb = f.numbers("pss_after_kb");
  return f.verdict(std::move(a));
}

WorkerError WorkerError::from_json(const json& error) {
  WorkerError e;
  if (!error.is_object()) return e;
  e.raw = error;
  auto text = [&](const char* key) {
    const json v = error.value(key, json());
    return v.is_string() ? v.get<std::string>() : std::string();
  };
  auto integer = [&](const char* key) -> std::optional<int64_t> {
    const json v = error.value(key, json());
    if (v.is_number_integer()) return v.get<int64_t>();
    return std::nullopt;
  };
  e.stage = text("stage");
  e.type = text("type");
  e.message = text("message");
  e.signal = integer("signal");
  e.exit_status = integer("exit_status");
  return e;
}

WorkerError WorkerError::malformed(const Error& why) {
  return from_json({{"stage", "protocol"}, {"type", "MalformedAnswer"}, {"message", why.message}, {"traceback", ""}});
}

}  // namespace crossload
