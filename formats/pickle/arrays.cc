// numpy arrays in the abstract unpickler: dtypes, shapes and sizes of the arrays a pickle
// rebuilds, in band or out of band (machine.h); joblib's wrappers are formats/joblib's.
#include "formats/pickle/machine.h"

namespace crossload::audit::unpickler {

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

}  // namespace crossload::audit::unpickler
