#include <fmt/format.h>

#include "harness/audit/render.h"

namespace crossload::audit {

namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void render_one(const InspectionRecord& r, std::string& out) {
  std::string proto = r.protocol ? fmt::format(", protocol {}", *r.protocol) : "";
  std::string comp = r.compression.empty() ? "" : fmt::format(", {}-compressed", r.compression);
  out += fmt::format("{}: {} ({}{}{})\n", r.path, verdict_name(r.verdict), r.format, proto, comp);
  for (const auto& f : r.findings) {
    const RuleInfo& rule = rule_info(f.rule);
    out += fmt::format("  {:<7} {} {:<20} offset {}: {}\n", severity_name(f.severity), rule.id,
                       rule.name, f.offset, f.reason);
  }
  if (!r.globals.empty()) out += fmt::format("  globals:  {}\n", join(r.globals));
  for (const auto& a : r.arrays)
    out += fmt::format("  array:    {} {} {} {} bytes at offset {} ({})\n", a.dtype, a.byte_order,
                       shape_text(a.shape), a.bytes, a.offset, a.where);
  if (!r.versions.empty()) out += fmt::format("  sklearn:  {}\n", join(r.versions));
  for (const auto& o : r.opsets)
    out += fmt::format("  opset:    {} {}\n", o.domain.empty() ? "ai.onnx" : o.domain, o.version);
  for (const auto& o : r.operators)
    out += fmt::format("  operator: {}{}{} x{}\n", o.domain, o.domain.empty() ? "" : "::",
                       o.op_type, o.count);
  for (const auto& e : r.external_data) out += fmt::format("  external: {}\n", e);
}

}  // namespace

std::string render_text(const std::vector<InspectionRecord>& records) {
  std::string out;
  for (const auto& r : records) render_one(r, out);
  return out;
}

}  // namespace crossload::audit
