// libFuzzer target: dill's reconstructors in the pickle inspector. The first byte picks one of
// the reconstructors dill's descriptor declares; the rest are the opcodes of its argument tuple,
// wrapped into a protocol-4 pickle that imports it, calls it and stops. So the fuzzer spends its
// time on the argument shapes the roles read (dill's co_lnotab-first code objects, closures,
// by-value classes) rather than on finding the pickle header. Kept inputs are the argument
// bytes: replay them through this target.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/pickle/inspector.h"
#include "formats/registry.h"

namespace {

std::string short_str(std::string_view s) {
  return std::string("\x8c") + static_cast<char>(s.size()) + std::string(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload;
  using namespace crossload::audit;
  static const Policy policy;
  static const auto reconstructors = find_descriptor("dill")->reconstructors;
  if (size == 0) return 0;
  const auto& r = reconstructors[data[0] % reconstructors.size()];
  std::string_view name = r.name;
  std::size_t dot = name.rfind('.');
  std::string pickle = "\x80\x04";
  pickle += short_str(name.substr(0, dot)) + short_str(name.substr(dot + 1)) + "\x93(";  // STACK_GLOBAL, MARK
  pickle.append(reinterpret_cast<const char*>(data + 1), size - 1);
  pickle += "tR.";  // TUPLE, REDUCE, STOP
  InspectContext ctx{policy, {}, "fuzz.dill"};
  InspectionRecord rec;
  (void)inspect_pickle_bytes(pickle, ctx, rec);
  return 0;
}
