#include "formats/skops/inspector.h"

#include <fmt/format.h>
#include <zip.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/npy/inspector.h"

namespace crossload::audit {

namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 256;
constexpr std::size_t kMaxNodes = std::size_t{1} << 22;

// ---------------------------------------------------------------------------------------------
// the zip container (libzip over the mapped bytes; members read with a total output bound)
// ---------------------------------------------------------------------------------------------

class ZipArchive {
 public:
  static Result<std::unique_ptr<ZipArchive>> open(std::string_view data) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(data.data(), data.size(), 0, &err);
    if (!src) return make_error("offset 0: cannot read the zip container");
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
      std::string msg = zip_error_strerror(&err);
      zip_source_free(src);
      zip_error_fini(&err);
      // The central directory sits at the end: that is where a zip is found wanting.
      return make_error(fmt::format("offset {}: corrupt zip container: {}", data.size(), msg));
    }
    zip_error_fini(&err);
    return std::unique_ptr<ZipArchive>(new ZipArchive(z));
  }
  ~ZipArchive() { zip_discard(z_); }

  std::int64_t count() const { return zip_get_num_entries(z_, 0); }
  std::string name(std::int64_t i) const {
    const char* n = zip_get_name(z_, static_cast<zip_uint64_t>(i), 0);
    return n ? n : "";
  }
  // libzip's lookup by name is linear: a model with thousands of array members would make
  // the schema walk quadratic, so the names are indexed once.
  std::int64_t find(const std::string& name) const {
    if (index_.empty())
      for (std::int64_t i = 0; i < count(); ++i) index_.emplace(this->name(i), i);
    auto it = index_.find(name);
    return it == index_.end() ? -1 : it->second;
  }

  // Reads member `i`, charging its size to `budget`; a member past the budget is an error.
  Result<std::string> read(std::int64_t i, std::uint64_t& budget) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z_, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      return make_error(fmt::format("zip member {}: unreadable entry", name(i)));
    zip_file_t* f = zip_fopen_index(z_, static_cast<zip_uint64_t>(i), 0);
    if (!f) return make_error(fmt::format("zip member {}: {}", name(i), zip_strerror(z_)));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> guard(f, zip_fclose);
    std::string out;
    char buf[1 << 16];
    while (true) {
      zip_int64_t n = zip_fread(f, buf, sizeof buf);
      if (n < 0)
        return make_error(fmt::format("zip member {}: corrupt data at member offset {}: {}",
                                      name(i), out.size(), zip_file_strerror(f)));
      if (n == 0) break;
      if (static_cast<std::uint64_t>(n) > budget)
        return make_error(fmt::format("zip member {}: inflates past the --max-decompressed "
                                      "bound",
                                      name(i)));
      budget -= static_cast<std::uint64_t>(n);
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  explicit ZipArchive(zip_t* z) : z_(z) {}
  zip_t* z_;
  mutable std::unordered_map<std::string, std::int64_t> index_;
};

// nlohmann's parser is iterative but a deeply nested value is destroyed recursively: check
// the nesting before parsing.
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// where each name sits in schema.json: nlohmann keeps no positions, so one scan of the text
// records the first offset of every value of the keys that name a callable or type
// ---------------------------------------------------------------------------------------------

// The keys whose string values name what skops imports: `__module__`/`__class__` (every node),
// `module_path`/`function` (FunctionNode of protocol 0), `func` (MethodNode) and
// `bit_generator` (RandomGeneratorNode of protocol 0).
constexpr std::array<std::string_view, 6> kNameKeys{"__module__", "__class__", "module_path",
                                                    "function", "func", "bit_generator"};

std::string name_key(std::string_view key, std::string_view value) {
  return fmt::format("{}={}", key, value);
}
std::string pair_key(std::string_view k1, std::string_view v1, std::string_view k2,
                     std::string_view v2) {
  return fmt::format("{}={}\x1f{}={}", k1, v1, k2, v2);
}

class NameOffsets {
 public:
  // `text` has been parsed by nlohmann already: the scan may assume valid JSON.
  explicit NameOffsets(std::string_view text) { scan(text); }
  // The first offset of `key`'s value `value`, or of the pair (module key, class key) in one
  // object; 0 when unknown.
  std::uint64_t of(const std::string& k) const {
    auto it = first_.find(k);
    return it == first_.end() ? 0 : it->second;
  }

 private:
  struct Frame {
    bool object = false;
    bool expect_key = true;
    std::string key;
    std::unordered_map<std::string, std::pair<std::string, std::uint64_t>> names{};
  };

