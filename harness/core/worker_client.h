#pragma once
// The harness side of the worker protocol (harness/worker/PROTOCOL.md): one long-lived
// Python worker per environment, spoken to in JSON lines over a pair of pipes.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/env/provider.h"
#include "harness/util/result.h"

namespace crossload {

// Why a request got no answer: the cell outcome follows from it (TIMEOUT, CRASH).
struct WorkerFailure {
  enum class Kind { kNone, kTimeout, kDied, kProtocol, kInterrupted };  // kInterrupted: SIGINT/SIGTERM
  Kind kind = Kind::kNone;
  int signal = 0;      // when kDied by a signal
  int exit_status = -1;
  std::string message; // names the environment and what happened
};

struct WorkerReply {
  nlohmann::json answer;   // the whole answer object when failure.kind == kNone
  WorkerFailure failure;
  double seconds = 0;      // wall time of the round trip, as the harness saw it
  bool ok() const { return failure.kind == WorkerFailure::Kind::kNone; }
};

class WorkerClient {
 public:
  // Starts `<launch.python...> <source_root>/harness/worker/worker.py --root <source_root>`;
  // the worker's stderr goes to log_path.
  static Result<std::unique_ptr<WorkerClient>> start(const std::string& env_name, const Launch& launch,
                                                     const std::string& source_root,
                                                     const std::string& log_path);
  ~WorkerClient();
  WorkerClient(const WorkerClient&) = delete;
  WorkerClient& operator=(const WorkerClient&) = delete;

  // Sends one request (the id is filled in) and waits for its answer up to `timeout`.
  // A timeout or a dead worker leaves the client stopped: restart() to go on. Once crossload is
  // interrupted (harness/util/interrupt.h) a request ends within a second, killing the worker's
  // group, and no worker starts again.
  WorkerReply request(nlohmann::json req, std::chrono::milliseconds timeout);
  Status restart();
  bool running() const { return pid_ > 0; }
  const std::string& env_name() const { return env_name_; }
  const std::string& log_path() const { return log_path_; }
  const Launch& launch() const { return launch_; }

 private:
  WorkerClient() = default;
  Status spawn();
  void stop(bool kill_now);
  WorkerFailure reap_failure(const std::string& what);

  std::string env_name_, source_root_, log_path_;
  Launch launch_;
  pid_t pid_ = -1;
  int to_worker_ = -1, from_worker_ = -1;
  std::string buffer_;
  long next_id_ = 1;
};

}  // namespace crossload
