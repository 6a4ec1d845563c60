#include "formats/onnx/inspector.h"

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/inspection/byte_reader.h"

namespace crossload::audit {

namespace {

// ---------------------------------------------------------------------------------------------
// protobuf wire format, bounded: every length is checked against what is left
// ---------------------------------------------------------------------------------------------

enum Wire : std::uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  std::uint8_t wire = 0;
  std::uint64_t varint = 0;   // kVarint, kFixed64, kFixed32
  std::string_view bytes;     // kLen
  std::uint64_t offset = 0;   // of the tag
  std::uint64_t payload = 0;  // offset of the bytes (kLen)
};

std::optional<std::uint64_t> read_varint(ByteReader& in) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    auto b = in.take_le(1);
    if (!b) return std::nullopt;
    v |= (*b & 0x7F) << shift;
    if (!(*b & 0x80)) return v;
  }
  return std::nullopt;
}

// Reads the next field of the message in `in`; nullopt at its end, Error when malformed.
Result<std::optional<Field>> next_field(ByteReader& in) {
  if (in.at_end()) return std::optional<Field>{};
  Field f;
  f.offset = in.offset();
  auto tag = read_varint(in);
  if (!tag) return make_error(fmt::format("offset {}: truncated protobuf tag", f.offset));
  f.number = static_cast<std::uint32_t>(*tag >> 3);
  f.wire = static_cast<std::uint8_t>(*tag & 7);
  if (f.number == 0 || *tag >> 32)
    return make_error(fmt::format("offset {}: invalid protobuf field number", f.offset));
  std::optional<std::uint64_t> v;
  switch (f.wire) {
    case kVarint: v = read_varint(in); break;
    case kFixed64: v = in.take_le(8); break;
    case kFixed32: v = in.take_le(4); break;
    case kLen: {
      auto n = read_varint(in);
      f.payload = in.offset();
      if (!n || *n > in.remaining())
        return make_error(fmt::format("offset {}: truncated protobuf field {} ({} bytes "
                                      "declared, {} left)",
                                      f.offset, f.number, n ? *n : 0, in.remaining()));
      f.bytes = *in.take(*n);
      return std::optional<Field>{f};
    }
    default:
      return make_error(fmt::format("offset {}: unsupported protobuf wire type {}", f.offset,
                                    f.wire));
  }
  if (!v) return make_error(fmt::format("offset {}: truncated protobuf value", f.offset));
  f.varint = *v;
  return std::optional<Field>{f};
}