  void note(const std::string& k, std::uint64_t at) {
    auto [it, inserted] = first_.emplace(k, at);
    if (!inserted && at < it->second) it->second = at;
  }

  void close_object(const Frame& f) {
    auto pair = [&](std::string_view mk, std::string_view ck) {
      auto m = f.names.find(std::string(mk));
      auto c = f.names.find(std::string(ck));
      if (m != f.names.end() && c != f.names.end())
        note(pair_key(mk, m->second.first, ck, c->second.first), m->second.second);
    };
    pair("__module__", "__class__");
    pair("module_path", "function");
  }

  void value(std::vector<Frame>& stack, std::string text, std::uint64_t at) {
    if (stack.empty() || !stack.back().object) return;
    Frame& f = stack.back();
    if (std::find(kNameKeys.begin(), kNameKeys.end(), f.key) == kNameKeys.end()) return;
    note(name_key(f.key, text), at);
    f.names[f.key] = {std::move(text), at};
  }

  void scan(std::string_view t) {
    std::vector<Frame> stack;
    for (std::size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (c == '"') {
        std::size_t start = i + 1, j = start;
        bool escaped = false;
        for (; j < t.size() && t[j] != '"'; ++j)
          if (t[j] == '\\') escaped = true, ++j;
        std::string text(t.substr(start, j - start));
        if (escaped) {  // rare: let nlohmann decode the escapes
          json v = json::parse(t.substr(i, j + 1 - i), nullptr, false);
          text = v.is_string() ? v.get<std::string>() : std::string();
        }
        i = j;
        if (!stack.empty() && stack.back().object && stack.back().expect_key) {
          stack.back().key = std::move(text);
          stack.back().expect_key = false;
        } else {
          value(stack, std::move(text), start);
        }
      } else if (c == '{' || c == '[') {
        stack.emplace_back().object = c == '{';
      } else if (c == '}' || c == ']') {
        if (stack.empty()) return;
        if (stack.back().object) close_object(stack.back());
        stack.pop_back();
      } else if (c == ',' && !stack.empty() && stack.back().object) {
        stack.back().expect_key = true;
      }
    }
  }

  std::unordered_map<std::string, std::uint64_t> first_;
};

// ---------------------------------------------------------------------------------------------
// skops schema: every node names the type (or function) skops would import to rebuild it
// ---------------------------------------------------------------------------------------------

struct SchemaWalk {
  const InspectContext& ctx;
  InspectionRecord& rec;
  std::string_view text;                 // schema.json itself, for offsets
  std::optional<std::int64_t> protocol;  // skops picks its node loaders by it
  std::vector<std::string> array_files;  // members the schema loads as arrays
  std::unordered_map<std::string, Classification> seen{};  // a forest repeats its types
  std::optional<NameOffsets> offsets{};  // built on the first finding: safe files never pay
  std::size_t nodes = 0;
  bool too_many = false;

  std::uint64_t offset_of(const std::string& key) {
    if (!offsets) offsets.emplace(text);
    return offsets->of(key);
  }
};

// What a node makes skops import (or call), and where its name is in schema.json.
struct Callable {
  std::string module;
  std::string name;
  std::string offset_key;  // a NameOffsets key
};

const std::vector<std::string_view>& known_loaders() {
  static const std::vector<std::string_view> kLoaders{
      "DictNode", "DefaultDictNode", "ListNode", "SetNode", "TupleNode", "BytesNode",
      "BytearrayNode", "SliceNode", "FunctionNode", "MethodNode", "PartialNode", "TypeNode",
      "ObjectNode", "JsonNode", "OperatorFuncNode", "NdArrayNode", "MaskedArrayNode",
      "RandomStateNode", "RandomGeneratorNode", "DTypeNode", "SparseMatrixNode", "ReduceNode",
      "TreeNode", "LossNode", "SGDNode", "CachedNode", "ConstructorFromReduceNode",
      "ZoneInfoNode", "QuantileForestNode", "_DictWithDeprecatedKeysNode"};
  return kLoaders;
}

void check_type(SchemaWalk& w, const Callable& callable, const std::string& loader) {
  const std::string& module = callable.module;
  const std::string& cls = callable.name;
  std::string name = module.empty() ? cls : fmt::format("{}.{}", module, cls);
  std::string key = loader + ":" + name;
  if (w.seen.count(key)) return;
  Classification c = w.ctx.policy.classify(module, cls);
  w.seen.emplace(key, c);
  w.rec.add_global(name);
  if (c.trust == Trust::kTrusted) return;
  std::uint64_t at = w.offset_of(callable.offset_key);
  if (c.trust == Trust::kDangerous)
    w.rec.add_finding(Severity::kError, Rule::kDangerousGlobal,
                      fmt::format("{} would import {} ({})", loader, name, c.category), at);
  else
    w.rec.add_finding(Severity::kWarning, Rule::kUntrustedGlobal,
                      fmt::format("{} would import {}, which is not in the trusted set", loader,
                                  name),
                      at);
}

