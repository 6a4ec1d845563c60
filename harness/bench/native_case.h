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
// which dumped the artifact). A step that fails is recorded like a Python step's.
BenchCase run_native_case(const BenchEnv& env, const Trained& t, const BenchCase& python, const CaseSettings& s,
                          RunLog& log);

}  // namespace crossload::bench