// Calls `fn(field)` for each field of the message; stops at the first error.
template <class Fn>
Status for_each_field(std::string_view msg, std::uint64_t base, Fn&& fn) {
  ByteReader in(msg, base);
  while (true) {
    auto f = next_field(in);
    if (!f) return f.error();
    if (!*f) return ok_status();
    if (auto st = fn(**f); !st) return st;
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX
// ---------------------------------------------------------------------------------------------

struct ElementType {
  std::string_view code;
  std::uint64_t bits;  // per element; 0 for strings
};

ElementType element_type(std::uint64_t data_type) {
  static constexpr std::array<ElementType, 24> kTypes{{
      {"undefined", 0}, {"f4", 32}, {"u1", 8}, {"i1", 8}, {"u2", 16}, {"i2", 16}, {"i4", 32},
      {"i8", 64}, {"str", 0}, {"b1", 8}, {"f2", 16}, {"f8", 64}, {"u4", 32}, {"u8", 64},
      {"c8", 64}, {"c16", 128}, {"bf16", 16}, {"f8e4m3fn", 8}, {"f8e4m3fnuz", 8},
      {"f8e5m2", 8}, {"f8e5m2fnuz", 8}, {"u4bit", 4}, {"i4bit", 4}, {"f4e2m1", 4}}};
  return data_type < kTypes.size() ? kTypes[data_type] : ElementType{"unknown", 0};
}

struct Tensor {
  std::string name;
  std::uint64_t data_type = 0;
  std::vector<std::int64_t> dims;
  std::uint64_t stored = 0;          // bytes held in the file
  std::uint64_t stored_offset = 0;
  bool has_raw = false;
  std::map<std::string, std::string> external;  // location, offset, length, checksum
  bool external_location = false;
};

constexpr int kMaxDepth = 32;

class OnnxWalker {
 public:
  OnnxWalker(const InspectContext& ctx, InspectionRecord& rec) : ctx_(ctx), rec_(rec) {}

  Status model(std::string_view data);

 private:
  Status graph(const Field& f, int depth);
  Status node(const Field& f, int depth);
  Status attribute(const Field& f, int depth);
  Status function(const Field& f);
  Status tensor(const Field& f, std::string_view role);
  Status sparse_tensor(const Field& f);
  Result<OpsetImport> opset(const Field& f);
  Result<Tensor> parse_tensor(const Field& f);
  void check_tensor(const Tensor& t, std::uint64_t at, std::string_view role);
  void check_external(const Tensor& t, std::uint64_t at);
  void finish_operators();

  const InspectContext& ctx_;
  InspectionRecord& rec_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> ops_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> op_offsets_;
  std::set<std::pair<std::string, std::string>> local_functions_;
};

Status OnnxWalker::model(std::string_view data) {
  std::vector<Field> graphs, functions;
  auto st = for_each_field(data, 0, [&](const Field& f) -> Status {
    switch (f.number) {
      case 1:
        if (f.wire != kVarint) return make_error(fmt::format("offset {}: ir_version is not a "
                                                             "varint", f.offset));
        rec_.protocol = static_cast<std::int64_t>(f.varint);
        return ok_status();
      case 8: {
        if (f.wire != kLen) return ok_status();
        auto o = opset(f);
        if (!o) return o.error();
        rec_.opsets.push_back(*o);
        return ok_status();
      }
      case 7: case 20:
        if (f.wire == kLen) graphs.push_back(f);
        return ok_status();
      case 25:
        if (f.wire == kLen) functions.push_back(f);
        return ok_status();
      default:
        return ok_status();
    }
  });
  if (!st) return st;
  if (!rec_.protocol) return make_error("offset 0: not an ONNX model (no ir_version)");
  // Functions first: nodes calling a model-local function are not custom operators.
  for (const auto& f : functions)
    if (auto s = function(f); !s) return s;
  for (const auto& g : graphs) {
    // training_info (20) holds graphs inside a TrainingInfoProto
    if (g.number == 20) {
      auto s = for_each_field(g.bytes, g.payload, [&](const Field& sub) -> Status {
        return sub.wire == kLen && (sub.number == 1 || sub.number == 2) ? graph(sub, 1)
                                                                          : ok_status();
      });
      if (!s) return s;
    } else if (auto s = graph(g, 0); !s) {
      return s;
    }
  }
  finish_operators();
  return ok_status();
}

Result<OpsetImport> OnnxWalker::opset(const Field& f) {
  OpsetImport o;
  auto st = for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    if (sub.number == 1 && sub.wire == kLen) o.domain = std::string(sub.bytes.substr(0, 256));
    if (sub.number == 2 && sub.wire == kVarint) o.version = static_cast<std::int64_t>(sub.varint);
    return ok_status();
  });
  if (!st) return st.error();
  return o;
}

Status OnnxWalker::graph(const Field& f, int depth) {
  if (depth > kMaxDepth)
    return make_error(fmt::format("offset {}: subgraphs nested more than {} deep", f.offset,
                                  kMaxDepth));
  return for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    if (sub.wire != kLen) return ok_status();
    switch (sub.number) {
      case 1: return node(sub, depth);
      case 5: return tensor(sub, "initializer");
      case 15: return sparse_tensor(sub);
      default: return ok_status();
    }
  });
}

Status OnnxWalker::node(const Field& f, int depth) {
  std::string op_type, domain;
  std::vector<Field> attributes;
  auto st = for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    if (sub.wire != kLen) return ok_status();
    if (sub.number == 4) op_type = std::string(sub.bytes.substr(0, 256));
    if (sub.number == 7) domain = std::string(sub.bytes.substr(0, 256));
    if (sub.number == 5) attributes.push_back(sub);
    return ok_status();
  });
  if (!st) return st;
  if (domain == "ai.onnx") domain.clear();
  auto key = std::make_pair(domain, op_type);
  if (ops_[key]++ == 0) op_offsets_[key] = f.offset;
  for (const auto& a : attributes)
    if (auto s = attribute(a, depth); !s) return s;
  return ok_status();
}

Status OnnxWalker::attribute(const Field& f, int depth) {
  return for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    if (sub.wire != kLen) return ok_status();
    switch (sub.number) {
      case 5: case 10: return tensor(sub, "constant");        // t, tensors
      case 6: case 11: return graph(sub, depth + 1);           // g, graphs
      case 22: case 23: return sparse_tensor(sub);             // sparse_tensor(s)
      default: return ok_status();
    }
  });
}