void note_version(SchemaWalk& w, const json& dict_content) {
  auto it = dict_content.find("_sklearn_version");
  if (it == dict_content.end() || !it->is_object()) return;
  auto content = it->find("content");
  if (content == it->end() || !content->is_string()) return;
  // JsonNode content is itself JSON text: "\"1.9.1\"".
  json v = json::parse(content->get<std::string>(), nullptr, false);
  if (v.is_string()) w.rec.add_version(v.get<std::string>());
}

void walk(SchemaWalk& w, const json& node);

void walk_children(SchemaWalk& w, const json& node) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items())
      if (value.is_structured()) walk(w, value);
  } else if (node.is_array()) {
    for (const auto& value : node)
      if (value.is_structured()) walk(w, value);
  }
}

const json* member(const json& node, std::string_view key) {
  if (!node.is_object()) return nullptr;
  auto it = node.find(key);
  return it == node.end() ? nullptr : &*it;
}

const std::string* string_member(const json& node, std::string_view key) {
  const json* v = member(node, key);
  return v && v->is_string() ? v->get_ptr<const std::string*>() : nullptr;
}

Callable class_callable(const std::string& module, const std::string& cls) {
  return {module, cls, pair_key("__module__", module, "__class__", cls)};
}

// The bit generator a RandomGeneratorNode calls: `numpy.random.<name>()`. Protocol 0 keeps it
// as a raw string, later protocols in a DictNode whose JsonNode holds it as JSON text.
std::optional<Callable> bit_generator_callable(const json& node, const Callable& self) {
  const json* content = member(node, "content");
  const json* bg = content ? member(*content, "bit_generator") : nullptr;
  if (!bg) return std::nullopt;
  if (const std::string* raw = string_member(*bg, "bit_generator"))
    return Callable{"numpy.random", *raw, name_key("bit_generator", *raw)};
  const json* dict = member(*bg, "content");
  const json* inner = dict ? member(*dict, "bit_generator") : nullptr;
  const std::string* text = inner ? string_member(*inner, "content") : nullptr;
  if (!text) return std::nullopt;
  json name = json::parse(*text, nullptr, false);
  if (!name.is_string()) return std::nullopt;
  return Callable{"numpy.random", name.get<std::string>(), self.offset_key};
}

// Every callable or type a node makes skops import. Most nodes name it in `__module__` and
// `__class__`; some keep it in their content, where the real import is (skops' own loaders:
// skops/io/_general.py, _numpy.py and old/_general_v0.py).
std::vector<Callable> callables_of(const SchemaWalk& w, const std::string& loader,
                                   const json& node) {
  const std::string* m = string_member(node, "__module__");
  const std::string* c = string_member(node, "__class__");
  std::vector<Callable> out;
  std::optional<Callable> self;
  if (m && c) self = class_callable(*m, *c);
  const json* content = member(node, "content");
  if (loader == "FunctionNode" && content) {
    // Protocol 0 imports content.module_path + content.function and ignores __class__; later
    // protocols do the opposite. The file chooses its protocol, so a content callable is
    // always judged, and __class__ too unless the file says protocol 0.
    const std::string* path = string_member(*content, "module_path");
    const std::string* fn = string_member(*content, "function");
    if (path && fn)
      out.push_back({*path, *fn, pair_key("module_path", *path, "function", *fn)});
    if (path && fn && w.protocol == 0) return out;
  }
  if (!self) return out;
  if (loader == "MethodNode" && content) {
    if (const std::string* func = string_member(*content, "func")) {  // getattr(obj, func)
      out.push_back({*m, *c + "." + *func, name_key("func", *func)});
      return out;
    }
  }
  if (loader == "RandomGeneratorNode")
    if (auto bg = bit_generator_callable(node, *self)) out.push_back(std::move(*bg));
  out.push_back(std::move(*self));
  return out;
}

