#include "formats/pickle/inspector.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace crossload::audit {

namespace {

using ValueId = std::uint32_t;
constexpr ValueId kNoValue = UINT32_MAX;
// Value::ref of a bytes value holding its first two bytes (see op_text).
constexpr std::uint32_t kBytesHead = 0x10000;
constexpr std::uint32_t bytes_head(std::uint8_t first, std::uint8_t second) {
  return kBytesHead | std::uint32_t{first} << 8 | second;
}
constexpr std::size_t kMaxDistinctGlobals = 65536;

enum class Kind : std::uint8_t {
  kNone, kBool, kInt, kFloat, kStr, kBytes, kTuple, kList, kDict, kSet, kFrozenSet,
  kGlobal,   // an imported object (class, function, module)
  kCall,     // the result of REDUCE: callable(*args)
  kObject,   // the result of NEWOBJ / NEWOBJ_EX / OBJ / INST
  kBuffer,   // an out-of-band buffer (NEXT_BUFFER)
  kUnknown,  // persistent ids, extension codes
};

// Taint carried by symbolic values.
enum : std::uint8_t {
  kFlagCode = 1,      // is or contains by-value code (a code object, a function built on one)
  kFlagDynClass = 2,  // a class defined by value (cloudpickle skeleton class)
  kFlagHooked = 4,    // a by-value class defining methods the loader itself calls
  kFlagDescribed = 8,  // read by describe_dtype: changing it makes Machine::dtypes_ stale
};

// What a few well-known globals mean to the abstract interpreter.
enum class Role : std::uint8_t {
  kPlain, kReconstruct, kFromBuffer, kDtype, kCodecsEncode, kUfuncReconstruct, kArrayWrapper,
  kLegacyWrapper, kCodeCtor, kFunctionCtor, kSkeletonClass, kClassSetstate, kSubimport,
  kBuiltinType,
};

// A run of the Machine's item pool. Values hold no heap memory of their own: a model's pickle
// makes tens of thousands of tuples and dicts, each an allocation and a free when they held a
// vector.
struct Items {
  std::uint32_t first = 0, size = 0, capacity = 0;
};

// 40 bytes: a model's pickle makes tens of thousands, each written once and copied when the
// vector grows. What only some kinds use shares one union, read only after checking the kind.
struct Value {
  Kind kind = Kind::kUnknown;
  std::uint8_t flags = 0;
  bool number_known = false;     // kInt: `number` holds it (it fits in 64 bits); kBool
  std::uint32_t ref = kNoValue;  // kGlobal: index in globals_; kCall/kObject: the callee
  ValueId args = kNoValue;       // kCall/kObject: the argument tuple
  ValueId state = kNoValue;      // set by BUILD
  std::uint64_t offset = 0;      // of the opcode that made it
  union {
    // tuple/list/set items; dict: key, value, key, value... (in the item pool). Also those
    // of calls, objects, globals and unknowns that APPENDS/SETITEMS add to.
    Items items{};
    std::int64_t number;  // kInt, kBool
    struct {              // kStr (UTF-8); a string_view could not sit in the union
      const char* data;
      std::size_t size;
    } chars;
    std::uint64_t units;  // kBytes: byte count (of the latin-1 text for _codecs.encode)
  };
  std::string_view text() const { return {chars.data, chars.size}; }
  void set_text(std::string_view s) { chars = {s.data(), s.size()}; }
};

Value made(Kind kind, std::uint64_t at) {
  Value v;
  v.kind = kind;
  v.offset = at;
  return v;
}
static_assert(sizeof(Value) == 40);

struct GlobalInfo {
  QualifiedName name;
  Classification cls;
  Role role = Role::kPlain;
};

// Views only (into the pickle, or literals): every array of a forest describes its dtype.
struct DtypeDesc {
  std::string_view code;   // "f8", "V64", "O8"; empty if unknown
  std::string_view byte_order = "unknown";
  std::uint64_t itemsize = 0;  // 0 if unknown
  bool object = false;
};

struct RoleEntry {
  std::string_view name;
  Role role;
};
const std::array<RoleEntry, 27> kRoles{{
    {"numpy._core.multiarray._reconstruct", Role::kReconstruct},
    {"numpy.core.multiarray._reconstruct", Role::kReconstruct},
    {"numpy._core._multiarray_umath._reconstruct", Role::kReconstruct},
    {"numpy._core.numeric._frombuffer", Role::kFromBuffer},
    {"numpy.core.numeric._frombuffer", Role::kFromBuffer},
    {"numpy.dtype", Role::kDtype},
    {"_codecs.encode", Role::kCodecsEncode},
    {"codecs.encode", Role::kCodecsEncode},
    {"numpy._core._ufunc_reconstruct", Role::kUfuncReconstruct},
    {"numpy.core._ufunc_reconstruct", Role::kUfuncReconstruct},
    {"joblib.numpy_pickle.NumpyArrayWrapper", Role::kArrayWrapper},
    {"sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper", Role::kArrayWrapper},
    {"joblib.numpy_pickle_compat.NDArrayWrapper", Role::kLegacyWrapper},
    {"joblib.numpy_pickle_compat.ZNDArrayWrapper", Role::kLegacyWrapper},
    {"types.CodeType", Role::kCodeCtor},
    {"types.FunctionType", Role::kFunctionCtor},
    {"types.LambdaType", Role::kFunctionCtor},
    {"cloudpickle.cloudpickle._make_function", Role::kFunctionCtor},
    {"cloudpickle.cloudpickle._make_skeleton_class", Role::kSkeletonClass},
    {"cloudpickle.cloudpickle._make_skeleton_enum", Role::kSkeletonClass},
    {"cloudpickle.cloudpickle_fast._make_skeleton_class", Role::kSkeletonClass},
    {"cloudpickle.cloudpickle._class_setstate", Role::kClassSetstate},
    {"cloudpickle.cloudpickle_fast._class_setstate", Role::kClassSetstate},
    {"cloudpickle.cloudpickle.subimport", Role::kSubimport},
    {"cloudpickle.cloudpickle.dynamic_subimport", Role::kSubimport},
    {"cloudpickle.cloudpickle._builtin_type", Role::kBuiltinType},
    {"cloudpickle.cloudpickle_fast._builtin_type", Role::kBuiltinType},
}};

// Methods of a by-value class that the unpickler itself may call while loading.
const std::array<std::string_view, 21> kLoadHooks{
    "__setstate__", "__new__", "__init__", "__reduce__", "__reduce_ex__", "__setattr__",
    "__getattr__", "__getattribute__", "__del__", "__hash__", "__eq__", "__set_name__",
    "__init_subclass__", "__class_getitem__", "__setitem__", "__set__", "__missing__",
    "append", "extend", "add", "__index__"};

Role role_of(const std::string& joined) {
  for (const auto& r : kRoles)
    if (r.name == joined) return r.role;
  return Role::kPlain;
}

std::string hex_byte(std::uint8_t b) { return fmt::format("0x{:02x}", b); }

// Number of code points in UTF-8 text: the byte count of its latin-1 encoding.
std::uint64_t utf8_code_points(std::string_view s) {
  std::uint64_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<std::uint32_t> parse_hex(std::string_view s) {
  std::uint32_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint32_t>(d);
  }
  return v;
}

// Protocol 0 UNICODE: raw-unicode-escape, i.e. latin-1 plus \uXXXX and \UXXXXXXXX.
std::string decode_raw_unicode_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
      std::size_t width = s[i + 1] == 'u' ? 4 : 8;
      if (i + 2 + width <= s.size())
        if (auto cp = parse_hex(s.substr(i + 2, width)); cp && *cp <= 0x10FFFF) {
          append_utf8(out, *cp);
          i += 1 + width;
          continue;
        }
    }
    append_utf8(out, static_cast<unsigned char>(s[i]));
  }
  return out;
}

// Protocol 0 STRING: a quoted Python literal with backslash escapes.
std::string decode_string_escapes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\n': break;
      case 'x': {
        auto v = i + 2 < s.size() ? parse_hex(s.substr(i + 1, 2)) : std::nullopt;
        if (v) {
          out += static_cast<char>(*v);
          i += 2;
        } else {
          out += "\\x";
        }
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v & 0xFF);
        } else {
          out += c;  // \\ \' \" and unknown escapes keep the character
        }
    }
  }
  return out;
}

// INT / LONG / GET / PUT arguments: a decimal (C's strtol base 0 also takes 0x and 0o forms).
struct ParsedInt {
  std::int64_t value = 0;
  bool fits = false;
};
std::optional<ParsedInt> parse_int_line(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  ParsedInt out;
  out.fits = true;
  std::uint64_t v = 0;
  bool decimal = true;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (v > (static_cast<std::uint64_t>(INT64_MAX) - 9) / 10) out.fits = false;
      if (out.fits) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      decimal = false;
    } else {
      return std::nullopt;
    }
  }
  if (!decimal) out.fits = false;
  out.value = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return out;
}

// Decodes LONG1/LONG4 little-endian two's complement bytes when they fit in 64 bits.
ParsedInt decode_long_bytes(std::string_view b) {
  ParsedInt out;
  if (b.empty()) {
    out.fits = true;
    return out;
  }
  if (b.size() > 8) return out;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < b.size(); ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
  if (b.size() < 8 && (static_cast<unsigned char>(b.back()) & 0x80))
    v |= ~std::uint64_t{0} << (8 * b.size());
  out.value = static_cast<std::int64_t>(v);
  out.fits = true;
  return out;
}

bool is_opcode(std::uint8_t b) {
  static constexpr std::string_view kOps =
      "(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])GBC";
  return kOps.find(static_cast<char>(b)) != std::string_view::npos || (b >= 0x80 && b <= 0x98);
}

