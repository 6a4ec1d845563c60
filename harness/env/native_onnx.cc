#include "harness/env/native_onnx.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "harness/env/cache.h"
#include "harness/util/sha256.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

constexpr const char* kProgramName = "crossload-onnx-native";

Result<std::vector<fs::path>> native_sources(const std::string& source_root) {
  fs::path dir = fs::path(source_root) / "formats/onnx/native";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    if (ext == ".cc" || ext == ".h") files.push_back(e.path());
  }
  if (ec || files.empty()) return make_error(fmt::format("{}: no native ONNX consumer sources ({})", dir.string(),
                                                         ec ? ec.message() : "no .cc/.h files"));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::string> native_onnx_packages() { return {"g++", "libonnxruntime-dev", "nlohmann-json3-dev"}; }

Result<std::string> native_onnx_program(const std::string& source_root) {
  auto files = native_sources(source_root);
  if (!files) return files.error();
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& f : *files) {
    auto sha = sha256_file(f.string());
    if (!sha) return sha.error();
    fields.emplace_back(f.filename().string(), *sha);
  }
  return fmt::format("/opt/crossload/{}/{}", make_cache_key("onnx-native", fields).id, kProgramName);
}

Result<std::string> ensure_native_onnx(const std::string& rootfs, std::vector<std::string> inside,
                                       const std::string& source_root, const StepContext& sc, const std::string& where) {
  auto program = native_onnx_program(source_root);
  if (!program) return program.error();
  fs::path dir = fs::path(*program).parent_path();
  if (fs::exists(fs::path(rootfs) / program->substr(1))) return *program;
  auto files = native_sources(source_root);
  if (!files) return files.error();
  // Built in a directory of its own, renamed into place when complete: a build that dies halfway
  // leaves nothing that looks finished, and two runs building at once both end with a whole one.
  std::string building = fmt::format("{}.building-{}", dir.string(), ::getpid());
  fs::path host_building = fs::path(rootfs) / building.substr(1);
  std::error_code ec;
  fs::remove_all(host_building, ec);
  fs::create_directories(host_building / "src", ec);
  for (const auto& f : *files) fs::copy_file(f, host_building / "src" / f.filename(), ec);
  if (ec) return make_error(fmt::format("copying the native ONNX consumer's sources into {}: {}", host_building.string(), ec.message()));
  inside.back() = "/usr/bin/g++";
  inside.insert(inside.end(), {"-std=c++20", "-O2", "-Wall", "-I/usr/include/onnxruntime"});
  for (const auto& f : *files)
    if (f.extension() == ".cc") inside.push_back(building + "/src/" + f.filename().string());
  inside.insert(inside.end(), {"-o", building + "/" + kProgramName, "-lonnxruntime"});
  ProcessOptions o;
  o.argv = inside;
  o.where = where;
  o.timeout = std::chrono::minutes(20);  // minutes natively on a busy machine; far more under QEMU
  if (auto r = run_step_checked(o, sc, "building the native ONNX consumer (g++ against libonnxruntime-dev) in " + where); !r)
    return r.error();
  fs::rename(host_building, fs::path(rootfs) / dir.string().substr(1), ec);
  if (ec && !fs::exists(fs::path(rootfs) / program->substr(1)))
    return make_error(fmt::format("moving the native ONNX consumer into place in {}: {}", rootfs, ec.message()));
  fs::remove_all(host_building, ec);  // another run's build won the rename
  note(sc, fmt::format("built {} in {}", *program, where));
  return *program;
}

Launch consumer_launch(const Launch& launch) {
  if (launch.loader_program.empty() || launch.python.empty()) return launch;
  Launch out = launch;
  out.python.back() = launch.loader_program;
  return out;
}

Result<std::vector<NativeLoad>> measure_native_onnx(const Launch& launch, const NativeMeasure& m) {
  if (launch.loader_program.empty())
    return make_error("environment: this environment has no native ONNX consumer (native_onnx = true)");
  ProcessOptions o;
  o.argv = consumer_launch(launch).python;
  o.argv.insert(o.argv.end(), {"measure", "--model", m.model, "--inputs", m.inputs, "--outputs", join(m.outputs, ","),
                               "--repeat", std::to_string(m.repeat), "--rows", std::to_string(m.rows)});
  if (m.skip_missing) o.argv.push_back("--skip-missing");
  if (!m.out_prefix.empty()) o.argv.insert(o.argv.end(), {"--out-prefix", m.out_prefix});
  o.set_env = launch.env;
  o.timeout = m.timeout;
  o.where = launch.where;
  auto r = run_process(o);
  if (!r) return make_error("crash: " + r.error().message);
  auto report = nlohmann::json::parse(r->out, nullptr, false);
  if (r->timed_out || !report.is_object() || !report.contains("runs"))
    return make_error(fmt::format("{}: {} measure {}: {} ({})", r->timed_out ? "timeout" : "crash", kProgramName,
                                  m.model, r->status_text(), r->tail()));
  std::vector<NativeLoad> loads;
  for (const auto& run : report["runs"]) {
    if (!run.value("ok", false)) {
      const auto& e = run["error"];
      return make_error(fmt::format("{}: {}: {}", e.value("stage", std::string("load")),
                                    e.value("type", std::string("Error")), e.value("message", std::string("load failed"))));
    }
    const auto& res = run["result"];
    loads.push_back({res.value("load_seconds", 0.0), res.value("predict_seconds", 0.0), res.value("rss_peak_kb", 0L),
                     res.value("rss_at_fork_kb", 0L)});
  }
  return loads;
}

std::vector<std::string> native_cold_argv(const Launch& launch, const std::string& model) {
  std::vector<std::string> argv = consumer_launch(launch).python;
  argv.insert(argv.end(), {"cold", "--model", model});
  return argv;
}

}  // namespace crossload
