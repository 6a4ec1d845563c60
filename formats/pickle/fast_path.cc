// The abstract unpickler's fast path: the dozen opcodes that make up nearly all of a model's
// pickle, run back to back where they cannot fail (machine.h).
#include "formats/pickle/machine.h"

namespace crossload::audit::unpickler {

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
    val(*found).flags |= kFlagReused;
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

}  // namespace crossload::audit::unpickler