// ---------------------------------------------------------------------------------------------
// The abstract unpickler: one instance per pickle (each has its own stack and memo).
// ---------------------------------------------------------------------------------------------
// The unpickler's memo. Picklers number entries 0, 1, 2...: those live in a vector; an index
// far past the others (a hostile file's) goes to a map, so memory follows the entries made.
class Memo {
 public:
  std::optional<ValueId> get(std::uint64_t index) const {
    if (index < dense_.size()) {
      if (dense_[index] == kNoValue) return std::nullopt;
      return dense_[index];
    }
    auto it = sparse_.find(index);
    if (it == sparse_.end()) return std::nullopt;
    return it->second;
  }
  void put(std::uint64_t index, ValueId v) {
    if (index < dense_.size()) {  // the usual case, first
      count_ += dense_[index] == kNoValue;
      dense_[index] = v;
      return;
    }
    put_new(index, v);
  }
  // What CPython's MEMOIZE uses as the next index: the number of entries.
  std::uint64_t size() const { return count_; }

 private:
  void put_new(std::uint64_t index, ValueId v) {
    if (index >= dense_.size() && index <= 2 * dense_.size() + 1024) {
      if (auto it = sparse_.find(index); it != sparse_.end()) {
        sparse_.erase(it);
        --count_;
      }
      dense_.resize(std::max<std::size_t>(index + 1, 2 * dense_.size()), kNoValue);
    }
    if (index < dense_.size()) {
      count_ += dense_[index] == kNoValue;
      dense_[index] = v;
      return;
    }
    count_ += sparse_.insert_or_assign(index, v).second;
  }

  std::vector<ValueId> dense_;  // kNoValue where unset
  std::unordered_map<std::uint64_t, ValueId> sparse_;
  std::uint64_t count_ = 0;
};

// Opcodes that exist only in the binary protocols (1 and up).
constexpr std::array<bool, 256> binary_opcodes() {
  std::array<bool, 256> t{};
  for (int op = 0x80; op < 0x100; ++op) t[op] = true;
  for (unsigned char op : std::string_view("BCGJKMQTUXhjqr}])euo")) t[op] = true;
  return t;
}
constexpr std::array<bool, 256> kBinaryOpcode = binary_opcodes();

class Machine {
 public:
  Machine(ByteReader& in, const Policy& policy, const PickleScanOptions& opts,
          InspectionRecord& rec, PickleScanSummary& summary)
      : in_(in), policy_(policy), opts_(opts), rec_(rec), summary_(summary) {}

  // Runs until STOP. `first_opcode_bad` tells a caller whether nothing pickle-like was found.
  Status run();
  bool failed_on_first_opcode() const { return opcodes_ == 1 && !first_ok_; }

 private:
  using Handler = Status (Machine::*)(std::uint8_t op, std::uint64_t at);

  Error fail(std::uint64_t at, std::string_view what) const {
    return make_error(fmt::format("offset {}: {}", at, what));
  }
  Error truncated(std::uint64_t at, std::string_view what) const {
    if (in_.source_error()) return *in_.source_error();  // a corrupt compressed stream
    return fail(at, fmt::format("truncated {} (file ends at offset {})", what,
                                in_.base() + in_.data().size()));
  }

  // values and the stack
  Result<ValueId> make(const Value& v);
  Status push(ValueId id);
  Status push_new(const Value& v);
  Status push_scalar(const Value& v);
  Result<ValueId> pop(std::uint64_t at);
  Result<ValueId> top(std::uint64_t at);
  Result<std::span<const ValueId>> pop_mark(std::uint64_t at);
  const Value& val(ValueId id) const { return values_[id]; }
  Value& val(ValueId id) { return values_[id]; }
  std::optional<std::string_view> const_str(ValueId id) const;
  std::optional<std::int64_t> const_int(ValueId id) const;
  const Value* tuple_item(ValueId tuple, std::size_t i) const;
  std::span<const ValueId> items_of(const Value& v) const;
  std::span<const ValueId> items_of(ValueId id) const { return items_of(val(id)); }
  Items store_items(std::span<const ValueId> ids);
  Status append_items(ValueId container, std::span<const ValueId> ids, std::uint64_t at);
  ValueId dict_get(ValueId dict, std::string_view key) const;

  // reading arguments
  Result<std::string_view> read_bytes(std::uint64_t n, std::uint64_t at, std::string_view what);
  Result<std::uint64_t> read_le(unsigned width, std::uint64_t at, std::string_view what);
  Result<std::string_view> read_line(std::uint64_t at, std::string_view what);
  std::string_view own(std::string s) {
    owned_.push_back(std::move(s));
    return owned_.back();
  }
  // Text a value keeps: a view into the pickle, or a copy when the pickle is streamed (its
  // window moves on). A streamed string longer than kMaxStreamedText keeps its first bytes.
  std::string_view keep(std::string_view text) {
    return in_.streaming() ? own(std::string(text)) : text;
  }
  static constexpr std::size_t kMaxStreamedText = std::size_t{1} << 20;
  Result<std::string_view> read_text(std::uint64_t n, std::uint64_t at);

  // opcode groups
  void fast_run();
  ValueId fast_make(Kind kind, std::uint64_t at);
  void fast_tuple(std::size_t first, std::uint64_t at);
  Status op_dispatch(std::uint8_t op, std::uint64_t at);
  Status op_stack(std::uint8_t op, std::uint64_t at);
  Status op_number(std::uint8_t op, std::uint64_t at);
  Status op_text(std::uint8_t op, std::uint64_t at);
  Status op_container(std::uint8_t op, std::uint64_t at);
  Status op_memo(std::uint8_t op, std::uint64_t at);
  Status op_global(std::uint8_t op, std::uint64_t at);
  Status op_call(std::uint8_t op, std::uint64_t at);
  Status op_build(std::uint64_t at);
  Status build(ValueId inst, ValueId state, std::uint64_t at);
  Role role_of_callee(ValueId id) const;
  Status op_loader_defined(std::uint8_t op, std::uint64_t at);

  // semantics
  Result<ValueId> import_global(std::string_view module, std::string_view name,
                                std::uint64_t at);
  Result<std::uint32_t> global_slot(std::string_view module, std::string_view name,
                                    std::uint64_t at);
  Result<ValueId> import_distrusted(const GlobalInfo& g, std::uint32_t slot, std::uint64_t at);
  Result<ValueId> call(ValueId callee, ValueId args, Kind kind, std::uint64_t at);
  Status check_callee(ValueId callee, std::uint64_t at);
  Status apply_role(Role role, ValueId result, std::uint64_t at);
  Status role_import_by_name(Role role, ValueId result, std::uint64_t at);
  void role_code(Role role, ValueId result, std::uint64_t at);
  void role_class_setstate(ValueId result);
  void judge_code(ValueId args, std::string_view what);
  void note_code_python(ValueId args);
  void role_codecs(ValueId result, std::uint64_t at);
  Status add_items(ValueId container, std::span<const ValueId> items, std::uint64_t at);
  Status check_mutation_target(ValueId target, std::uint64_t at, std::string_view how);
  void note_version(ValueId key, ValueId value);

  // arrays
  DtypeDesc describe_dtype(ValueId id);
  DtypeDesc describe_dtype(ValueId id, int depth, int& budget);
  void changing(ValueId id) {
    if (val(id).flags & kFlagDescribed) dtypes_.clear();
  }
  std::optional<std::vector<std::uint64_t>> shape_of(ValueId id) const;
  void add_array(const DtypeDesc& d, std::vector<std::uint64_t> shape, std::uint64_t bytes,
                 std::uint64_t offset, std::string_view where, bool check_size);
  void array_from_reconstruct(ValueId state, std::uint64_t at);
  void array_from_buffer(ValueId args, std::uint64_t at);
  Status array_from_wrapper(ValueId state, std::uint64_t at);
  void legacy_wrapper(ValueId state, std::uint64_t at);

  ByteReader& in_;
  const Policy& policy_;
  const PickleScanOptions& opts_;
  InspectionRecord& rec_;
  PickleScanSummary& summary_;
  std::vector<Value> values_;
  std::vector<ValueId> stack_;
  std::vector<ValueId> pool_;    // every container's items (see Items)
  std::vector<ValueId> marked_;  // pop_mark's result
  std::vector<std::size_t> marks_;
  Memo memo_;
  // Shared scalars: None, False, True, any float, ints 0..1023 (see push_scalar).
  std::array<ValueId, 4 + 1024> scalars_ = filled_scalars();
  static std::array<ValueId, 4 + 1024> filled_scalars() {
    std::array<ValueId, 4 + 1024> a;
    a.fill(kNoValue);
    return a;
  }
  std::vector<GlobalInfo> globals_;
  std::unordered_map<std::string, std::uint32_t> global_index_;
  std::unordered_map<std::string, std::uint32_t> spelled_index_;  // see global_slot
  std::string spelled_;
  std::deque<std::string> owned_;
  // describe_dtype's answers: a forest's thousands of arrays share a few dtypes via the memo.
  // Values they were read from are flagged kFlagDescribed; BUILD or added items on one of
  // those (never seen in a real model) drop them all.
  std::unordered_map<ValueId, DtypeDesc> dtypes_;
  int proto_ = 0;
  std::uint64_t opcodes_ = 0;
  bool first_ok_ = false;
  bool stopped_ = false;
};

// ---------------------------------------------------------------------------------------------
// values and the stack (fence semantics of CPython's C unpickler)
// ---------------------------------------------------------------------------------------------

Result<ValueId> Machine::make(const Value& v) {
  if (values_.size() >= opts_.max_values)
    return fail(v.offset, fmt::format("more than {} objects in one pickle: refusing to go on "
                                      "(a bound of the inspector)",
                                      opts_.max_values));
  values_.push_back(v);
  return static_cast<ValueId>(values_.size() - 1);
}

Status Machine::push(ValueId id) {
  stack_.push_back(id);
  return ok_status();
}

Status Machine::push_new(const Value& v) {
  auto id = make(v);
  if (!id) return id.error();
  return push(*id);
}

// Scalars carry no identity the audit needs: None, bools, floats and small ints are shared,
// so a pickled list of millions of numbers costs an index each, not a Value each.
Status Machine::push_scalar(const Value& v) {
  std::int64_t slot = -1;
  if (v.kind == Kind::kNone) slot = 0;
  else if (v.kind == Kind::kBool) slot = 1 + (v.number != 0);
  else if (v.kind == Kind::kFloat) slot = 3;
  else if (v.kind == Kind::kInt && v.number_known && v.number >= 0 && v.number < 1024)
    slot = 4 + v.number;
  if (slot < 0) return push_new(v);
  ValueId& shared = scalars_[static_cast<std::size_t>(slot)];
  if (shared == kNoValue) {
    auto id = make(v);
    if (!id) return id.error();
    shared = *id;
  }
  return push(shared);
}

