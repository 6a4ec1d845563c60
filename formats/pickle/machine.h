#pragma once
// The abstract unpickler behind formats/pickle/inspector.h: its symbolic values, its memo and
// the Machine that replays a pickle's opcodes over them. Private to the pickle inspector, whose
// sections are one file each: machine.cc (values, the stack, the opcode groups), fast_path.cc
// (the common opcodes run back to back), calls.cc (calls and the roles of well-known globals:
// code objects, by-value classes, pickle-based formats' reconstructors), arrays.cc (numpy
// arrays), and formats/joblib/pickle_arrays.cc (joblib's array wrappers, whose bytes follow them
// in the stream).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/descriptor.h"
#include "formats/pickle/inspector.h"

namespace crossload::audit::unpickler {


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
  kFlagReused = 16,    // pushed again from the memo or by DUP (see CellSetterUse)
};

// What a few well-known globals mean to the abstract interpreter.
enum class Role : std::uint8_t {
  kPlain, kReconstruct, kFromBuffer, kDtype, kCodecsEncode, kUfuncReconstruct, kArrayWrapper,
  kLegacyWrapper, kCodeCtor, kFunctionCtor, kSkeletonClass, kClassSetstate, kSubimport,
  kBuiltinType,
  kCodeCtorLnotab,  // kCodeCtor with co_lnotab first when the first argument is bytes (dill)
  kArrayCall,       // (reconstructor, args, state, ...): an array built through a helper (dill)
  kTypeByName,      // a builtins type or types.<name>Type, by name (dill)
  kGetattr,         // builtins.getattr: dangerous, but see CellSetterUse
  kCell,            // builds a closure cell (dill._dill._create_cell)
  kCellSetter,      // sets a closure cell's contents (dill._dill._setattr)
};

// getattr(M, N, builtins.setattr) where M.N is a format's declared kCellSetter: dill's way to
// write setattr (formats/dill/descriptor.cc). Its three imports are dangerous when read; once
// the pickle has stopped they are withdrawn if none of them nor the argument tuple was ever
// used again (pushed from the memo or duplicated), so the getattr did that one thing only.
struct CellSetterUse {
  std::array<ValueId, 4> values;  // getattr, the module, setattr, the argument tuple
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

inline Value made(Kind kind, std::uint64_t at) {
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

// The role of the global `joined` (module.qualname): a well-known one, or a reconstructor a
// pickle-based format declares (calls.cc).
Role role_of(const std::string& joined);
// A reconstructor a pickle-based format declares (formats/<name>/descriptor.cc), or null.
const PickleReconstructor* format_reconstructor(std::string_view joined);
// The pickle-based format whose library module a global comes from (cloudpickle, dill), or "".
std::string_view pickled_by(std::string_view module);
// Number of code points in UTF-8 text: the byte count of its latin-1 encoding.
std::uint64_t utf8_code_points(std::string_view s);
bool is_opcode(std::uint8_t b);

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
  void judge_code(ValueId args, std::string_view what, std::size_t shift);
  void note_code_python(ValueId args, std::size_t shift);
  void role_codecs(ValueId result, std::uint64_t at);
  void role_array_call(ValueId result, std::uint64_t at);
  Status role_getattr(ValueId result, std::uint64_t at);
  void role_cell_setter(ValueId result, std::uint64_t at);
  void withdraw_cell_setter_imports();
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
  std::vector<CellSetterUse> cell_setters_;
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

// Inline: the fast path (fast_path.cc) makes a tuple or checks a BUILD with these for nearly
// every opcode of a model's pickle.
inline Items Machine::store_items(std::span<const ValueId> ids) {
  Items run{static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(ids.size()),
            static_cast<std::uint32_t>(ids.size())};
  pool_.insert(pool_.end(), ids.begin(), ids.end());
  return run;
}

// The role of what made a call's or object's value (kPlain for anything else).
inline Role Machine::role_of_callee(ValueId id) const {
  const Value& v = val(id);
  if ((v.kind != Kind::kCall && v.kind != Kind::kObject) || v.ref == kNoValue ||
      val(v.ref).kind != Kind::kGlobal)
    return Role::kPlain;
  return globals_[val(v.ref).ref].role;
}

}  // namespace crossload::audit::unpickler
