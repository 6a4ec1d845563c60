#pragma once
// The host a bench ran on, so two bench files are only compared knowingly: the topology from
// hwloc (packages, cores, hardware threads, caches, NUMA nodes) and the CPU from cpuinfo
// (vendor, model, the SIMD extensions numpy and BLAS pick kernels by).
#include <nlohmann/json.hpp>

namespace crossload::bench {

// {"host_name", "logical_cpus", "topology": {packages, cores, pus, numa_nodes}, "caches": [...],
//  "cpu": {vendor, model, uarch, isa: {...}}, "load_avg", "errors": [...]}. Never fails: a
// library that cannot say leaves its part empty and a line in "errors".
nlohmann::json host_fingerprint();

// The "isa" object's features that are present, e.g. "AVX2, AVX-512F, FMA3" ("none known").
std::string isa_summary(const nlohmann::json& fingerprint);

}  // namespace crossload::bench
