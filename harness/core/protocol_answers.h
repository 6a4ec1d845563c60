#pragma once
// The worker's answers as types (harness/worker/PROTOCOL.md), each decoded here and nowhere else:
// a struct per op with from_json(result) -> Result<...>, whose Error names the op and the field
// that is missing or of the wrong type. A field the protocol marks optional (or that one worker,
// the native ONNX consumer, leaves out) has its default; a required one has none.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

// ---- list ----

struct FixtureInfo {
  std::string name, description;
  std::vector<std::string> outputs, tags;
  double rtol = 1e-7, atol = 0;
};

struct ListAnswer {
  std::vector<FixtureInfo> fixtures;
  std::map<std::string, std::string> recipes;  // fixture -> recipe_sha256, "" when the worker could not hash it
  std::vector<std::string> formats;            // format names
  nlohmann::json raw;                          // the whole result: incremental runs keep it (known_envs.h)
  static Result<ListAnswer> from_json(const nlohmann::json& result);
};

// ---- train, dump (the producer's worker) ----

struct TrainAnswer {
  std::string inputs;             // <out_dir>/inputs.npy
  double train_seconds = 0;
  nlohmann::json cv_score;        // a number, or null where the model has no score or cv was off
  nlohmann::json facts;           // the whole result: the manifest records it as "training"
  static Result<TrainAnswer> from_json(const nlohmann::json& result);
};

struct DumpAnswer {
  std::string sha256;
  int64_t size_bytes = 0;
  double dump_seconds = 0;
  std::vector<std::string> outputs;                         // the reference predictions written
  nlohmann::json format_details = nlohmann::json::object(); // recorded as the worker gave it
  nlohmann::json warnings = nlohmann::json::array();        // the dump's own, recorded in the manifest
  // skops: the types the file names that the format does not trust by default; [] otherwise.
  nlohmann::json untrusted_types() const;
  static Result<DumpAnswer> from_json(const nlohmann::json& result);
};

// ---- load_predict, check_predict (the consumer's worker) ----

struct LoadAnswer {
  double load_seconds = 0, predict_seconds = 0;
  std::vector<std::string> outputs;                     // written
  std::vector<CellWarning> warnings;
  nlohmann::json invariants = nlohmann::json::array();  // broken output invariants (harness/core/invariants.h)
  double rss_at_fork_kb = 0, rss_peak_kb = 0;
  static Result<LoadAnswer> from_json(const nlohmann::json& result);
};

// check_predict answers as load_predict does, plus the model's width.
struct CheckPredictAnswer : LoadAnswer {
  std::optional<int64_t> n_features_in;  // none: the model does not say
  static Result<CheckPredictAnswer> from_json(const nlohmann::json& result);
};

// The warnings of an answer, result or error: [{"category", "message", "original_sklearn_version"?}].
// Lenient (an error answer's warnings are evidence, not a contract): what is not a warning is skipped.
std::vector<CellWarning> parse_warnings(const nlohmann::json& list);

// ---- the ops of `check` and of recipes ----

struct ConvertInputsAnswer {
  int64_t rows = 0, columns = 0;
  static Result<ConvertInputsAnswer> from_json(const nlohmann::json& result);
};

struct RetrainCvAnswer {
  nlohmann::json cv_score;  // a number, or null where the model has no score
  static Result<RetrainCvAnswer> from_json(const nlohmann::json& result);
};

// ---- bench, by step ----

struct BenchTrainAnswer {
  std::string inputs;
  std::vector<std::string> outputs;
  double rtol = 0, atol = 0;
  static Result<BenchTrainAnswer> from_json(const nlohmann::json& result);
};

struct BenchMeasureAnswer {
  double first_load_seconds = 0;
  std::vector<double> warm_load_seconds, first_predict_seconds, batch_seconds;
  int64_t batch_rows = 0;
  static Result<BenchMeasureAnswer> from_json(const nlohmann::json& result);
};

struct BenchRssAnswer {
  double rss_before_kb = 0, rss_growth_kb = 0;
  static Result<BenchRssAnswer> from_json(const nlohmann::json& result);
};

struct BenchShareAnswer {
  std::vector<double> pss_before_kb, pss_after_kb;  // one per process
  static Result<BenchShareAnswer> from_json(const nlohmann::json& result);
};

// ---- an error answer, of any op ----

struct WorkerError {
  std::string stage, type, message;  // "" when the worker left one out
  std::optional<int64_t> signal, exit_status;
  nlohmann::json raw = nlohmann::json::object();  // the whole object: the records keep more of it
  static WorkerError from_json(const nlohmann::json& error);
  // A result that did not decode: stage "protocol", type "MalformedAnswer", the decoder's message.
  static WorkerError malformed(const Error& why);
  bool is_malformed_answer() const { return type == "MalformedAnswer" && stage == "protocol"; }
};

}  // namespace crossload