Result<ValueId> Machine::pop(std::uint64_t at) {
  std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) return fail(at, "unpickling stack underflow");
  ValueId id = stack_.back();
  stack_.pop_back();
  return id;
}

Result<ValueId> Machine::top(std::uint64_t at) {
  std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) return fail(at, "unpickling stack underflow");
  return stack_.back();
}

// The items above the topmost MARK, valid until the next pop_mark (a reused buffer).
Result<std::span<const ValueId>> Machine::pop_mark(std::uint64_t at) {
  if (marks_.empty()) return fail(at, "could not find MARK");
  std::size_t mark = marks_.back();
  marks_.pop_back();
  marked_.assign(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
  stack_.resize(mark);
  return std::span<const ValueId>(marked_);
}

std::span<const ValueId> Machine::items_of(const Value& v) const {
  return {pool_.data() + v.items.first, v.items.size};
}

Items Machine::store_items(std::span<const ValueId> ids) {
  Items run{static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(ids.size()),
            static_cast<std::uint32_t>(ids.size())};
  pool_.insert(pool_.end(), ids.begin(), ids.end());
  return run;
}

// Appends in place while the run has room or ends the pool; else moves the run to the end with
// twice the room, so a list built by many APPENDs costs amortised O(1) per item.
Status Machine::append_items(ValueId container, std::span<const ValueId> ids, std::uint64_t at) {
  Items& run = val(container).items;
  std::size_t needed = std::size_t{run.size} + ids.size();
  if (pool_.size() + needed > opts_.max_values * 4)
    return fail(at, fmt::format("more than {} container items in one pickle: refusing to go on "
                                "(a bound of the inspector)", opts_.max_values * 4));
  if (needed > run.capacity) {
    if (run.first + run.capacity == pool_.size()) {
      pool_.resize(run.first + std::max(needed, std::size_t{run.capacity} * 2));
    } else {
      std::size_t first = pool_.size();
      pool_.resize(first + std::max(needed, std::size_t{run.capacity} * 2));
      std::copy_n(pool_.begin() + run.first, run.size, pool_.begin() + static_cast<std::ptrdiff_t>(first));
      run.first = static_cast<std::uint32_t>(first);
    }
    run.capacity = static_cast<std::uint32_t>(pool_.size() - run.first);
  }
  std::copy(ids.begin(), ids.end(), pool_.begin() + run.first + run.size);
  run.size = static_cast<std::uint32_t>(needed);
  return ok_status();
}

std::optional<std::string_view> Machine::const_str(ValueId id) const {
  if (id == kNoValue || val(id).kind != Kind::kStr) return std::nullopt;
  return val(id).text();
}

std::optional<std::int64_t> Machine::const_int(ValueId id) const {
  if (id == kNoValue) return std::nullopt;
  const Value& v = val(id);
  if ((v.kind == Kind::kInt || v.kind == Kind::kBool) && v.number_known) return v.number;
  return std::nullopt;
}

const Value* Machine::tuple_item(ValueId tuple, std::size_t i) const {
  if (tuple == kNoValue || val(tuple).kind != Kind::kTuple) return nullptr;
  auto items = items_of(tuple);
  return i < items.size() ? &val(items[i]) : nullptr;
}

ValueId Machine::dict_get(ValueId dict, std::string_view key) const {
  if (dict == kNoValue || val(dict).kind != Kind::kDict) return kNoValue;
  auto items = items_of(dict);
  ValueId found = kNoValue;  // the last assignment wins, as in a dict
  for (std::size_t i = 0; i + 1 < items.size(); i += 2)
    if (const_str(items[i]) == key) found = items[i + 1];
  return found;
}

Result<std::string_view> Machine::read_bytes(std::uint64_t n, std::uint64_t at,
                                             std::string_view what) {
  auto b = in_.take(n);
  // (The whole rest is counted: a stream's window may hold only part of it.)
  if (!b) return truncated(at, fmt::format("{} ({} bytes declared, {} left)", what, n,
                                           in_.skip_rest()));
  return *b;
}

// A str payload. A streamed one longer than kMaxStreamedText keeps its first bytes only: no
// name is that long, and the window stays bounded.
Result<std::string_view> Machine::read_text(std::uint64_t n, std::uint64_t at) {
  constexpr std::string_view kWhat = "string or bytes payload";
  if (!in_.streaming() || n <= kMaxStreamedText) {
    auto b = read_bytes(n, at, kWhat);
    if (!b) return b;
    return keep(*b);
  }
  std::uint64_t start = in_.offset();
  auto head = in_.take(kMaxStreamedText);
  std::string_view text = head ? keep(*head) : std::string_view();
  if (!head || !in_.skip(n - kMaxStreamedText))
    return truncated(at, fmt::format("{} ({} bytes declared, {} left)", kWhat, n,
                                     in_.offset() - start + in_.skip_rest()));
  return text;
}

Result<std::uint64_t> Machine::read_le(unsigned width, std::uint64_t at, std::string_view what) {
  auto v = in_.take_le(width);
  if (!v) return truncated(at, what);
  return *v;
}

Result<std::string_view> Machine::read_line(std::uint64_t at, std::string_view what) {
  auto line = in_.take_line();
  if (!line) return truncated(at, fmt::format("{} (no newline)", what));
  return *line;
}

// ---------------------------------------------------------------------------------------------
// the opcode loop
// ---------------------------------------------------------------------------------------------

Status Machine::run() {
  while (!stopped_) {
    fast_run();
    std::uint64_t at = in_.offset();
    auto op = in_.peek();
    if (!op) return truncated(at, "pickle: no STOP opcode");
    in_.take(1);
    ++opcodes_;
    if (auto st = op_dispatch(*op, at); !st) return st;
    if (opcodes_ == 1) first_ok_ = true;
  }
  return ok_status();
}

// Little-endian argument bytes; the caller has checked that they are there.
std::uint64_t load_le(const unsigned char* p, unsigned width) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

// Only called once fast_run has checked the bound on objects.
ValueId Machine::fast_make(Kind kind, std::uint64_t at) {
  Value& v = values_.emplace_back();
  v.kind = kind;
  v.offset = at;
  return static_cast<ValueId>(values_.size() - 1);
}

// A tuple of the stack's items from `first` up, which it replaces.
void Machine::fast_tuple(std::size_t first, std::uint64_t at) {
  std::span<const ValueId> items(stack_.data() + first, stack_.size() - first);
  std::uint8_t flags = 0;
  for (ValueId id : items) flags |= val(id).flags & kFlagCode;
  Items run = store_items(items);
  ValueId id = fast_make(Kind::kTuple, at);
  val(id).flags = flags;
  val(id).items = run;
  stack_.resize(first);
  stack_.push_back(id);
}

// The dozen opcodes that make up nearly all of a model's pickle, run back to back in the case
// where they cannot fail: argument bytes are checked once, no Result is built, and the cursor
// and counters stay in locals until the run ends. The run stops before any other opcode, and
// before one that could fail in any way (a truncation, an underflow, a missing memo entry, the
// object bound, a huge memo index, a scalar not yet shared), having changed nothing for it:
// op_dispatch then handles it with its own messages, so the two paths agree.
[[gnu::flatten]] void Machine::fast_run() {
  std::string_view data = in_.data();
  const auto* begin = reinterpret_cast<const unsigned char*>(data.data());
  const auto* end = begin + data.size();
  const auto* p = begin + in_.pos();
  std::uint64_t done = 0;
  bool binary = false;
  // Once a binary opcode was seen (PROTO opens every protocol 2+ pickle) there is no need to
  // look again.
  const bool note_binary = !summary_.saw_binary_opcode;
  std::size_t used = 0;  // by the opcode at p: itself and its argument bytes
  // Of the opcode at p: only the opcodes that make a value need it.
  auto at = [&] { return in_.base() + static_cast<std::uint64_t>(p - begin); };
  // Computed only by the opcodes that need them.
  auto above = [&] { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); };
  auto room = [&] { return values_.size() < opts_.max_values; };
  auto shared = [&](std::size_t slot) {
    if (scalars_[slot] == kNoValue) return false;
    stack_.push_back(scalars_[slot]);
    return true;
  };
  auto get = [&](std::uint64_t index, std::size_t width) {
    auto found = memo_.get(index);
    if (!found) return false;
    stack_.push_back(*found);
    used += width;
    return true;
  };
  auto put = [&](std::uint64_t index, std::size_t width) {
    if (above() == 0 || index > (std::uint64_t{1} << 26)) return false;  // op_memo reports
    memo_.put(index, stack_.back());
    used += width;
    return true;
  };
  // The opcode at p; false (having changed nothing) if it is not for this path.
  auto one = [&](std::uint8_t op, std::size_t left) {
    switch (op) {
      case 'h':  // BINGET
        if (left < 1) return false;
        return get(p[1], 1);
      case 'j':  // LONG_BINGET
        if (left < 4) return false;
        return get(load_le(p + 1, 4), 4);
      case 0x94:  // MEMOIZE: the next free slot, as CPython counts it
        return put(memo_.size(), 0);
      case 'q':  // BINPUT
        if (left < 1) return false;
        return put(p[1], 1);
      case 'r':  // LONG_BINPUT
        if (left < 4) return false;
        return put(load_le(p + 1, 4), 4);
      case 'K':  // BININT1
        if (left < 1 || !shared(4 + p[1])) return false;
        used += 1;
        break;
      case 'M': {  // BININT2
        if (left < 2) return false;
        std::uint64_t n = load_le(p + 1, 2);
        if (n >= 1024 || !shared(4 + n)) return false;
        used += 2;
        break;
      }
      case 'N':
        if (!shared(0)) return false;
        break;
      case 0x89: case 0x88:  // NEWFALSE, NEWTRUE
        if (!shared(op == 0x89 ? 1 : 2)) return false;
        break;
      case 'G':  // BINFLOAT
        if (left < 8 || !shared(3)) return false;
        used += 8;
        break;
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::size_t n = op - 0x84u;
        if (above() < n || !room()) return false;
        fast_tuple(stack_.size() - n, at());
        break;
      }
      case 't': {  // TUPLE
        if (marks_.empty() || !room()) return false;
        std::size_t mark = marks_.back();
        marks_.pop_back();
        fast_tuple(mark, at());
        break;
      }
      case ')': case ']': case '}': {  // EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT
        if (!room()) return false;
        Kind kind = op == ')' ? Kind::kTuple : op == ']' ? Kind::kList : Kind::kDict;
        stack_.push_back(fast_make(kind, at()));
        break;
      }
      case 0x8c: case 'C': case 'X': case 'B': {  // SHORT_BINUNICODE, SHORT_BINBYTES, BIN...
        unsigned width = (op == 0x8c || op == 'C') ? 1 : 4;
        if (left < width || !room()) return false;
        std::uint64_t n = width == 1 ? p[1] : load_le(p + 1, 4);
        if (n > left - width) return false;
        ValueId id = fast_make((op == 0x8c || op == 'X') ? Kind::kStr : Kind::kBytes, at());
        if (val(id).kind == Kind::kStr) {
          val(id).set_text(keep({reinterpret_cast<const char*>(p + 1 + width), n}));
        } else {
          val(id).units = n;
          if (n >= 2) val(id).ref = bytes_head(p[1 + width], p[2 + width]);
        }
        stack_.push_back(id);
        used += width + n;
        break;
      }
      case 'R': case 0x81: {  // REDUCE, NEWOBJ, when call() cannot fail (see below)
        if (above() < 2 || !room()) return false;
        ValueId args = stack_.end()[-1], callee = stack_.end()[-2];
        Kind ak = val(args).kind;
        if (ak != Kind::kTuple && ak != Kind::kCall && ak != Kind::kObject &&
            ak != Kind::kUnknown)
          return false;
        // A global's call fails only when its role imports a name computed from the args.
        const Value& c = val(callee);
        if (c.kind != Kind::kGlobal) return false;
        Role role = globals_[c.ref].role;
        if (role == Role::kUfuncReconstruct || role == Role::kSubimport ||
            role == Role::kBuiltinType)
          return false;
        auto made = call(callee, args, op == 'R' ? Kind::kCall : Kind::kObject, at());
        if (!made) return false;  // (not reached: nothing above can fail)
        stack_.resize(stack_.size() - 2);
        stack_.push_back(*made);
        break;
      }
      case 'u': case 'e': {  // SETITEMS, APPENDS: the items above the MARK, left in place
        if (marks_.empty()) return false;
        std::size_t mark = marks_.back();
        std::size_t fence = marks_.size() > 1 ? marks_.end()[-2] : 0;
        if (mark <= fence) return false;  // nothing below the MARK to add to
        std::span<const ValueId> items(stack_.data() + mark, stack_.size() - mark);
        if (op == 'u' && items.size() % 2 != 0) return false;
        ValueId target = stack_[mark - 1];
        switch (val(target).kind) {  // what add_items accepts
          case Kind::kList: case Kind::kSet: case Kind::kDict: case Kind::kCall:
          case Kind::kObject: case Kind::kGlobal: case Kind::kUnknown:
            break;
          default:
            return false;
        }
        if (pool_.size() + val(target).items.size + items.size() > opts_.max_values * 4)
          return false;  // append_items' bound
        if (op == 'u')
          for (std::size_t i = 0; i + 1 < items.size(); i += 2)
            note_version(items[i], items[i + 1]);
        (void)add_items(target, items, at());  // cannot fail now
        marks_.pop_back();
        stack_.resize(mark);
        break;
      }
      case 'b': {  // BUILD, unless on a joblib array wrapper (whose data follows)
        if (above() < 2) return false;
        ValueId state = stack_.end()[-1], inst = stack_.end()[-2];
        if (opts_.joblib_arrays && role_of_callee(inst) == Role::kArrayWrapper) return false;
        stack_.pop_back();
        (void)build(inst, state, at());  // cannot fail without a wrapper
        break;
      }
      default:
        return false;
    }
    return true;
  };
  for (; p < end; ++done) {
    const std::uint8_t op = p[0];
    const std::size_t left = static_cast<std::size_t>(end - p) - 1;  // after the opcode
    used = 1;
    if (!one(op, left)) break;
    if (note_binary) binary |= kBinaryOpcode[op];
    p += used;
  }
  in_.seek(static_cast<std::size_t>(p - begin));
  if (binary) summary_.saw_binary_opcode = true;
  if (done > 0) {
    opcodes_ += done;
    first_ok_ = true;  // it matters only when the first opcode was among them
  }
}

