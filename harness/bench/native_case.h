#pragma once
// The native ONNX consumer's side of a bench (formats/onnx/native/, no Python in the process):
// in an environment built with `native_onnx = true`, each ONNX artifact the environment's Python
// dumped and measured is measured again by the native program, so the two consumers' load time,
// first prediction, RSS and cold start stand side by side for the same file and the same
// onnxruntime (Debian's). PSS sharing and batch throughput are the Python case's only.
#include <string>

#include "harness/bench/environment.h"
#include "harness/bench/measure.h"

namespace crossload::bench {

// Whether `env` has the native consumer and it loads `format`.
bool measures_natively(const BenchEnv& env, const std::string& format);

// The native case beside `python` (the Python case of the same fixture and format in `env`,
// which dumped the artifact): its first load, judged. A step that fails is recorded like a
// Python step's; finish it with finish_case (measure.h) like a Python case.
PendingCase start_native_case(const BenchEnv& env, const Trained& t, const BenchCase& python, const CaseSettings& s);
// One turn of it: `turn.warm` loads in fresh children, `turn.cold` cold processes.
void native_turn(const BenchEnv& env, PendingCase& p, const Trained& t, const Turn& turn, const CaseSettings& s);

}  // namespace crossload::bench
