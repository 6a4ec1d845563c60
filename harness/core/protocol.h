#pragma once
// The worker protocol (harness/worker/PROTOCOL.md) as types, one encoder or decoder per op, so
// run, check, bench, plan and env speak it through one place: a request struct per op with
// to_json() and the type of its answer (ResultType, protocol_answers.h), and ask(), which sends
// one and hands back the answer decoded: the result, the worker's error, or no answer at all.
// No other file reads an answer's fields. The transport (one JSON line out, one in, timeouts, a
// dead worker) is worker_client.h.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/protocol_answers.h"
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

// `list` has an answer the harness reads (ListAnswer).
struct ListRequest {
  using ResultType = ListAnswer;
  nlohmann::json to_json() const { return {{"op", "list"}}; }
};
inline ListRequest list_request() { return {}; }

// ---- train, dump (the producer's worker) ----

struct TrainRequest {
  std::string fixture, out_dir;
  bool cv = true;  // false: skip the five cross-validation trainings (emulated producers)
  using ResultType = TrainAnswer;
  nlohmann::json to_json() const;
};

struct DumpRequest {
  std::string fixture, format, path, inputs;
  using ResultType = DumpAnswer;
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
  using ResultType = LoadAnswer;
  nlohmann::json to_json() const;
};

// ---- the ops of `check` ----

struct CheckPredictRequest {
  std::string format, path, inputs, out_prefix;
  std::optional<std::vector<std::string>> outputs;  // none: every output the model serves
  LoadLimits limits;
  using ResultType = CheckPredictAnswer;
  nlohmann::json to_json() const;
};

struct ConvertInputsRequest {
  std::string path, out, key;  // key: the .npz array, "" for the first
  using ResultType = ConvertInputsAnswer;
  nlohmann::json to_json() const;
};

struct RetrainCvRequest {
  std::string fixture;
  using ResultType = RetrainCvAnswer;
  nlohmann::json to_json() const;
};

// ---- bench ----

// `bench` with its step ("train", "dump", "measure", ...) and the step's own fields (PROTOCOL.md);
// its answer's type is the step's: Bench<Step>Answer, or DumpAnswer for "dump".
struct BenchRequest {
  std::string step;
  nlohmann::json fields = nlohmann::json::object();
  nlohmann::json to_json() const;
};

// ---- answers ----

// An answer's three shapes, undecoded: a result, the worker's error object, or no answer at all.
// Only the decoders below (and greet_worker) open it.
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

// An answer decoded: exactly one of `failure` (no answer: the worker died or timed out),
// `error` (the worker's error answer, or a result that did not decode, as stage "protocol" naming
// the op and the field) and `result` is set.
template <class R>
struct Decoded {
  std::optional<WorkerFailure> failure;
  std::optional<WorkerError> error;
  std::optional<R> result;
  double seconds = 0;  // the round trip, as the harness saw it
  bool answered() const { return !failure.has_value(); }
  // "<what>: <why>" for no answer or an error answer, for messages.
  std::string why() const { return failure ? failure->message : error ? error->message : std::string(); }
};

template <class R>
Decoded<R> decode(const Answer& a) {
  Decoded<R> d;
  d.seconds = a.reply.seconds;
  if (!a.reply.ok()) {
    d.failure = a.reply.failure;
  } else if (!a.ok()) {
    d.error = WorkerError::from_json(a.error());
  } else if (auto r = R::from_json(a.result())) {
    d.result = std::move(*r);
  } else {
    d.error = WorkerError::malformed(r.error());
  }
  return d;
}

// Sends `request` and decodes its answer as the op's (Request::ResultType), or as R for an op
// whose answer depends on its arguments (bench's steps).
template <class Request>
Decoded<typename Request::ResultType> ask(WorkerClient& worker, const Request& request,
                                          std::chrono::milliseconds timeout) {
  return decode<typename Request::ResultType>(call(worker, request, timeout));
}
template <class R, class Request>
Decoded<R> ask_as(WorkerClient& worker, const Request& request, std::chrono::milliseconds timeout) {
  return decode<R>(call(worker, request, timeout));
}

// hello, then fingerprint: what every worker is asked first. An Error says which op failed, why,
// and where the worker's log is.
struct Greeting {
  nlohmann::json fingerprint;      // the `fingerprint` op's result: environment facts
  double fingerprint_seconds = 0;  // its round trip
};
Result<Greeting> greet_worker(WorkerClient& worker, std::chrono::milliseconds timeout);

}  // namespace crossload