Status Machine::op_dispatch(std::uint8_t op, std::uint64_t at) {
  if (kBinaryOpcode[op]) summary_.saw_binary_opcode = true;
  switch (op) {
    case 0x80: {  // PROTO
      auto v = read_le(1, at, "PROTO argument");
      if (!v) return v.error();
      if (*v > 5) return fail(at, fmt::format("unsupported pickle protocol: {}", *v));
      proto_ = static_cast<int>(*v);
      if (summary_.protocol < 0) summary_.protocol = proto_;
      return ok_status();
    }
    case 0x95: {  // FRAME: a length prefix; the opcodes inside are read as usual
      auto n = read_le(8, at, "FRAME length");
      if (!n) return n.error();
      if (!in_.available(*n))
        return truncated(at, fmt::format("frame ({} bytes declared, {} left)", *n,
                                         in_.remaining()));
      return ok_status();
    }
    case '.': {  // STOP
      auto v = pop(at);
      if (!v) return v.error();
      stopped_ = true;
      return ok_status();
    }
    case '(': case '0': case '1': case '2':
      return op_stack(op, at);
    case 'F': case 'G': case 'I': case 'J': case 'K': case 'L': case 'M': case 'N':
    case 0x88: case 0x89: case 0x8a: case 0x8b:
      return op_number(op, at);
    case 'S': case 'T': case 'U': case 'V': case 'X': case 'B': case 'C':
    case 0x8c: case 0x8d: case 0x8e: case 0x96:
      return op_text(op, at);
    case ')': case 't': case 0x85: case 0x86: case 0x87: case ']': case 'l': case 'a':
    case 'e': case '}': case 'd': case 's': case 'u': case 0x8f: case 0x90: case 0x91:
      return op_container(op, at);
    case 'g': case 'h': case 'j': case 'p': case 'q': case 'r': case 0x94:
      return op_memo(op, at);
    case 'c': case 0x93:
      return op_global(op, at);
    case 'R': case 0x81: case 0x92: case 'o': case 'i':
      return op_call(op, at);
    case 'b':
      return op_build(at);
    case 'P': case 'Q': case 0x82: case 0x83: case 0x84: case 0x97: case 0x98:
      return op_loader_defined(op, at);
    default:
      return fail(at, fmt::format("invalid pickle opcode {}", hex_byte(op)));
  }
}

Status Machine::op_stack(std::uint8_t op, std::uint64_t at) {
  switch (op) {
    case '(':  // MARK
      marks_.push_back(stack_.size());
      return ok_status();
    case '0': {  // POP: pops the topmost mark when nothing sits above it (as C does)
      if (!marks_.empty() && marks_.back() == stack_.size()) {
        marks_.pop_back();
        return ok_status();
      }
      auto v = pop(at);
      return v ? ok_status() : Status(v.error());
    }
    case '1': {  // POP_MARK
      auto items = pop_mark(at);
      return items ? ok_status() : Status(items.error());
    }
    default: {  // DUP
      auto v = top(at);
      if (!v) return v.error();
      return push(*v);
    }
  }
}

Status Machine::op_number(std::uint8_t op, std::uint64_t at) {
  Value v;
  v.offset = at;
  switch (op) {
    case 'N': v.kind = Kind::kNone; break;
    case 0x88: case 0x89:
      v.kind = Kind::kBool;
      v.number = op == 0x88;
      v.number_known = true;
      break;
    case 'F': {
      auto line = read_line(at, "FLOAT argument");
      if (!line) return line.error();
      if (line->empty()) return fail(at, "FLOAT argument is empty");
      v.kind = Kind::kFloat;
      break;
    }
    case 'G': {
      auto b = read_bytes(8, at, "BINFLOAT argument");
      if (!b) return b.error();
      v.kind = Kind::kFloat;
      break;
    }
    case 'I': case 'L': {
      auto line = read_line(at, op == 'I' ? "INT argument" : "LONG argument");
      if (!line) return line.error();
      auto parsed = parse_int_line(*line);
      if (!parsed) return fail(at, fmt::format("invalid integer literal \"{}\"",
                                               line->substr(0, 40)));
      v.kind = (op == 'I' && (*line == "00" || *line == "01")) ? Kind::kBool : Kind::kInt;
      v.number = parsed->value;
      v.number_known = parsed->fits;
      break;
    }
    case 'J': case 'K': case 'M': {
      unsigned width = op == 'J' ? 4 : op == 'K' ? 1 : 2;
      auto n = read_le(width, at, "integer argument");
      if (!n) return n.error();
      v.kind = Kind::kInt;
      v.number = op == 'J' ? static_cast<std::int32_t>(*n) : static_cast<std::int64_t>(*n);
      v.number_known = true;
      break;
    }
    default: {  // LONG1, LONG4
      auto n = read_le(op == 0x8a ? 1 : 4, at, "LONG length");
      if (!n) return n.error();
      if (op == 0x8b && static_cast<std::int32_t>(*n) < 0)
        return fail(at, "LONG pickle has negative byte count");
      auto b = read_bytes(*n, at, "LONG bytes");
      if (!b) return b.error();
      ParsedInt parsed = decode_long_bytes(*b);
      v.kind = Kind::kInt;
      v.number = parsed.value;
      v.number_known = parsed.fits;
    }
  }
  return push_scalar(std::move(v));
}

