// Calls in the abstract unpickler (REDUCE, NEWOBJ, OBJ, INST, BUILD) and the roles of the
// globals it knows: numpy's array reconstructors, code objects and functions built by value,
// and the reconstructors pickle-based formats declare in their descriptors (machine.h).
#include "formats/pickle/machine.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "formats/registry.h"

namespace crossload::audit::unpickler {

// ---------------------------------------------------------------------------------------------
// roles of well-known globals
// ---------------------------------------------------------------------------------------------

const std::array<RoleEntry, 18> kRoles{{
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
    {"builtins.getattr", Role::kGetattr},
}};

// Methods of a by-value class that the unpickler itself may call while loading.
const std::array<std::string_view, 21> kLoadHooks{
    "__setstate__", "__new__", "__init__", "__reduce__", "__reduce_ex__", "__setattr__",
    "__getattr__", "__getattribute__", "__del__", "__hash__", "__eq__", "__set_name__",
    "__init_subclass__", "__class_getitem__", "__setitem__", "__set__", "__missing__",
    "append", "extend", "add", "__index__"};

namespace {

Role role_of(PickleRole r) {
  switch (r) {
    case PickleRole::kCode: return Role::kCodeCtor;
    case PickleRole::kCodeAfterLnotab: return Role::kCodeCtorLnotab;
    case PickleRole::kFunction: return Role::kFunctionCtor;
    case PickleRole::kClass: return Role::kSkeletonClass;
    case PickleRole::kClassState: return Role::kClassSetstate;
    case PickleRole::kModule: return Role::kSubimport;
    case PickleRole::kBuiltinType: return Role::kBuiltinType;
    case PickleRole::kTypeByName: return Role::kTypeByName;
    case PickleRole::kValue: return Role::kPlain;
    case PickleRole::kArray: return Role::kArrayCall;
    case PickleRole::kCell: return Role::kCell;
    case PickleRole::kCellSetter: return Role::kCellSetter;
  }
  return Role::kPlain;
}

}  // namespace

const PickleReconstructor* format_reconstructor(std::string_view joined) {
  for (const auto* d : all_descriptors())
    for (const auto& r : d->reconstructors)
      if (r.name == joined) return &r;
  return nullptr;
}

Role role_of(const std::string& joined) {
  for (const auto& r : kRoles)
    if (r.name == joined) return r.role;
  if (const auto* r = format_reconstructor(joined)) return role_of(r->role);
  return Role::kPlain;
}

std::string_view pickled_by(std::string_view module) {
  for (const auto* d : all_descriptors()) {
    std::string_view m = d->pickle_module;
    if (!m.empty() && module.starts_with(m) && (module.size() == m.size() || module[m.size()] == '.'))
      return d->name;
  }
  return {};
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
    case Role::kUfuncReconstruct: case Role::kSubimport: case Role::kBuiltinType: case Role::kTypeByName:
      return role_import_by_name(role, result, at);
    case Role::kCodeCtor: case Role::kCodeCtorLnotab: case Role::kFunctionCtor: case Role::kSkeletonClass:
      role_code(role, result, at);
      return ok_status();
    case Role::kClassSetstate:
      role_class_setstate(result);
      return ok_status();
    case Role::kArrayCall:
      role_array_call(result, at);
      return ok_status();
    case Role::kArrayWrapper:
      ++summary_.array_wrappers;
      return ok_status();
    case Role::kGetattr:
      return role_getattr(result, at);
    case Role::kCellSetter:
      role_cell_setter(result, at);
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

// A helper that calls its first argument on its second and sets the result's state (its third):
// trusted only to call numpy's array reconstructor, whose array it then is.
void Machine::role_array_call(ValueId result, std::uint64_t at) {
  ValueId args = val(result).args;
  const Value* f = tuple_item(args, 0);
  if (!f || f->kind != Kind::kGlobal || globals_[f->ref].role != Role::kReconstruct) {
    rec_.add_finding(Severity::kError, Rule::kUnresolvedGlobal,
                     "rebuilds an array through a callable that is not numpy's array reconstructor", at);
    return;
  }
  if (items_of(args).size() > 2) array_from_reconstruct(items_of(args)[2], at);
}

// getattr(M, N, builtins.setattr) with M.N a declared kCellSetter is that setter, imported as a
// pickle naming it would; any other getattr was judged dangerous when it was imported.
Status Machine::role_getattr(ValueId result, std::uint64_t at) {
  ValueId args = val(result).args;
  if (args == kNoValue || val(args).kind != Kind::kTuple || items_of(args).size() != 3) return ok_status();
  auto items = items_of(args);
  const Value& module = val(items[0]);
  const Value& fallback = val(items[2]);
  auto name = const_str(items[1]);
  if (module.kind != Kind::kGlobal || fallback.kind != Kind::kGlobal || !name ||
      globals_[fallback.ref].name.joined() != "builtins.setattr")
    return ok_status();
  const QualifiedName& m = globals_[module.ref].name;
  std::string owner = m.joined();
  const auto* r = format_reconstructor(owner + "." + std::string(*name));
  if (!r || r->role != PickleRole::kCellSetter) return ok_status();
  auto setter = import_global(owner, *name, at);
  if (!setter) return setter.error();
  cell_setters_.push_back({{val(result).ref, items[0], items[2], args}});
  Value v = val(*setter);
  val(result) = v;
  return ok_status();
}

// setattr(cell, 'cell_contents', value): anything else sets attributes of whatever it is given.
void Machine::role_cell_setter(ValueId result, std::uint64_t at) {
  ValueId args = val(result).args;
  const Value* cell = tuple_item(args, 0);
  const Value* name = tuple_item(args, 1);
  bool is_cell = cell && cell->kind == Kind::kCall && val(cell->ref).kind == Kind::kGlobal &&
                 globals_[val(cell->ref).ref].role == Role::kCell;
  if (!is_cell || !name || name->kind != Kind::kStr || name->text() != "cell_contents")
    rec_.add_finding(Severity::kError, Rule::kDangerousGlobal,
                     "sets an attribute through setattr on something other than a closure cell's contents",
                     at);
}

void Machine::withdraw_cell_setter_imports() {
  for (const auto& use : cell_setters_) {
    if (std::any_of(use.values.begin(), use.values.end(),
                    [&](ValueId id) { return val(id).flags & kFlagReused; }))
      continue;
    auto& findings = rec_.findings;
    for (std::size_t i = 0; i < 3; ++i) {
      std::uint64_t at = val(use.values[i]).offset;
      findings.erase(std::remove_if(findings.begin(), findings.end(),
                                    [&](const Finding& f) {
                                      return f.rule == Rule::kDangerousGlobal && f.offset == at;
                                    }),
                     findings.end());
    }
  }
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
  } else if (role == Role::kTypeByName) {
    g = import_global(first->ends_with("Type") ? "types" : "builtins", *first, at);
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
  if ((role == Role::kBuiltinType || role == Role::kTypeByName) && *first == "CodeType")
    globals_[gv.ref].role = Role::kCodeCtor;
  return ok_status();
}

void Machine::role_code(Role role, ValueId result, std::uint64_t at) {
  Value& r = val(result);
  if (role == Role::kCodeCtor || role == Role::kCodeCtorLnotab) {
    r.flags |= kFlagCode;
    const Value* first = tuple_item(r.args, 0);
    std::size_t shift = role == Role::kCodeCtorLnotab && first && first->kind == Kind::kBytes ? 1 : 0;
    const Value* name = tuple_item(r.args, 11 + shift);  // co_name in CodeType's argument order
    std::string what = name && name->kind == Kind::kStr
                           ? fmt::format(" '{}'", name->text().substr(0, 80))
                           : std::string();
    rec_.add_finding(Severity::kWarning, Rule::kCodeObject,
                     fmt::format("builds a Python code object{}: by-value code that runs "
                                 "whenever it is called",
                                 what),
                     at);
    judge_code(r.args, what, shift);
    note_code_python(r.args, shift);
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
void Machine::judge_code(ValueId args, std::string_view what, std::size_t shift) {
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
    const Value* tuple = tuple_item(args, i + shift);
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
static std::string code_python_of(std::size_t n_args, std::uint32_t head) {
  if (n_args == 16) return "3.8-3.10";
  if (n_args != 18) return fmt::format("unknown ({} arguments)", n_args);
  if (head == kNoValue || !(head & kBytesHead)) return "3.11+";
  unsigned op = (head >> 8) & 0xff, arg = head & 0xff;
  if ((op == 151 && arg == 0) || (op == 149 && arg > 0) || op == 135) return "3.11-3.12";
  if ((op == 149 && arg == 0) || op == 62 || op == 94) return "3.13";
  if (op == 128 && arg == 0) return "3.14";
  return "3.11+";
}

// `shift`: arguments before CodeType's own (dill's _create_code takes one more first).
void Machine::note_code_python(ValueId args, std::size_t shift) {
  const Value* code = tuple_item(args, 6 + shift);
  std::uint32_t head = code && code->kind == Kind::kBytes ? code->ref : kNoValue;
  std::size_t n_args = items_of(val(args)).size();
  std::string python = code_python_of(n_args >= shift ? n_args - shift : 0, head);
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

}  // namespace crossload::audit::unpickler
