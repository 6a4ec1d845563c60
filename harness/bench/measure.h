#pragma once
// One bench case: persist a trained fixture in one format (start_case), then measure loading it
// in turns with the fixture's other cases (rounds.h): in each turn warm loads, first prediction
// and batch throughput (in one forked child of the worker) and cold starts (fresh interpreters
// spawned through the environment's launch), with the machine's load around them; once at the
// end (finish_case) the load's RSS growth and the PSS of concurrent loaders. A step that fails is
// recorded and the next one still runs.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/bench/environment.h"
#include "harness/bench/records.h"
#include "harness/bench/rounds.h"

namespace crossload::bench {

struct CaseSettings {
  std::string source_root;
  std::string out_dir;  // absolute: artifacts/ and cells/ go below it
  int repetitions = 9, cold_repetitions = 9, processes = 4;
  int rounds = 3;  // turns each case takes; the repetitions are shared between them
  double wall_seconds = 300;  // per measuring step, enforced by the worker on its child
};

struct Trained {
  std::string fixture, dir, inputs;
  std::vector<std::string> outputs;
  double rtol = 1e-6, atol = 0;
};

// Trains the fixture in the environment's worker; an Error says why it could not.
Result<Trained> train_fixture(BenchEnv& env, const std::string& fixture, const CaseSettings& s);

struct Artifact {
  std::string path;
  nlohmann::json trusted_types = nlohmann::json::array();
};

// A case between its dump and its last turn.
struct PendingCase {
  BenchCase c;
  std::optional<Artifact> artifact;  // none when the dump failed
  double seconds = 0;                // spent on it so far
};

// The dump (size, dump time); its failure is recorded and the turns then measure nothing.
PendingCase start_case(BenchEnv& env, const Trained& trained, const std::string& format, const CaseSettings& s);
// One turn: `turn.warm` warm loads (the first turn also judges the first load's predictions) and
// `turn.cold` cold starts, recorded as one Round with the machine's load.
void python_turn(BenchEnv& env, PendingCase& p, const Trained& trained, const Turn& turn, const CaseSettings& s);
// RSS growth and PSS sharing, the outcome, the log lines.
BenchCase finish_case(BenchEnv& env, PendingCase& p, const CaseSettings& s, RunLog& log);

// Runs `steps` as round `round` of the case: the samples they add to c.samples, and the machine's
// load from before to after, become one Round.
void in_round(BenchCase& c, int round, const std::function<void()>& steps);

// The pieces a case of another consumer (native_case.h) shares with the Python one.

// The file a format's dump writes for a trained fixture.
std::string artifact_path(const Trained& t, const std::string& format);
// Where a case's first-load outputs go: <out_dir>/cells/<consumer>/<fixture>/<format>.<output>.npy.
std::string output_prefix(const BenchCase& c, const CaseSettings& s);
// The outputs written at `prefix` against the producer's references beside the artifact: c.outcome.
void judge_outputs(BenchCase& c, const Trained& t, const std::string& artifact, const std::string& prefix);

// One cold start: a fresh process that prints one JSON line {"loaded": true, "max_rss_kb": N}
// once the model is loaded (harness/worker/bench.py's cold script, or the native consumer's).
struct ColdCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};
// `count` more cold starts: load_cold samples and the peak RSS so far, or failures["cold"]
// ("timeout: ..." when one outlived the step's wall limit, "crash: ..." when one died first).
void measure_cold(BenchCase& c, const ColdCommand& command, const CaseSettings& s, int count);

// The outcome (CRASH, TIMEOUT, LOAD_ERROR, ...) when the dump or the first load failed.
void settle_failed(BenchCase& c);
// Each failed step as an error line, then how long the case took.
void log_case(const BenchCase& c, double seconds, RunLog& log);

}  // namespace crossload::bench