Status Machine::op_text(std::uint8_t op, std::uint64_t at) {
  Value v;
  v.offset = at;
  v.kind = Kind::kStr;
  switch (op) {
    case 'S': {
      auto line = read_line(at, "STRING argument");
      if (!line) return line.error();
      std::string_view s = *line;
      if (s.size() < 2 || s.front() != s.back() || (s.front() != '\'' && s.front() != '"'))
        return fail(at, "the STRING opcode argument must be quoted");
      v.set_text(own(decode_string_escapes(s.substr(1, s.size() - 2))));
      break;
    }
    case 'V': {
      auto line = read_line(at, "UNICODE argument");
      if (!line) return line.error();
      v.set_text(own(decode_raw_unicode_escape(*line)));
      break;
    }
    default: {
      unsigned width = 0;
      bool is_signed = false;
      switch (op) {
        case 'T': width = 4; is_signed = true; break;                   // BINSTRING
        case 'U': width = 1; break;                                     // SHORT_BINSTRING
        case 'X': width = 4; break;                                     // BINUNICODE
        case 0x8c: width = 1; break;                                    // SHORT_BINUNICODE
        case 0x8d: width = 8; break;                                    // BINUNICODE8
        case 'B': width = 4; v.kind = Kind::kBytes; break;              // BINBYTES
        case 'C': width = 1; v.kind = Kind::kBytes; break;              // SHORT_BINBYTES
        case 0x8e: width = 8; v.kind = Kind::kBytes; break;             // BINBYTES8
        default: width = 8; v.kind = Kind::kBytes; break;               // BYTEARRAY8
      }
      auto n = read_le(width, at, "length");
      if (!n) return n.error();
      if (is_signed && static_cast<std::int32_t>(*n) < 0)
        return fail(at, "BINSTRING pickle has negative byte count");
      if (v.kind == Kind::kStr) {
        auto text = read_text(*n, at);
        if (!text) return text.error();
        v.set_text(*text);
      } else {  // only the size of bytes matters: they are stepped over, never kept
        std::uint64_t start = in_.offset();
        // ...but for their first two bytes, kept in `ref` (unused by bytes): a code object's
        // first instruction tells which Python compiled it (note_code_python).
        std::uint64_t rest = *n;
        if (rest >= 2 && in_.available(2)) {
          auto head = in_.take(2);
          v.ref = bytes_head(static_cast<std::uint8_t>((*head)[0]), static_cast<std::uint8_t>((*head)[1]));
          rest -= 2;
        }
        if (!in_.skip(rest))
          return truncated(at, fmt::format("string or bytes payload ({} bytes declared, {} "
                                           "left)",
                                           *n, in_.offset() - start));
        v.units = *n;
      }
    }
  }
  return push_new(std::move(v));
}

Status Machine::add_items(ValueId container, std::span<const ValueId> items,
                          std::uint64_t at) {
  Value& c = val(container);
  switch (c.kind) {
    case Kind::kList: case Kind::kSet: case Kind::kDict:
      break;
    case Kind::kCall: case Kind::kObject: case Kind::kGlobal: case Kind::kUnknown: {
      // Not a builtin container: the loader calls its append/extend/add/__setitem__.
      if (auto st = check_mutation_target(container, at, "appends to"); !st) return st;
      break;
    }
    default:
      return fail(at, "items added to an object that is not a container");
  }
  std::uint8_t flags = 0;
  for (ValueId id : items) flags |= val(id).flags & kFlagCode;
  val(container).flags |= flags;
  changing(container);
  return append_items(container, items, at);
}

void Machine::note_version(ValueId key, ValueId value) {
  if (const_str(key) == "_sklearn_version")
    if (auto v = const_str(value)) rec_.add_version(*v);
}

Status Machine::op_container(std::uint8_t op, std::uint64_t at) {
  Value v;
  v.offset = at;
  switch (op) {
    case ')': v.kind = Kind::kTuple; break;
    case ']': v.kind = Kind::kList; break;
    case '}': v.kind = Kind::kDict; break;
    case 0x8f: v.kind = Kind::kSet; break;
    case 't': case 'l': case 'd': case 0x91: {  // TUPLE, LIST, DICT, FROZENSET from MARK
      auto items = pop_mark(at);
      if (!items) return items.error();
      v.kind = op == 't' ? Kind::kTuple : op == 'l' ? Kind::kList
               : op == 'd' ? Kind::kDict : Kind::kFrozenSet;
      if (op == 'd' && items->size() % 2 != 0) return fail(at, "odd number of items for DICT");
      for (ValueId id : *items) v.flags |= val(id).flags & kFlagCode;
      if (op == 'd')
        for (std::size_t i = 0; i + 1 < items->size(); i += 2)
          note_version((*items)[i], (*items)[i + 1]);
      v.items = store_items(*items);
      break;
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      std::size_t n = op - 0x84u;
      std::array<ValueId, 3> items{};
      for (std::size_t i = n; i-- > 0;) {
        auto id = pop(at);
        if (!id) return id.error();
        items[i] = *id;
        v.flags |= val(*id).flags & kFlagCode;
      }
      v.kind = Kind::kTuple;
      v.items = store_items(std::span<const ValueId>(items.data(), n));
      break;
    }
    case 'a': case 's': {  // APPEND, SETITEM
      std::array<ValueId, 2> items{};
      std::size_t n = op == 'a' ? 1 : 2;
      for (std::size_t i = n; i-- > 0;) {
        auto id = pop(at);
        if (!id) return id.error();
        items[i] = *id;
      }
      auto target = top(at);
      if (!target) return target.error();
      if (op == 's') note_version(items[0], items[1]);
      return add_items(*target, std::span<const ValueId>(items.data(), n), at);
    }
    default: {  // APPENDS, SETITEMS, ADDITEMS: items since the MARK go into the object below it
      auto items = pop_mark(at);
      if (!items) return items.error();
      auto target = top(at);
      if (!target) return target.error();
      if (op == 'u') {
        if (items->size() % 2 != 0) return fail(at, "odd number of items for SETITEMS");
        for (std::size_t i = 0; i + 1 < items->size(); i += 2)
          note_version((*items)[i], (*items)[i + 1]);
      }
      return add_items(*target, *items, at);
    }
  }
  return push_new(std::move(v));
}

Status Machine::op_memo(std::uint8_t op, std::uint64_t at) {
  std::uint64_t index = 0;
  if (op == 'g' || op == 'p') {  // GET, PUT: a decimal line
    auto line = read_line(at, "memo index");
    if (!line) return line.error();
    auto parsed = parse_int_line(*line);
    if (!parsed || !parsed->fits) return fail(at, "invalid memo index");
    if (parsed->value < 0) return fail(at, "negative memo index");
    index = static_cast<std::uint64_t>(parsed->value);
  } else if (op != 0x94) {
    auto n = read_le((op == 'h' || op == 'q') ? 1 : 4, at, "memo index");
    if (!n) return n.error();
    index = *n;
  }
  if (op == 'g' || op == 'h' || op == 'j') {
    auto found = memo_.get(index);
    if (!found) return fail(at, fmt::format("memo value not found at index {}", index));
    return push(*found);
  }
  if (op == 0x94) index = memo_.size();  // MEMOIZE: the next free slot, as CPython counts it
  auto v = top(at);
  if (!v) return v.error();
  // CPython sizes its memo table by the largest index: a huge index is a memory bomb.
  if (index > (std::uint64_t{1} << 26))
    rec_.add_finding(Severity::kError, Rule::kResource,
                     fmt::format("memo index {} makes the loader allocate a table of ~{} MiB",
                                 index, index * 16 / (1024 * 1024)),
                     at);
  memo_.put(index, *v);
  return ok_status();
}

Result<std::uint32_t> Machine::global_slot(std::string_view module, std::string_view name,
                                           std::uint64_t at) {
  // A model imports the same few names thousands of times (one per tree, per array): those
  // are found by their spelling as read, before any name is mapped, joined or classified.
  spelled_.assign(proto_ < 3 ? "2" : "3");
  spelled_.append(module).append(1, '\n').append(name);
  if (auto known = spelled_index_.find(spelled_); known != spelled_index_.end())
    return known->second;
  // The loader maps Python 2 names only below protocol 3; the policy checks both spellings.
  QualifiedName loaded = proto_ < 3 ? map_python2_name(module, name)
                                    : QualifiedName{std::string(module), std::string(name)};
  std::string joined = loaded.joined();
  if (globals_.size() >= kMaxDistinctGlobals && !global_index_.count(joined))
    return fail(at, fmt::format("more than {} distinct imports in one pickle: refusing to go "
                                "on (a bound of the inspector)",
                                kMaxDistinctGlobals));
  auto [it, inserted] = global_index_.try_emplace(joined, globals_.size());
  if (inserted) {
    GlobalInfo g{loaded, policy_.classify(module, name), role_of(joined)};
    if (g.name.module.starts_with("cloudpickle")) summary_.cloudpickle = true;
    globals_.push_back(std::move(g));
  }
  rec_.add_global(joined);
  spelled_index_.emplace(spelled_, it->second);
  return it->second;
}

Result<ValueId> Machine::import_global(std::string_view module, std::string_view name,
                                       std::uint64_t at) {
  auto slot = global_slot(module, name, at);
  if (!slot) return slot.error();
  const GlobalInfo& g = globals_[*slot];
  if (g.cls.trust != Trust::kTrusted) return import_distrusted(g, *slot, at);
  Value v;
  v.kind = Kind::kGlobal;
  v.offset = at;
  v.ref = *slot;
  return make(std::move(v));
}

Result<ValueId> Machine::import_distrusted(const GlobalInfo& g, std::uint32_t slot,
                                           std::uint64_t at) {
  const QualifiedName& loaded = g.name;
  std::string joined = loaded.joined();
  if (g.cls.trust == Trust::kDangerous) {
    rec_.add_finding(Severity::kError, Rule::kDangerousGlobal,
                     fmt::format("imports {} ({})", joined, g.cls.category), at);
  } else if (g.cls.trust == Trust::kUntrusted) {
    bool dotted = loaded.name.find('.') != std::string::npos;
    rec_.add_finding(Severity::kWarning,
                     dotted ? Rule::kAttributeTraversal : Rule::kUntrustedGlobal,
                     dotted ? fmt::format("imports {} through an attribute path", joined)
                            : fmt::format("imports {}, which is not in the trusted set", joined),
                     at);
  }
  Value v;
  v.kind = Kind::kGlobal;
  v.offset = at;
  v.ref = slot;
  return make(std::move(v));
}

