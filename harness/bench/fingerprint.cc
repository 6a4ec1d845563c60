#include "harness/bench/fingerprint.h"

#include <cpuinfo.h>
#include <hwloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace crossload::bench {

using json = nlohmann::json;

namespace {

const char* vendor_name(cpuinfo_vendor v) {
  switch (v) {
    case cpuinfo_vendor_intel: return "Intel";
    case cpuinfo_vendor_amd: return "AMD";
    case cpuinfo_vendor_arm: return "ARM";
    case cpuinfo_vendor_qualcomm: return "Qualcomm";
    case cpuinfo_vendor_apple: return "Apple";
    case cpuinfo_vendor_samsung: return "Samsung";
    case cpuinfo_vendor_nvidia: return "NVIDIA";
    case cpuinfo_vendor_ibm: return "IBM";
    case cpuinfo_vendor_cavium: return "Cavium";
    case cpuinfo_vendor_huawei: return "Huawei";
    case cpuinfo_vendor_hygon: return "Hygon";
    default: return "unknown";
  }
}

json isa() {
  return {{"SSE4.2", cpuinfo_has_x86_sse4_2()}, {"AVX", cpuinfo_has_x86_avx()},
          {"AVX2", cpuinfo_has_x86_avx2()}, {"FMA3", cpuinfo_has_x86_fma3()},
          {"AVX-512F", cpuinfo_has_x86_avx512f()}, {"NEON", cpuinfo_has_arm_neon()},
          {"SVE", cpuinfo_has_arm_sve()}};
}

json cpu(json& errors) {
  if (!cpuinfo_initialize()) {
    errors.push_back("cpuinfo could not read this CPU");
    return json::object();
  }
  const cpuinfo_package* package = cpuinfo_get_package(0);
  const cpuinfo_core* core = cpuinfo_get_core(0);
  json out = {{"model", package ? package->name : ""},
              {"vendor", core ? vendor_name(core->vendor) : "unknown"},
              {"uarch", core ? static_cast<int>(core->uarch) : 0},
              {"isa", isa()}};
  if (core && core->frequency) out["mhz"] = core->frequency / 1'000'000;
  return out;
}

int count(hwloc_topology_t t, hwloc_obj_type_t type) {
  int n = hwloc_get_nbobjs_by_type(t, type);
  return n < 0 ? 0 : n;
}

json caches(hwloc_topology_t t) {
  json out = json::array();
  for (hwloc_obj_type_t type : {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE}) {
    hwloc_obj_t first = hwloc_get_obj_by_type(t, type, 0);
    if (!first || !first->attr) continue;
    const auto& c = first->attr->cache;
    const char* kind = c.type == HWLOC_OBJ_CACHE_DATA ? "Data" : c.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "Instruction" : "Unified";
    int sharing = hwloc_bitmap_weight(first->cpuset);
    out.push_back({{"type", kind}, {"level", c.depth}, {"size", c.size}, {"line_size", c.linesize},
                   {"count", count(t, type)}, {"num_sharing", sharing < 0 ? 0 : sharing}});
  }
  return out;
}

void topology(json& out, json& errors) {
  hwloc_topology_t t;
  if (hwloc_topology_init(&t) != 0 || hwloc_topology_load(t) != 0) {
    errors.push_back("hwloc could not load the topology");
    return;
  }
  out["topology"] = {{"packages", count(t, HWLOC_OBJ_PACKAGE)}, {"cores", count(t, HWLOC_OBJ_CORE)},
                     {"pus", count(t, HWLOC_OBJ_PU)}, {"numa_nodes", count(t, HWLOC_OBJ_NUMANODE)}};
  out["caches"] = caches(t);
  hwloc_topology_destroy(t);
}

}  // namespace

json host_fingerprint() {
  json out = json::object(), errors = json::array();
  char name[256] = {};
  out["host_name"] = gethostname(name, sizeof name - 1) == 0 ? name : "";
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  out["logical_cpus"] = cpus > 0 ? cpus : 0;
  topology(out, errors);
  out["cpu"] = cpu(errors);
  if (out["cpu"].contains("mhz")) out["mhz_per_cpu"] = out["cpu"]["mhz"];
  double load[3];
  if (getloadavg(load, 3) == 3) out["load_avg"] = {load[0], load[1], load[2]};
  out["errors"] = errors;
  return out;
}

std::string isa_summary(const json& fingerprint) {
  std::string out;
  const json isa = fingerprint.contains("cpu") ? fingerprint["cpu"].value("isa", json::object()) : json::object();
  for (const auto& [name, present] : isa.items())
    if (present.is_boolean() && present.get<bool>()) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none known" : out;
}

}  // namespace crossload::bench
