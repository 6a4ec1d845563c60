#include "harness/bench/claims.h"

#include <fmt/format.h>

#include "harness/bench/rounds.h"
#include "harness/bench/stats.h"

namespace crossload::bench {

using json = nlohmann::json;

namespace {

constexpr double kMuchLess = 2.0;  // "much less RAM": at least half

// The case of the environment's Python, or (native) of its native ONNX consumer.
const BenchCase* find(const BenchResults& r, const std::string& env, const std::string& fixture,
                      const std::string& format, bool native = false) {
  for (const auto& c : r.cases)
    if (c.env == env && c.fixture == fixture && c.format == format && c.native == native) return &c;
  return nullptr;
}

const std::vector<double>* series(const BenchCase* c, const char* metric) {
  if (!c || !c->ok()) return nullptr;
  auto it = c->samples.find(metric);
  return it == c->samples.end() || it->second.empty() ? nullptr : &it->second;
}

const double* value(const BenchCase* c, const char* key) {
  if (!c || !c->ok()) return nullptr;
  auto it = c->values.find(key);
  return it == c->values.end() ? nullptr : &it->second;
}

std::string mb(double bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }
std::string ms(double seconds) { return fmt::format("{:.2f} ms", seconds * 1e3); }

Verdict base(const std::string& id, const std::string& claim, const std::string& env, bool emulated) {
  return {id, claim, env, "not measured", "", emulated, json::object()};
}

// The timing half of a verdict in words: the effect with its interval, the medians, the test,
// and why it is inconclusive when it is.
std::string timing_text(const TimingVerdict& t, const char* current, const char* baseline) {
  std::string out = fmt::format("{} loads in {} the time of {} (median {} vs {}, one-sided p={:.4f})", current,
                                effect_text(t.effect), baseline, ms(t.median_current), ms(t.median_baseline),
                                t.p_value);
  if (!t.why.empty()) out += "; inconclusive: " + t.why;
  return out;
}

Verdict protocol5(const BenchResults& r, const std::string& env, bool emulated) {
  Verdict v = base("protocol5", "pickle protocol 5 loads large arrays faster and with less memory than protocol 4",
                   env, emulated);
  const BenchCase *p4 = find(r, env, kLargeFixture, "pickle-p4"), *p5 = find(r, env, kLargeFixture, "pickle-p5");
  auto *t4 = series(p4, kWarmLoad), *t5 = series(p5, kWarmLoad);
  auto *m4 = value(p4, kRssGrowth), *m5 = value(p5, kRssGrowth);
  if (!t4 || !t5 || !m4 || !m5 || *m5 <= 0) {
    v.measured = fmt::format("needs {} as pickle-p4 and pickle-p5 with load times and RSS growth", kLargeFixture);
    return v;
  }
  TimingVerdict t = judge_timing(*p4, *p5, kWarmLoad, Claimed::kFaster);
  double memory = *m4 / *m5;
  // Memory is counted in pages, not timed: more of it refutes the claim whatever the load.
  v.status = memory > 1 ? t.status : "not confirmed";
  v.measured = fmt::format("{}; peak RSS growth {} vs {} ({:.2f}x {})", timing_text(t, "protocol 5", "protocol 4"),
                           mb(*m5), mb(*m4), memory > 1 ? memory : 1 / memory, memory > 1 ? "less" : "more");
  v.numbers = {{"load_speedup", 1 / t.effect.ratio}, {"memory_ratio", memory}, {"p_value", t.p_value},
               {"timing", to_json(t)}};
  return v;
}

Verdict mmap_sharing(const BenchResults& r, const std::string& env, bool emulated) {
  Verdict v = base("mmap_sharing", "joblib.load with mmap_mode='r' shares the arrays between processes", env, emulated);
  const BenchCase *plain = find(r, env, kLargeFixture, "joblib"), *mapped = find(r, env, kLargeFixture, "joblib-mmap");
  auto *pp = value(plain, kPssGrowthTotal), *pm = value(mapped, kPssGrowthTotal), *k = value(mapped, kPssProcesses);
  if (!pp || !pm || !k || *pp <= 0) {
    v.measured = fmt::format("needs {} as joblib and joblib-mmap with the PSS of concurrent loaders", kLargeFixture);
    return v;
  }
  // Shared: K processes together cost less than one unshared copy does.
  double one_copy = *pp / *k;
  v.status = *pm < one_copy ? "confirmed" : "not confirmed";
  v.measured = fmt::format("{:.0f} processes loading at once add {} PSS together with mmap_mode='r' vs {} without "
                           "({:.1f}x less; one unshared copy is {})", *k, mb(*pm), mb(*pp), *pp / std::max(*pm, 1.0),
                           mb(one_copy));
  v.numbers = {{"processes", *k}, {"pss_mmap_bytes", *pm}, {"pss_plain_bytes", *pp}, {"ratio", *pp / std::max(*pm, 1.0)}};
  return v;
}

double median_of(const BenchCase* c, const char* metric) {
  auto* v = series(c, metric);
  return v ? summarize(*v).median : 0;
}

// With the native consumer in the environment: its process against the Python processes, the
// claim's own comparison (no Python at all vs Python with scikit-learn).
void onnx_ram_native(Verdict& v, const BenchCase* py, const BenchCase* ort, const BenchCase* nat) {
  double native = *value(nat, kColdPeakRss), sklearn = *value(py, kColdPeakRss), ratio = sklearn / native;
  v.status = ratio >= kMuchLess ? "confirmed" : "not confirmed";
  v.measured = fmt::format("the native C++ consumer (onnxruntime's C++ API, no Python) peaks at {} from exec to the "
                           "loaded model, a fresh Python loading the pickle with scikit-learn at {}: {:.2f}x ('much "
                           "less' means >= {:.0f}x here)", mb(native), mb(sklearn), ratio, kMuchLess);
  v.numbers = {{"peak_rss_native_bytes", native}, {"peak_rss_sklearn_bytes", sklearn}, {"ratio", ratio}};
  if (const double* python_ort = value(ort, kColdPeakRss)) {
    v.measured += fmt::format("; a Python with onnxruntime peaks at {} ({:.2f}x the native process)", mb(*python_ort),
                              *python_ort / native);
    v.numbers.update({{"peak_rss_onnxruntime_bytes", *python_ort}, {"ratio_python_onnxruntime", *python_ort / native}});
  }
  double load_native = median_of(nat, kWarmLoad), load_python = median_of(ort, kWarmLoad);
  if (load_native > 0 && load_python > 0) {
    v.measured += fmt::format("; loading the same ONNX file takes {} natively vs {} in Python's onnxruntime "
                              "(median, {:.2f}x)", ms(load_native), ms(load_python), load_native / load_python);
    v.numbers.update({{"load_native_seconds", load_native}, {"load_python_onnxruntime_seconds", load_python},
                      {"load_ratio_native_to_python", load_native / load_python}});
  }
}

Verdict onnx_ram(const BenchResults& r, const std::string& env, bool emulated) {
  Verdict v = base("onnx_ram", "onnxruntime needs much less RAM than Python (scikit-learn) for a small model", env,
                   emulated);
  const BenchCase *py = find(r, env, kSmallFixture, "pickle-p5"), *ort = find(r, env, kSmallFixture, "onnx");
  const BenchCase* nat = find(r, env, kSmallFixture, "onnx", true);
  auto *rp = value(py, kColdPeakRss), *ro = value(ort, kColdPeakRss), *rn = value(nat, kColdPeakRss);
  if (rp && rn && *rn > 0) {
    onnx_ram_native(v, py, ort, nat);
    return v;
  }
  if (!rp || !ro || *ro <= 0) {
    v.measured = fmt::format("needs {} as pickle-p5 and onnx with cold starts", kSmallFixture);
    return v;
  }
  double ratio = *rp / *ro;
  v.status = ratio >= kMuchLess ? "confirmed" : "not confirmed";
  v.measured = fmt::format("a fresh Python loading it with onnxruntime peaks at {}, with scikit-learn (pickle) at {} "
                           "({:.2f}x; 'much less' means >= {:.0f}x here). Both are Python processes: this environment "
                           "has no native C++ consumer (an environment with native_onnx = true measures it)",
                           mb(*ro), mb(*rp), ratio, kMuchLess);
  v.numbers = {{"peak_rss_onnxruntime_bytes", *ro}, {"peak_rss_sklearn_bytes", *rp}, {"ratio", ratio}};
  if (auto *gp = value(py, kRssGrowth), *go = value(ort, kRssGrowth); gp && go)
    v.numbers.update({{"load_rss_growth_sklearn_bytes", *gp}, {"load_rss_growth_onnxruntime_bytes", *go}});
  return v;
}

Verdict compression(const BenchResults& r, const std::string& env, bool emulated, const std::string& format) {
  std::string codec = format.substr(7, format.size() - 9);  // joblib-<codec>-3
  Verdict v = base("compression/" + codec, "joblib compression trades load time for size (" + codec + ", level 3)",
                   env, emulated);
  const BenchCase *plain = find(r, env, kCodecFixture, "joblib"), *packed = find(r, env, kCodecFixture, format);
  auto *tp = series(plain, kWarmLoad), *tc = series(packed, kWarmLoad);
  auto *sp = value(plain, kSizeBytes), *sc = value(packed, kSizeBytes);
  if (!tp || !tc || !sp || !sc || *sp <= 0) {
    v.measured = fmt::format("needs {} as joblib and {} with load times", kCodecFixture, format);
    return v;
  }
  TimingVerdict t = judge_timing(*plain, *packed, kWarmLoad, Claimed::kSlower);
  double size = *sc / *sp;
  v.status = size < 1 ? t.status : "not confirmed";  // a size is counted, not timed
  v.measured = fmt::format("{:.2f}x the size ({} vs {} bytes); {}", size, static_cast<long long>(*sc),
                           static_cast<long long>(*sp), timing_text(t, codec.c_str(), "plain joblib"));
  v.numbers = {{"size_ratio", size}, {"load_ratio", t.effect.ratio}, {"p_value", t.p_value}, {"timing", to_json(t)}};
  return v;
}

}  // namespace

std::vector<PlanItem> claims_plan() {
  std::vector<std::string> codecs = {"joblib"};
  for (const auto& c : codec_formats()) codecs.push_back(c);
  return {{kLargeFixture, {"pickle-p4", "pickle-p5", "joblib", "joblib-mmap"}},
          {kSmallFixture, {"pickle-p5", "onnx"}},
          {kCodecFixture, codecs}};
}

std::vector<Verdict> judge_claims(const BenchResults& r) {
  std::vector<Verdict> out;
  for (const auto& e : r.environments) {
    if (e.status != "ok") continue;
    out.push_back(protocol5(r, e.name, e.emulated));
    out.push_back(mmap_sharing(r, e.name, e.emulated));
    out.push_back(onnx_ram(r, e.name, e.emulated));
    for (const auto& codec : codec_formats()) out.push_back(compression(r, e.name, e.emulated, codec));
  }
  return out;
}

json to_json(const std::vector<Verdict>& verdicts) {
  json out = json::array();
  for (const auto& v : verdicts)
    out.push_back({{"id", v.id}, {"claim", v.claim}, {"env", v.env}, {"status", v.status}, {"measured", v.measured},
                   {"emulated", v.emulated}, {"numbers", v.numbers}});
  return out;
}

}  // namespace crossload::bench