Status Machine::op_global(std::uint8_t op, std::uint64_t at) {
  if (op == 'c') {  // GLOBAL: "module\nname\n"
    auto line = read_line(at, "GLOBAL module");
    if (!line) return line.error();
    std::string module(*line);  // the next read may move a streamed window
    auto name = read_line(at, "GLOBAL name");
    if (!name) return name.error();
    auto id = import_global(module, *name, at);
    if (!id) return id.error();
    return push(*id);
  }
  // STACK_GLOBAL: module and name are whatever the stack holds, memo references included.
  auto name = pop(at);
  if (!name) return name.error();
  auto module = pop(at);
  if (!module) return module.error();
  auto m = const_str(*module);
  auto n = const_str(*name);
  if (!m || !n) {
    for (ValueId id : {*module, *name}) {
      Kind k = val(id).kind;
      if (k != Kind::kStr && k != Kind::kCall && k != Kind::kObject && k != Kind::kUnknown)
        return fail(at, "STACK_GLOBAL requires str");
    }
    rec_.add_finding(Severity::kError, Rule::kUnresolvedGlobal,
                     "STACK_GLOBAL imports a name computed while loading", at);
    return push_new(made(Kind::kUnknown, at));
  }
  auto id = import_global(*m, *n, at);
  if (!id) return id.error();
  return push(*id);
}

// ---------------------------------------------------------------------------------------------
// calls: REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST
// ---------------------------------------------------------------------------------------------

Status Machine::check_callee(ValueId callee, std::uint64_t at) {
  const Value& c = val(callee);
  if (c.flags & kFlagCode) {
    rec_.add_finding(Severity::kError, Rule::kLoadTimeCode,
                     "calls by-value code (a function built from a code object) while loading",
                     at);
  } else if (c.flags & kFlagHooked) {
    rec_.add_finding(Severity::kError, Rule::kLoadTimeCode,
                     "instantiates a by-value class whose own methods run while loading", at);
  }
  switch (c.kind) {
    case Kind::kGlobal:
      return ok_status();
    case Kind::kCall: case Kind::kObject: case Kind::kUnknown: case Kind::kBuffer:
      if (!(c.flags & (kFlagCode | kFlagHooked | kFlagDynClass)))
        rec_.add_finding(Severity::kError, Rule::kUnresolvedGlobal,
                         fmt::format("calls an object computed while loading (made at offset "
                                     "{})",
                                     c.offset),
                         at);
      return ok_status();
    default:
      return fail(at, "calls an object that is not callable");
  }
}

Result<ValueId> Machine::call(ValueId callee, ValueId args, Kind kind, std::uint64_t at) {
  if (auto st = check_callee(callee, at); !st) return st.error();
  Value r;
  r.kind = kind;
  r.offset = at;
  r.ref = callee;
  r.args = args;
  if (args != kNoValue) r.flags |= val(args).flags & kFlagCode;
  auto id = make(std::move(r));
  if (!id) return id;
  const Value& c = val(callee);
  if (c.kind == Kind::kGlobal) {
    if (auto st = apply_role(globals_[c.ref].role, *id, at); !st) return st.error();
  } else if (c.flags & kFlagDynClass) {
    val(*id).flags |= c.flags & kFlagHooked;
  }
  return id;
}

Status Machine::op_call(std::uint8_t op, std::uint64_t at) {
  ValueId callee = kNoValue, args = kNoValue;
  Kind kind = Kind::kObject;
  if (op == 'R' || op == 0x81 || op == 0x92) {  // REDUCE, NEWOBJ, NEWOBJ_EX
    if (op == 0x92) {
      auto kwargs = pop(at);
      if (!kwargs) return kwargs.error();
    }
    auto a = pop(at);
    if (!a) return a.error();
    auto c = pop(at);
    if (!c) return c.error();
    Kind ak = val(*a).kind;
    if (ak != Kind::kTuple && ak != Kind::kCall && ak != Kind::kObject && ak != Kind::kUnknown)
      return fail(at, op == 'R' ? "REDUCE arguments must be a tuple"
                                : "NEWOBJ arguments must be a tuple");
    callee = *c;
    args = *a;
    kind = op == 'R' ? Kind::kCall : Kind::kObject;
  } else {  // OBJ: class and args since MARK; INST: class named inline, args since MARK
    ValueId cls = kNoValue;
    if (op == 'i') {
      auto line = read_line(at, "INST module");
      if (!line) return line.error();
      std::string module(*line);  // the next read may move a streamed window
      auto name = read_line(at, "INST name");
      if (!name) return name.error();
      auto g = import_global(module, *name, at);
      if (!g) return g.error();
      cls = *g;
    }
    auto items = pop_mark(at);
    if (!items) return items.error();
    std::span<const ValueId> rest = *items;
    if (op == 'o') {
      if (rest.empty()) return fail(at, "OBJ without a class");
      cls = rest.front();
      rest = rest.subspan(1);
    }
    Value tuple;
    tuple.kind = Kind::kTuple;
    tuple.offset = at;
    tuple.items = store_items(rest);
    for (ValueId id : rest) tuple.flags |= val(id).flags & kFlagCode;
    auto t = make(std::move(tuple));
    if (!t) return t.error();
    callee = cls;
    args = *t;
  }
  auto r = call(callee, args, kind, at);
  if (!r) return r.error();
  return push(*r);
}

Status Machine::apply_role(Role role, ValueId result, std::uint64_t at) {
  switch (role) {
    case Role::kCodecsEncode:
      role_codecs(result, at);
      return ok_status();
    case Role::kFromBuffer:
      array_from_buffer(val(result).args, at);
      return ok_status();
    case Role::kUfuncReconstruct: case Role::kSubimport: case Role::kBuiltinType:
      return role_import_by_name(role, result, at);
    case Role::kCodeCtor: case Role::kFunctionCtor: case Role::kSkeletonClass:
      role_code(role, result, at);
      return ok_status();
    case Role::kClassSetstate:
      role_class_setstate(result);
      return ok_status();
    case Role::kArrayWrapper:
      ++summary_.array_wrappers;
      return ok_status();
    default:
      return ok_status();
  }
}

void Machine::role_codecs(ValueId result, std::uint64_t at) {
  ValueId args = val(result).args;
  const Value* text = tuple_item(args, 0);
  const Value* enc = tuple_item(args, 1);
  bool latin1 = enc && enc->kind == Kind::kStr &&
                (enc->text() == "latin1" || enc->text() == "latin-1" ||
                 enc->text() == "latin_1");
  if (!latin1 || !text || text->kind != Kind::kStr) {
    rec_.add_finding(Severity::kWarning, Rule::kUntrustedCall,
                     "_codecs.encode is trusted only to turn a str into latin-1 bytes", at);
    return;
  }
  Value& r = val(result);
  r.kind = Kind::kBytes;
  r.units = utf8_code_points(text->text());
}

// Helpers that import a module or attribute named by their (constant) arguments.
Status Machine::role_import_by_name(Role role, ValueId result, std::uint64_t at) {
  ValueId args = val(result).args;
  auto first = const_str(args != kNoValue && val(args).kind == Kind::kTuple &&
                                 !items_of(args).empty()
                             ? items_of(args)[0]
                             : kNoValue);
  auto second = const_str(args != kNoValue && val(args).kind == Kind::kTuple &&
                                  items_of(args).size() > 1
                              ? items_of(args)[1]
                              : kNoValue);
  if (!first || (role == Role::kUfuncReconstruct && !second)) {
    rec_.add_finding(Severity::kError, Rule::kUnresolvedGlobal,
                     "imports by a name computed while loading", at);
    return ok_status();
  }
  Result<ValueId> g = make_error("");
  if (role == Role::kUfuncReconstruct) {
    g = import_global(*first, *second, at);
  } else if (role == Role::kBuiltinType) {
    g = import_global("types", *first, at);
  } else {  // cloudpickle subimport: a whole module
    Classification c = policy_.classify_module(*first);
    rec_.add_global(*first);
    if (c.trust == Trust::kDangerous)
      rec_.add_finding(Severity::kError, Rule::kDangerousGlobal,
                       fmt::format("imports module {} by name ({})", *first, c.category), at);
    else
      rec_.add_finding(Severity::kWarning, Rule::kUntrustedGlobal,
                       fmt::format("imports module {} by name", *first), at);
    return ok_status();
  }
  if (!g) return g.error();
  // The call's result *is* the imported object: later calls on it are calls of that global.
  Value& r = val(result);
  const Value& gv = val(*g);
  r.kind = Kind::kGlobal;
  r.ref = gv.ref;
  if (role == Role::kBuiltinType && *first == "CodeType") globals_[gv.ref].role = Role::kCodeCtor;
  return ok_status();
}

void Machine::role_code(Role role, ValueId result, std::uint64_t at) {
  Value& r = val(result);
  if (role == Role::kCodeCtor) {
    r.flags |= kFlagCode;
    const Value* name = tuple_item(r.args, 11);  // co_name in CodeType's argument order
    std::string what = name && name->kind == Kind::kStr
                           ? fmt::format(" '{}'", name->text().substr(0, 80))
                           : std::string();
    rec_.add_finding(Severity::kWarning, Rule::kCodeObject,
                     fmt::format("builds a Python code object{}: by-value code that runs "
                                 "whenever it is called",
                                 what),
                     at);
    judge_code(r.args, what);
    note_code_python(r.args);
  } else if (role == Role::kSkeletonClass) {
    r.flags |= kFlagDynClass;
    const Value* name = tuple_item(r.args, 1);
    rec_.add_finding(Severity::kWarning, Rule::kDynamicClass,
                     fmt::format("defines class '{}' by value",
                                 name && name->kind == Kind::kStr ? name->text().substr(0, 80)
                                                                  : "?"),
                     at);
  }
  // kFunctionCtor: the function carries the code flag of its arguments (set in call()).
}

