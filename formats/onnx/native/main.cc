// crossload-onnx-native: loads ONNX artifacts with onnxruntime's C++ API, with no Python in the
// process. Two ways to run it:
//
//   crossload-onnx-native [WORKER_ARGS...]     serve the worker protocol on stdin/stdout
//   crossload-onnx-native measure --model M.onnx --inputs X.npy [--outputs predict,...] [--repeat N]
//                         [--rows K] [--skip-missing] [--out-prefix P]
//   crossload-onnx-native cold --model M.onnx
//   crossload-onnx-native --version
//
// Serving, it speaks the harness's worker protocol (harness/worker/PROTOCOL.md: hello,
// fingerprint, load_predict) so the harness starts it as an environment's consumer worker; it
// accepts and ignores the worker's own command line (worker.py --root DIR) for that reason.
// `measure` loads the artifact N times, each in a fresh isolated child, and prints one JSON
// object with each run's load/predict seconds and peak RSS (for benchmarks). `cold` loads it once
// in the process itself and prints one "loaded" line with its peak RSS (a bench cold start).
#include <gnu/libc-version.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <onnxruntime_cxx_api.h>
#include <string>

#include "isolation.h"
#include "load_predict.h"
#include "model.h"
#include "npy.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace crossload_native;

namespace {

constexpr int kProtocol = 1;

json fingerprint() {
  utsname u{};
  uname(&u);
  std::error_code ec;
  return {{"python", "none"},
          {"implementation", "crossload-onnx-native (C++, onnxruntime C/C++ API)"},
          {"executable", fs::read_symlink("/proc/self/exe", ec).string()},
          {"machine", u.machine},
          {"byteorder", native_order() == '<' ? "little" : "big"},
          {"pointer_bits", sizeof(void*) * 8},
          {"libc", std::string("glibc ") + gnu_get_libc_version()},
          {"packages", {{"onnxruntime", Ort::GetVersionString()}}},
          {"blas", json::array()},
          {"consumer", "onnx-native"}};
}

json protocol_error(const std::string& message) {
  return {{"ok", false}, {"error", {{"stage", "protocol"}, {"type", "ProtocolError"}, {"message", message}}}};
}

// Copies the child's outputs (written in its private directory) to <out_prefix>.<output>.npy.
void publish(const std::string& tmpdir, const std::string& out_prefix, const json& written) {
  for (const auto& output : written) {
    std::error_code ec;
    fs::copy_file(tmpdir + "/out." + output.get<std::string>() + ".npy", out_prefix + "." + output.get<std::string>() + ".npy",
                  fs::copy_options::overwrite_existing, ec);
  }
}

json serve_load_predict(const json& req, Ort::Env& env) {
  LoadPredictRequest r;
  try {
    r = {req.at("format").get<std::string>(), req.at("path").get<std::string>(), req.at("inputs").get<std::string>(),
         req.at("outputs").get<std::vector<std::string>>(), "", "out", &env};
  } catch (const json::exception& e) {
    return protocol_error(std::string("bad load_predict request: ") + e.what());
  }
  if (!loads_format(r.format)) return load_predict(r);  // answered "unsupported" without forking
  Limits limits;
  std::string err;
  if (!parse_limits(req.value("limits", json()), &limits, &err)) return protocol_error(err);
  std::string out_prefix = req.value("out_prefix", std::string());
  if (out_prefix.empty()) return protocol_error("load_predict needs out_prefix");
  json written;
  auto work = [&r](const std::string& tmpdir) {
    LoadPredictRequest mine = r;
    mine.out_dir = tmpdir;
    return load_predict(mine);
  };
  json answer = run_isolated(work, limits, req.value("tmp_root", std::string()), [&](const std::string& tmpdir) {
    // The answer is parsed by the caller; the child wrote the outputs it names.
    written = r.outputs;
    publish(tmpdir, out_prefix, written);
  });
  return answer;
}

json handle(const json& req, Ort::Env& env) {
  std::string op = req.value("op", std::string());
  if (op == "hello") return {{"ok", true}, {"result", {{"protocol", kProtocol}, {"pid", getpid()}}}};
  if (op == "fingerprint") return {{"ok", true}, {"result", fingerprint()}};
  if (op == "load_predict") return serve_load_predict(req, env);
  return protocol_error("the native ONNX consumer does not serve op '" + op + "' (it serves hello, fingerprint, load_predict)");
}

int serve() {
  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "crossload-onnx-native");  // before any fork: no threads of its own
  // The protocol owns the real stdout; anything onnxruntime prints goes to the log (stderr).
  int proto = dup(1);
  dup2(2, 1);
  FILE* out = fdopen(proto, "w");
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    json req = json::parse(line, nullptr, false);
    json answer = req.is_object() ? handle(req, env) : protocol_error("not a JSON object: " + line.substr(0, 200));
    answer["id"] = req.is_object() ? req.value("id", json()) : json();
    std::string text = answer.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    fputs(text.c_str(), out);
    fflush(out);
  }
  return 0;
}

