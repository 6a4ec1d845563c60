#pragma once
// The worker protocol (harness/worker/PROTOCOL.md) as types, one encoder or decoder per op, so
// run, check, bench, plan and env speak it through one place: a request struct per op with
// to_json(), and for the answers the harness reads field by field a struct with from_json() that
// returns an Error (naming the op) instead of guessing at a malformed answer. The transport (one
// JSON line out, one in, timeouts, a dead worker) is worker_client.h.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/worker_client.h"
#include "harness/util/result.h"

namespace crossload {

// ---- the ops without arguments: hello, fingerprint, list (and the env command's probes) ----

struct BareRequest {
  std::string op;
  nlohmann::json to_json() const { return {{"op", op}}; }
};
inline BareRequest hello_request() { return {"hello"}; }
inline BareRequest fingerprint_request() { return {"fingerprint"}; }
inline BareRequest list_request() { return {"list"}; }

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
  static Result<ListAnswer> from_json(const nlohmann::json& result);
};

// ---- train, dump (the producer's worker) ----

struct TrainRequest {
  std::string fixture, out_dir;
  bool cv = true;  // false: skip the five cross-validation trainings (emulated producers)
  nlohmann::json to_json() const;
};

struct DumpRequest {
  std::string fixture, format, path, inputs;
  nlohmann::json to_json() const;
};

// ---- prepare_loads, load_predict (the consumer's worker) ----

struct PrepareLoadsRequest {
  std::vector<std::string> formats;  // the matrix's format patterns
  nlohmann::json to_json() const;
};

// What one load+predict may use; the worker enforces it on the load's own child
// (PROTOCOL.md "limits", docs/isolation.md).
struct LoadLimits {
  double wall_seconds = 300;
  double cpu_seconds = 300;
  int64_t address_space_bytes = int64_t{4096} << 20;  // on top of the worker's own at fork
  int processes = 256;                                // tasks (threads count) of the load
  nlohmann::json to_json() const;
};

struct LoadPredictRequest {
  std::string format, path, inputs;
  nlohmann::json outputs;        // the manifest's list
  std::string out_prefix;
  nlohmann::json trusted_types;  // skops: exactly the types the manifest recorded
  LoadLimits limits;
  std::string isolation = "batch";
  nlohmann::json to_json() const;
};

// ---- the ops of `check` ----

struct CheckPredictRequest {
  std::string format, path, inputs, out_prefix;
  std::optional<std::vector<std::string>> outputs;  // none: every output the model serves
  LoadLimits limits;
  nlohmann::json to_json() const;
};

struct ConvertInputsRequest {
  std::string path, out, key;  // key: the .npz array, "" for the first
  nlohmann::json to_json() const;
};

struct RetrainCvRequest {
  std::string fixture;
  nlohmann::json to_json() const;
};

// ---- bench ----

// `bench` with its step ("train", "dump", "load", ...) and the step's own fields (PROTOCOL.md).
struct BenchRequest {
  std::string step;
  nlohmann::json fields = nlohmann::json::object();
  nlohmann::json to_json() const;
};

// ---- answers ----

// An answer's three shapes: a result, the worker's error object, or no answer at all.
struct Answer {
  WorkerReply reply;
  bool ok() const { return reply.ok() && reply.answer.value("ok", false); }
  const nlohmann::json& result() const;
  // The error object of an error answer (stage, type, message, ...); empty otherwise.
  nlohmann::json error() const;
  // "<what>: <why>" for a failed round trip or an error answer, for messages.
  std::string why() const;
};

template <class Request>
Answer call(WorkerClient& worker, const Request& request, std::chrono::milliseconds timeout) {
  return {worker.request(request.to_json(), timeout)};
}

// hello, then fingerprint: what every worker is asked first. An Error says which op failed, why,
// and where the worker's log is.
struct Greeting {
  nlohmann::json fingerprint;      // the `fingerprint` op's result: environment facts
  double fingerprint_seconds = 0;  // its round trip
};
Result<Greeting> greet_worker(WorkerClient& worker, std::chrono::milliseconds timeout);

}  // namespace crossload