// What a code object's names (co_names: globals, attributes, imported modules) and string
// constants reach, read from CodeType's arguments (co_consts is argument 7, co_names 8 from
// Python 3.8 to 3.14). Nested code objects are code constants built by their own CodeType
// call, so each is judged when it is built. Nothing is decoded or run: a name is judged by
// what it is called, at the offset of the opcode that wrote it.
void Machine::judge_code(ValueId args, std::string_view what) {
  std::vector<std::string> reached;
  std::uint64_t first = 0;
  auto judge = [&](ValueId id) {
    auto name = const_str(id);
    if (!name) return;
    Classification c = policy_.classify_code_name(*name);
    if (c.trust != Trust::kDangerous || reached.size() >= 8) return;
    if (reached.empty()) first = val(id).offset;
    reached.push_back(fmt::format("{} ({})", name->substr(0, 80), c.category));
  };
  for (std::size_t i : {std::size_t{8}, std::size_t{7}}) {
    const Value* tuple = tuple_item(args, i);
    if (tuple && tuple->kind == Kind::kTuple)
      for (ValueId id : items_of(*tuple)) judge(id);
  }
  if (reached.empty()) return;
  rec_.add_finding(Severity::kError, Rule::kCodeObject,
                   fmt::format("by-value code{} uses {}: it can run processes, touch files or "
                               "the network, import or evaluate code when called",
                               what, fmt::join(reached, ", ")),
                   first);
}

// Which Python compiled by-value code, from CodeType's arguments: 16 of them up to 3.10, 18
// from 3.11; then the first instruction of co_code (argument 6), whose opcode numbers changed
// in 3.13 and 3.14: RESUME 0 is 151 in 3.11-3.12, 149 in 3.13, 128 in 3.14; a closure starts
// with COPY_FREE_VARS n (149 in 3.11-3.12, 62 in 3.13) or MAKE_CELL (135, 94).
std::string code_python_of(std::size_t n_args, std::uint32_t head) {
  if (n_args == 16) return "3.8-3.10";
  if (n_args != 18) return fmt::format("unknown ({} arguments)", n_args);
  if (head == kNoValue || !(head & kBytesHead)) return "3.11+";
  unsigned op = (head >> 8) & 0xff, arg = head & 0xff;
  if ((op == 151 && arg == 0) || (op == 149 && arg > 0) || op == 135) return "3.11-3.12";
  if ((op == 149 && arg == 0) || op == 62 || op == 94) return "3.13";
  if (op == 128 && arg == 0) return "3.14";
  return "3.11+";
}

void Machine::note_code_python(ValueId args) {
  const Value* code = tuple_item(args, 6);
  std::uint32_t head = code && code->kind == Kind::kBytes ? code->ref : kNoValue;
  std::string python = code_python_of(items_of(val(args)).size(), head);
  auto& seen = rec_.code_pythons;
  if (std::find(seen.begin(), seen.end(), python) == seen.end()) seen.push_back(std::move(python));
}

void Machine::role_class_setstate(ValueId result) {
  ValueId args = val(result).args;
  const Value* cls = tuple_item(args, 0);
  const Value* state = tuple_item(args, 1);
  if (!cls || !state) return;
  ValueId dict = state->kind == Kind::kTuple && !items_of(*state).empty() ? items_of(*state)[0]
                                                                        : items_of(args)[1];
  if (dict == kNoValue || val(dict).kind != Kind::kDict) return;
  for (std::size_t i = 0; i < items_of(dict).size(); i += 2) {
    auto key = const_str(items_of(dict)[i]);
    if (key && std::find(kLoadHooks.begin(), kLoadHooks.end(), *key) != kLoadHooks.end())
      val(items_of(args)[0]).flags |= kFlagHooked;
  }
}

// BUILD, APPEND(S), SETITEM(S) on something other than a plain instance or container.
Status Machine::check_mutation_target(ValueId target, std::uint64_t at, std::string_view how) {
  const Value& t = val(target);
  if (t.kind == Kind::kGlobal) {
    rec_.add_finding(Severity::kError, Rule::kBuildOnCallable,
                     fmt::format("{} the imported {} itself", how,
                                 globals_[t.ref].name.joined()),
                     at);
  } else if ((t.kind == Kind::kCall || t.kind == Kind::kObject) &&
             ((t.flags & kFlagHooked) ||
              (t.ref != kNoValue && (val(t.ref).flags & kFlagHooked)))) {
    rec_.add_finding(Severity::kError, Rule::kLoadTimeCode,
                     fmt::format("{} an instance of a by-value class whose methods run while "
                                 "loading",
                                 how),
                     at);
  }
  return ok_status();
}

Status Machine::op_build(std::uint64_t at) {
  auto state = pop(at);
  if (!state) return state.error();
  auto inst = top(at);
  if (!inst) return inst.error();
  return build(*inst, *state, at);
}

// The role of what made a call's or object's value (kPlain for anything else).
Role Machine::role_of_callee(ValueId id) const {
  const Value& v = val(id);
  if ((v.kind != Kind::kCall && v.kind != Kind::kObject) || v.ref == kNoValue ||
      val(v.ref).kind != Kind::kGlobal)
    return Role::kPlain;
  return globals_[val(v.ref).ref].role;
}

// BUILD once its operands are off the stack. Only a joblib array wrapper can fail (its data
// follows in the stream); fast_run leaves those to op_dispatch.
Status Machine::build(ValueId inst, ValueId state, std::uint64_t at) {
  if (auto st = check_mutation_target(inst, at, "BUILD sets attributes of"); !st) return st;
  changing(inst);
  Value& v = val(inst);
  v.state = state;
  v.flags |= val(state).flags & kFlagCode;
  switch (role_of_callee(inst)) {
    case Role::kReconstruct:
      array_from_reconstruct(state, at);
      return ok_status();
    case Role::kArrayWrapper:
      return opts_.joblib_arrays ? array_from_wrapper(state, at) : ok_status();
    case Role::kLegacyWrapper:
      legacy_wrapper(state, at);
      return ok_status();
    default:
      return ok_status();
  }
}

Status Machine::op_loader_defined(std::uint8_t op, std::uint64_t at) {
  std::string what;
  switch (op) {
    case 'P': {
      auto line = read_line(at, "PERSID argument");
      if (!line) return line.error();
      what = "a persistent id: the loading program decides what it becomes";
      break;
    }
    case 'Q': {
      auto pid = pop(at);
      if (!pid) return pid.error();
      what = "a persistent id: the loading program decides what it becomes";
      break;
    }
    case 0x82: case 0x83: case 0x84: {
      auto code = read_le(op == 0x82 ? 1 : op == 0x83 ? 2 : 4, at, "extension code");
      if (!code) return code.error();
      what = fmt::format("copyreg extension code {}: imports whatever the loading process "
                         "registered under it",
                         *code);
      break;
    }
    case 0x97:
      what = "an out-of-band buffer that the loader must supply (pickle protocol 5)";
      rec_.add_finding(Severity::kNote, Rule::kLoaderDefined, what, at);
      return push_new(made(Kind::kBuffer, at));
    default: {  // READONLY_BUFFER: the top stays, read-only
      auto v = top(at);
      return v ? ok_status() : Status(v.error());
    }
  }
  rec_.add_finding(Severity::kWarning, Rule::kLoaderDefined, what, at);
  return push_new(made(Kind::kUnknown, at));
}

// ---------------------------------------------------------------------------------------------
// arrays
// ---------------------------------------------------------------------------------------------

std::string_view order_name(std::string_view c) {
  if (c == "<") return "little";
  if (c == ">") return "big";
  if (c == "|") return "not-applicable";
  if (c == "=") return "native";
  return "unknown";
}

std::uint64_t itemsize_of_code(std::string_view code) {
  if (code.empty()) return 0;
  char kind = code[0];
  std::uint64_t n = 0;
  std::size_t i = 1;
  for (; i < code.size() && code[i] >= '0' && code[i] <= '9' && n < (1u << 30); ++i)
    n = n * 10 + static_cast<std::uint64_t>(code[i] - '0');
  if (i == 1) return (kind == 'O' ? 8 : 0);
  return kind == 'U' ? n * 4 : n;
}

DtypeDesc Machine::describe_dtype(ValueId id) {
  if (auto known = dtypes_.find(id); known != dtypes_.end()) return known->second;
  // Fields may refer back to their dtype through the memo: a budget keeps the walk linear.
  int budget = 4096;
  DtypeDesc d = describe_dtype(id, 0, budget);
  dtypes_.emplace(id, d);
  return d;
}

// Reads the kind, callee and arguments of values (fixed when made) and the state of dtypes
// and items of fields dicts (which BUILD and SETITEM(S) can change: flagged).
DtypeDesc Machine::describe_dtype(ValueId id, int depth, int& budget) {
  DtypeDesc d;
  if (id == kNoValue || depth > 8 || --budget < 0) return d;
  Value& v = val(id);
  if (v.kind != Kind::kCall || v.ref == kNoValue || val(v.ref).kind != Kind::kGlobal ||
      globals_[val(v.ref).ref].role != Role::kDtype)
    return d;
  v.flags |= kFlagDescribed;
  const Value* code = tuple_item(v.args, 0);
  if (code && code->kind == Kind::kStr) d.code = code->text().substr(0, 32);
  d.object = !d.code.empty() && d.code[0] == 'O';
  d.itemsize = itemsize_of_code(d.code);
  if (const Value* order = tuple_item(v.state, 1); order && order->kind == Kind::kStr)
    d.byte_order = order_name(order->text());
  if (auto elsize = tuple_item(v.state, 5); elsize && elsize->kind == Kind::kInt &&
                                            elsize->number_known && elsize->number > 0)
    d.itemsize = static_cast<std::uint64_t>(elsize->number);
  // A structured dtype is '|' itself; its fields say how the numbers inside are stored.
  const Value* fields = tuple_item(v.state, 4);
  if (fields && fields->kind == Kind::kDict) {
    const_cast<Value*>(fields)->flags |= kFlagDescribed;
    std::string_view combined;
    for (std::size_t i = 1; i < items_of(*fields).size(); i += 2) {
      const Value& f = val(items_of(*fields)[i]);
      if (f.kind != Kind::kTuple || items_of(f).empty()) continue;
      if (budget <= 0) break;
      DtypeDesc fd = describe_dtype(items_of(f)[0], depth + 1, budget);
      d.object = d.object || fd.object;
      if (fd.byte_order == "not-applicable") continue;
      combined = combined.empty() || combined == fd.byte_order ? fd.byte_order : "mixed";
    }
    if (!combined.empty()) d.byte_order = combined;
  }
  return d;
}