Status OnnxWalker::function(const Field& f) {
  std::string name, domain;
  std::vector<Field> nodes;
  auto st = for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    if (sub.wire != kLen) return ok_status();
    if (sub.number == 1) name = std::string(sub.bytes.substr(0, 256));
    if (sub.number == 10) domain = std::string(sub.bytes.substr(0, 256));
    if (sub.number == 7) nodes.push_back(sub);
    return ok_status();
  });
  if (!st) return st;
  local_functions_.insert({domain, name});
  for (const auto& n : nodes)
    if (auto s = node(n, 1); !s) return s;
  return ok_status();
}

Result<Tensor> OnnxWalker::parse_tensor(const Field& f) {
  Tensor t;
  auto st = for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    switch (sub.number) {
      case 1:  // dims: repeated int64, packed or not
        if (sub.wire == kVarint) {
          t.dims.push_back(static_cast<std::int64_t>(sub.varint));
        } else if (sub.wire == kLen) {
          ByteReader in(sub.bytes, sub.payload);
          while (!in.at_end()) {
            auto d = read_varint(in);
            if (!d) return make_error(fmt::format("offset {}: truncated tensor dims",
                                                  in.offset()));
            if (t.dims.size() > 64)
              return make_error(fmt::format("offset {}: tensor with more than 64 dims",
                                            sub.offset));
            t.dims.push_back(static_cast<std::int64_t>(*d));
          }
        }
        return ok_status();
      case 2:
        if (sub.wire == kVarint) t.data_type = sub.varint;
        return ok_status();
      case 8:
        if (sub.wire == kLen) t.name = std::string(sub.bytes.substr(0, 256));
        return ok_status();
      case 9:
        if (sub.wire == kLen) {
          t.has_raw = true;
          t.stored = sub.bytes.size();
          t.stored_offset = sub.payload;
        }
        return ok_status();
      case 4: case 5: case 6: case 7: case 10: case 11:  // typed data fields
        if (!t.has_raw) {
          if (t.stored == 0) t.stored_offset = sub.wire == kLen ? sub.payload : sub.offset;
          t.stored += sub.wire == kLen ? sub.bytes.size() : 8;
        }
        return ok_status();
      case 13:
        if (sub.wire == kLen) {
          std::string key, value;
          auto s = for_each_field(sub.bytes, sub.payload, [&](const Field& kv) -> Status {
            if (kv.wire == kLen && kv.number == 1) key = std::string(kv.bytes.substr(0, 64));
            if (kv.wire == kLen && kv.number == 2) value = std::string(kv.bytes.substr(0, 4096));
            return ok_status();
          });
          if (!s) return s;
          if (key == "location") t.external_location = true;
          t.external[key] = value;
        }
        return ok_status();
      default:
        return ok_status();
    }
  });
  if (!st) return st.error();
  return t;
}

Status OnnxWalker::tensor(const Field& f, std::string_view role) {
  auto t = parse_tensor(f);
  if (!t) return t.error();
  check_tensor(*t, f.offset, role);
  return ok_status();
}

Status OnnxWalker::sparse_tensor(const Field& f) {
  return for_each_field(f.bytes, f.payload, [&](const Field& sub) -> Status {
    return sub.wire == kLen && (sub.number == 1 || sub.number == 2)
               ? tensor(sub, "sparse initializer")
               : ok_status();
  });
}