struct MeasureArgs {
  std::string model, inputs, outputs = "predict", out_prefix;
  int repeat = 1;
  std::size_t rows = 0;
  bool skip_missing = false;
};

// `measure`'s options; an empty string when they parse, else what is wrong.
std::string parse_measure(int argc, char** argv, MeasureArgs* a) {
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--skip-missing") {
      a->skip_missing = true;
      continue;
    }
    if (i + 1 >= argc) return "option " + k + " needs a value";
    std::string v = argv[++i];
    if (k == "--model") a->model = v;
    else if (k == "--inputs") a->inputs = v;
    else if (k == "--outputs") a->outputs = v;
    else if (k == "--out-prefix") a->out_prefix = v;
    else if (k == "--repeat") a->repeat = std::max(1, std::atoi(v.c_str()));
    else if (k == "--rows") a->rows = static_cast<std::size_t>(std::max(0, std::atoi(v.c_str())));
    else return "unknown option " + k;
  }
  if (a->model.empty() || a->inputs.empty()) return "--model and --inputs are required";
  return "";
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t s = 0, c; s <= text.size(); s = c + 1) {
    c = text.find(',', s);
    if (c == std::string::npos) c = text.size();
    if (c > s) out.push_back(text.substr(s, c - s));
  }
  return out;
}

// --rows K predicts on the first K rows only (the bench's one-row latency); --skip-missing leaves
// out outputs the artifact does not serve; --out-prefix P copies the first run's outputs to
// P.<output>.npy so the caller can compare them with the producer's.
int measure(int argc, char** argv) {
  MeasureArgs a;
  if (std::string err = parse_measure(argc, argv, &a); !err.empty()) return std::cerr << "measure: " << err << "\n", 2;
  json runs = json::array();
  bool all_ok = true;
  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "crossload-onnx-native");
  for (int i = 0; i < a.repeat; ++i) {
    LoadPredictRequest r{"onnx", a.model, a.inputs, split_commas(a.outputs), "", "out", &env, a.rows, a.skip_missing};
    json written;
    json answer = run_isolated([&r](const std::string& tmpdir) { LoadPredictRequest m = r; m.out_dir = tmpdir; return load_predict(m); },
                               Limits{}, "", [&](const std::string& tmpdir) {
                                 if (i == 0 && !a.out_prefix.empty()) publish(tmpdir, a.out_prefix, r.outputs);
                               });
    all_ok &= answer.value("ok", false);
    runs.push_back(answer);
  }
  std::cout << json{{"onnxruntime", Ort::GetVersionString()}, {"model", a.model}, {"runs", runs}}.dump() << "\n";
  return all_ok ? 0 : 1;
}

// A cold start: this fresh process, from exec to a loaded session, in the process itself (no
// fork), so its peak RSS is what serving the model natively costs. One JSON line once loaded,
// as the Python bench's cold script prints (harness/worker/bench.py).
int cold(int argc, char** argv) {
  if (argc != 4 || std::string(argv[2]) != "--model") return std::cerr << "cold: usage: cold --model M.onnx\n", 2;
  auto start = std::chrono::steady_clock::now();
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "crossload-onnx-native");
    OnnxModel model(env, argv[3]);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << json{{"loaded", true}, {"in_process_seconds", seconds}, {"max_rss_kb", ru.ru_maxrss}}.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return std::cerr << "cold: " << argv[3] << ": " << e.what() << "\n", 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string first = argc > 1 ? argv[1] : "";
  if (first == "--version") return std::cout << "crossload-onnx-native, onnxruntime " << Ort::GetVersionString() << "\n", 0;
  if (first == "measure") return measure(argc, argv);
  if (first == "cold") return cold(argc, argv);
  return serve();
}