std::optional<std::vector<std::uint64_t>> Machine::shape_of(ValueId id) const {
  if (id == kNoValue) return std::nullopt;
  const Value& v = val(id);
  if (v.kind == Kind::kInt && v.number_known && v.number >= 0)
    return std::vector<std::uint64_t>{static_cast<std::uint64_t>(v.number)};
  if (v.kind != Kind::kTuple) return std::nullopt;
  std::vector<std::uint64_t> shape;
  shape.reserve(v.items.size);
  for (ValueId item : items_of(v)) {
    auto n = const_int(item);
    if (!n || *n < 0) return std::nullopt;
    shape.push_back(static_cast<std::uint64_t>(*n));
  }
  return shape;
}

void Machine::add_array(const DtypeDesc& d, std::vector<std::uint64_t> shape,
                        std::uint64_t bytes, std::uint64_t offset, std::string_view where,
                        bool check_size) {
  if (check_size && !d.object && d.itemsize > 0) {
    std::optional<std::uint64_t> expected = d.itemsize;
    for (std::uint64_t n : shape)
      if (expected) expected = checked_mul(*expected, n);
    if (!expected || *expected != bytes)
      rec_.add_finding(Severity::kWarning, Rule::kAnomaly,
                       fmt::format("array declares {} bytes but stores {}",
                                   expected ? std::to_string(*expected) : "more than 2^64",
                                   bytes),
                       offset);
  }
  // Strings built from their views once, then moved in (clang 14, the fuzz build's compiler,
  // has no parenthesised aggregate initialisation for emplace_back).
  rec_.arrays.push_back(
      ArrayInfo{std::string(d.code.empty() ? std::string_view("unknown") : d.code),
                std::string(d.byte_order), std::move(shape), bytes, offset, std::string(where)});
}

void Machine::array_from_reconstruct(ValueId state, std::uint64_t at) {
  // ndarray.__setstate__((version, shape, dtype, is_fortran, data)) or the 4-tuple without
  // the version.
  if (state == kNoValue || val(state).kind != Kind::kTuple) return;
  auto items = items_of(state);
  std::size_t base = items.size() == 5 ? 1 : items.size() == 4 ? 0 : 99;
  if (base == 99) return;
  auto shape = shape_of(items[base]);
  DtypeDesc d = describe_dtype(items[base + 1]);
  const Value& data = val(items[base + 3]);
  std::uint64_t bytes = data.kind == Kind::kBytes ? data.units : 0;
  bool sized = data.kind == Kind::kBytes;
  add_array(d, std::move(shape).value_or(std::vector<std::uint64_t>{}), bytes,
            sized ? data.offset : at, "pickle", sized && shape.has_value());
}

void Machine::array_from_buffer(ValueId args, std::uint64_t at) {
  // numpy's protocol-5 path: _frombuffer(buffer, dtype, shape, order)
  const Value* buf = tuple_item(args, 0);
  if (!buf) return;
  auto shape = shape_of(items_of(args).size() > 2 ? items_of(args)[2] : kNoValue);
  DtypeDesc d = describe_dtype(items_of(args).size() > 1 ? items_of(args)[1] : kNoValue);
  bool in_band = buf->kind == Kind::kBytes;
  add_array(d, std::move(shape).value_or(std::vector<std::uint64_t>{}), in_band ? buf->units : 0,
            in_band ? buf->offset : at, in_band ? "pickle" : "out-of-band",
            in_band && shape.has_value());
}

Status Machine::array_from_wrapper(ValueId state, std::uint64_t at) {
  auto shape = shape_of(dict_get(state, "shape"));
  DtypeDesc d = describe_dtype(dict_get(state, "dtype"));
  if (!shape) return fail(at, "joblib array wrapper without a usable shape");
  if (d.object) {
    // joblib writes object arrays as a pickle of their own right after the wrapper.
    rec_.add_finding(Severity::kNote, Rule::kNestedPickle,
                     "object array stored as a nested pickle (scanned)", in_.offset());
    if (opts_.depth + 1 > PickleScanOptions::kMaxDepth)
      return fail(at, "pickles nested too deeply");
    PickleScanOptions nested = opts_;
    nested.depth += 1;
    nested.single = true;
    std::uint64_t start = in_.offset();
    auto r = scan_pickle_stream(in_, policy_, nested, rec_);
    if (!r) return r.error();
    add_array(d, std::move(*shape), in_.offset() - start, start, "joblib", false);
    return ok_status();
  }
  if (d.itemsize == 0) return fail(at, "joblib array wrapper with a dtype of unknown size");
  if (const_int(dict_get(state, "numpy_array_alignment_bytes"))) {
    auto pad = read_le(1, at, "joblib alignment padding length");
    if (!pad) return pad.error();
    auto skipped = read_bytes(*pad, at, "joblib alignment padding");
    if (!skipped) return skipped.error();
  }
  std::optional<std::uint64_t> bytes = d.itemsize;
  for (std::uint64_t n : *shape)
    if (bytes) bytes = checked_mul(*bytes, n);
  std::uint64_t start = in_.offset();
  // Stepped over, not read: in a streamed (decompressed) file they never sit in memory.
  if (!bytes || !in_.skip(*bytes))
    return truncated(at, fmt::format("joblib array data ({} bytes declared, {} left)",
                                     bytes ? std::to_string(*bytes) : "more than 2^64",
                                     in_.offset() - start));
  add_array(d, std::move(*shape), *bytes, start, "joblib", false);
  return ok_status();
}

void Machine::legacy_wrapper(ValueId state, std::uint64_t at) {
  auto file = const_str(dict_get(state, "filename"));
  if (!file) return;
  bool escapes = file->starts_with("/") || file->find("..") != std::string_view::npos ||
                 file->find('\\') != std::string_view::npos;
  if (escapes)
    rec_.add_finding(Severity::kError, Rule::kPathEscape,
                     fmt::format("legacy joblib array file '{}' lies outside the artifact's "
                                 "directory",
                                 file->substr(0, 200)),
                     at);
  else
    rec_.add_finding(Severity::kWarning, Rule::kLoaderDefined,
                     fmt::format("legacy joblib (< 0.10) loads array file '{}' with "
                                 "allow_pickle=True; it is not scanned here",
                                 file->substr(0, 200)),
                     at);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool looks_like_pickle(std::string_view head) {
  if (head.empty()) return false;
  auto b = static_cast<std::uint8_t>(head[0]);
  if (b == 0x80) return head.size() < 2 || static_cast<std::uint8_t>(head[1]) <= 5;
  return is_opcode(b) && b < 0x80;
}

Result<PickleScanSummary> scan_pickle_stream(ByteReader& in, const Policy& policy,
                                             const PickleScanOptions& opts,
                                             InspectionRecord& rec) {
  PickleScanSummary summary;
  if (in.at_end()) return make_error(fmt::format("offset {}: no pickle data", in.offset()));
  while (!in.at_end()) {
    std::uint64_t start = in.offset();
    Machine machine(in, policy, opts, rec, summary);
    if (auto st = machine.run(); !st) {
      // Bytes after a complete pickle that are not a pickle at all: pickle.load ignores them.
      if (summary.pickles > 0 && machine.failed_on_first_opcode()) {
        std::uint64_t trailing = in.offset() - start;
        trailing += in.skip_rest();
        rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                        fmt::format("{} trailing bytes after the last pickle are not a pickle",
                                    trailing),
                        start);
        break;
      }
      return st.error();
    }
    ++summary.pickles;
    if (opts.single) break;
  }
  return summary;
}

namespace {

// joblib.load reads array bytes after each wrapper; pickle.load would read them as opcodes.
// A file could mean one thing to each: scan the plain reading too and keep what is unsafe.
void check_plain_reading(ByteReader& in, const Policy& policy, InspectionRecord& rec) {
  InspectionRecord plain;
  PickleScanOptions opts;
  (void)scan_pickle_stream(in, policy, opts, plain);
  for (auto& f : plain.findings) {
    if (f.severity != Severity::kError) continue;
    // Before the first array both readings are the same bytes: only new findings matter.
    bool known = std::any_of(rec.findings.begin(), rec.findings.end(), [&](const Finding& g) {
      return g.rule == f.rule && g.offset == f.offset;
    });
    if (known) continue;
    rec.add_finding(f.severity, f.rule,
                    fmt::format("if loaded with pickle.load instead of joblib.load: {}",
                                f.reason),
                    f.offset);
  }
}

// The whole audit of one pickle read from `in`; `plain_reader(fn)` calls fn on a fresh reader
// of the same bytes, for the plain reading of a joblib stream.
template <class PlainReader>
Status inspect_pickle_reader(ByteReader& in, PlainReader&& plain_reader,
                             const InspectContext& ctx, InspectionRecord& rec) {
  rec.format = "pickle";
  PickleScanOptions opts;
  opts.joblib_arrays = true;
  opts.depth = ctx.depth;
  auto summary = scan_pickle_stream(in, ctx.policy, opts, rec);
  if (!summary) return summary.error();
  rec.protocol = summary->protocol >= 0 ? summary->protocol
                                        : (summary->saw_binary_opcode ? 1 : 0);
  if (summary->array_wrappers > 0) {
    rec.format = "joblib";
    plain_reader([&](ByteReader& plain) { check_plain_reading(plain, ctx.policy, rec); });
  } else if (summary->cloudpickle) {
    rec.format = "cloudpickle";
  }
  rec.settle_verdict();
  return ok_status();
}

}  // namespace

Status inspect_pickle_bytes(std::string_view data, const InspectContext& ctx,
                            InspectionRecord& rec) {
  ByteReader in(data);
  return inspect_pickle_reader(
      in,
      [&](const auto& fn) {
        ByteReader plain(data);
        fn(plain);
      },
      ctx, rec);
}

Status inspect_pickle_source(ByteSource& source, const ReopenSource& reopen,
                             const InspectContext& ctx, InspectionRecord& rec) {
  ByteReader in(source);
  return inspect_pickle_reader(
      in,
      [&](const auto& fn) {
        std::unique_ptr<ByteSource> again = reopen();
        if (!again) return;
        ByteReader plain(*again);
        fn(plain);
      },
      ctx, rec);
}

}  // namespace crossload::audit