void OnnxWalker::check_tensor(const Tensor& t, std::uint64_t at, std::string_view role) {
  ElementType et = element_type(t.data_type);
  std::vector<std::uint64_t> shape;
  std::optional<std::uint64_t> count = 1;
  for (std::int64_t d : t.dims) {
    if (d < 0) {
      rec_.add_finding(Severity::kWarning, Rule::kAnomaly,
                       fmt::format("{} '{}' has a negative dimension", role, t.name), at);
      count = std::nullopt;
      break;
    }
    shape.push_back(static_cast<std::uint64_t>(d));
    if (count) count = checked_mul(*count, static_cast<std::uint64_t>(d));
  }
  std::optional<std::uint64_t> declared;
  if (count && et.bits > 0)
    if (auto bits = checked_mul(*count, et.bits)) declared = (*bits + 7) / 8;
  bool overflow = t.dims.size() > 0 && (!count || (et.bits > 0 && !declared));
  if (overflow || (declared && *declared > ctx_.options.max_tensor_bytes)) {
    rec_.add_finding(Severity::kError, Rule::kResource,
                     fmt::format("{} '{}' declares {} bytes (bound {}): loading it exhausts "
                                 "memory",
                                 role, t.name,
                                 declared ? std::to_string(*declared) : "more than 2^64",
                                 ctx_.options.max_tensor_bytes),
                     at);
  }
  if (t.external_location) {
    check_external(t, at);
  } else if (t.has_raw && declared && *declared != t.stored && !overflow) {
    rec_.add_finding(Severity::kWarning, Rule::kAnomaly,
                     fmt::format("{} '{}' declares {} bytes but stores {}", role, t.name,
                                 *declared, t.stored),
                     at);
  }
  std::string where = t.external_location
                          ? fmt::format("onnx-external:{}", t.external.at("location"))
                          : fmt::format("onnx:{}", t.name);
  std::uint64_t bytes = t.external_location ? declared.value_or(0) : t.stored;
  rec_.arrays.push_back(ArrayInfo{std::string(et.code), et.bits > 8 ? "little" : "not-applicable",
                                  std::move(shape), bytes,
                                  t.external_location ? at : t.stored_offset, std::move(where)});
}

void OnnxWalker::check_external(const Tensor& t, std::uint64_t at) {
  namespace fs = std::filesystem;
  const std::string& location = t.external.at("location");
  rec_.external_data.push_back(location);
  fs::path rel(location);
  bool escapes = location.empty() || rel.is_absolute() || location.find('\\') != std::string::npos ||
                 location.find(':') != std::string::npos;
  for (const auto& part : rel)
    if (part == "..") escapes = true;
  // A link inside the directory may still point outside it: resolve what exists.
  if (!escapes && !ctx_.path.empty()) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(fs::path(ctx_.path)).parent_path(), ec);
    fs::path target = fs::weakly_canonical(dir / rel, ec);
    if (!ec) {
      auto [d, _] = std::mismatch(dir.begin(), dir.end(), target.begin(), target.end());
      if (d != dir.end()) escapes = true;
    }
  }
  if (escapes)
    rec_.add_finding(Severity::kError, Rule::kPathEscape,
                     fmt::format("tensor '{}' reads external data from '{}', outside the "
                                 "model's directory",
                                 t.name, location.substr(0, 200)),
                     at);
  else
    rec_.add_finding(Severity::kNote, Rule::kLoaderDefined,
                     fmt::format("tensor '{}' reads external data from '{}'", t.name,
                                 location.substr(0, 200)),
                     at);
  if (auto it = t.external.find("length"); it != t.external.end()) {
    std::uint64_t length = std::strtoull(it->second.c_str(), nullptr, 10);
    if (length > ctx_.options.max_tensor_bytes)
      rec_.add_finding(Severity::kError, Rule::kResource,
                       fmt::format("tensor '{}' declares {} bytes of external data", t.name,
                                   it->second.substr(0, 40)),
                       at);
  }
}

void OnnxWalker::finish_operators() {
  for (const auto& [key, count] : ops_) {
    const auto& [domain, op_type] = key;
    rec_.operators.push_back({domain, op_type, count});
    std::uint64_t at = op_offsets_[key];
    std::string shown = domain.empty() ? op_type : domain + "::" + op_type;
    if (ctx_.policy.onnx_operator_dangerous(domain, op_type))
      rec_.add_finding(Severity::kError, Rule::kDangerousOperator,
                       fmt::format("operator {} calls back into Python", shown), at);
    else if (!ctx_.policy.onnx_domain_trusted(domain) && !local_functions_.count(key))
      rec_.add_finding(Severity::kWarning, Rule::kCustomOperator,
                       fmt::format("operator {} is outside the standard ONNX domains (needs a "
                                   "custom operator library)",
                                   shown),
                       at);
  }
}

}  // namespace

bool looks_like_onnx(std::string_view head) {
  return !head.empty() && static_cast<unsigned char>(head[0]) == 0x08;
}

Status inspect_onnx(std::string_view data, const InspectContext& ctx, InspectionRecord& rec) {
  rec.format = "onnx";
  OnnxWalker walker(ctx, rec);
  if (auto st = walker.model(data); !st) return st;
  rec.settle_verdict();
  return ok_status();
}

}  // namespace crossload::audit