void walk_node(SchemaWalk& w, const json& node) {
  std::string loader = node["__loader__"].is_string() ? node["__loader__"].get<std::string>()
                                                      : "";
  if (std::find(known_loaders().begin(), known_loaders().end(), loader) ==
      known_loaders().end())
    w.rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                      fmt::format("unknown skops node type '{}' (skops refuses to load it)",
                                  loader.substr(0, 80)),
                      0);
  if (loader == "CachedNode") return;  // a reference to a node met before
  if (loader == "JsonNode") return;    // json.loads of its content: it imports nothing
  std::vector<Callable> callables = callables_of(w, loader, node);
  if (callables.empty())
    w.rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                      fmt::format("{} without a module and class name", loader), 0);
  for (const Callable& callable : callables) check_type(w, callable, loader);
  if (node.contains("file") && node["file"].is_string())
    w.array_files.push_back(node["file"].get<std::string>());
  if (loader == "DictNode" && node.contains("content") && node["content"].is_object())
    note_version(w, node["content"]);
}

void walk(SchemaWalk& w, const json& node) {
  if (++w.nodes > kMaxNodes) {
    w.too_many = true;
    return;
  }
  if (node.is_object() && node.contains("__loader__")) walk_node(w, node);
  walk_children(w, node);
}

Status inspect_arrays(const ZipArchive& zip, const std::vector<std::string>& files,
                      const InspectContext& ctx, InspectionRecord& rec, std::uint64_t& budget) {
  for (const auto& file : files) {
    std::int64_t i = zip.find(file);
    if (i < 0) {
      rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                      fmt::format("schema refers to missing member '{}'", file.substr(0, 200)),
                      0);
      continue;
    }
    auto bytes = zip.read(i, budget);
    if (!bytes) return bytes.error();
    if (!bytes->starts_with("\x93NUMPY")) continue;  // sparse matrices are .npz members
    if (auto st = inspect_npy_member(*bytes, file, ctx, rec); !st)
      return make_error(fmt::format("zip member {}: {}", file, st.error().message));
  }
  return ok_status();
}

Status inspect_npz(const ZipArchive& zip, const InspectContext& ctx, InspectionRecord& rec) {
  rec.format = "npz";
  std::uint64_t budget = ctx.options.max_decompressed;
  for (std::int64_t i = 0; i < zip.count(); ++i) {
    std::string name = zip.name(i);
    auto bytes = zip.read(i, budget);
    if (!bytes) return bytes.error();
    if (!bytes->starts_with("\x93NUMPY")) {
      rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                      fmt::format("member '{}' is not a .npy array", name.substr(0, 200)), 0);
      continue;
    }
    if (auto st = inspect_npy_member(*bytes, name, ctx, rec); !st)
      return make_error(fmt::format("zip member {}: {}", name, st.error().message));
  }
  return ok_status();
}

}  // namespace

namespace {

Status walk_schema(std::string_view schema_json, const InspectContext& ctx,
                   InspectionRecord& rec, std::vector<std::string>* array_files) {
  if (!nesting_within(schema_json, kMaxJsonDepth))
    return make_error(fmt::format("schema.json nests deeper than {} levels", kMaxJsonDepth));
  json schema = json::parse(schema_json, nullptr, false);
  if (schema.is_discarded() || !schema.is_object())
    return make_error("schema.json is not a JSON object");
  if (schema.contains("protocol") && schema["protocol"].is_number_integer())
    rec.protocol = schema["protocol"].get<std::int64_t>();
  SchemaWalk w{ctx, rec, schema_json, rec.protocol, {}};
  walk(w, schema);
  if (w.too_many) return make_error("schema.json has too many nodes for the inspector");
  if (array_files) *array_files = std::move(w.array_files);
  return ok_status();
}

}  // namespace

Status inspect_skops_schema(std::string_view schema_json, const InspectContext& ctx,
                            InspectionRecord& rec) {
  return walk_schema(schema_json, ctx, rec, nullptr);
}

Status inspect_zip_artifact(std::string_view data, const InspectContext& ctx,
                            InspectionRecord& rec) {
  auto zip = ZipArchive::open(data);
  if (!zip) return zip.error();
  std::int64_t schema = (*zip)->find("schema.json");
  if (schema < 0) {
    auto st = inspect_npz(**zip, ctx, rec);
    rec.settle_verdict();
    return st;
  }
  rec.format = "skops";
  std::uint64_t budget = ctx.options.max_decompressed;
  auto text = (*zip)->read(schema, budget);
  if (!text) return text.error();
  std::vector<std::string> files;
  if (auto st = walk_schema(*text, ctx, rec, &files); !st)
    return make_error(fmt::format("zip member schema.json: {}", st.error().message));
  if (auto st = inspect_arrays(**zip, files, ctx, rec, budget); !st) return st;
  rec.settle_verdict();
  return ok_status();
}

}  // namespace crossload::audit
