// The abstract unpickler's machine: literals of the text protocols, values and the stack, the
// arguments of opcodes, the opcode loop and its opcode groups (machine.h).
#include "formats/pickle/machine.h"

#include "formats/registry.h"

namespace crossload::audit::unpickler {

// ---------------------------------------------------------------------------------------------
// literals of the text protocols
// ---------------------------------------------------------------------------------------------

std::string hex_byte(std::uint8_t b) { return fmt::format("0x{:02x}", b); }

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
      withdraw_cell_setter_imports();  // only now is every later use of their parts known
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
      val(*v).flags |= kFlagReused;
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
    val(*found).flags |= kFlagReused;
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
    // A format's own reconstructors are judged by what they build (their role), not by a
    // blanket rule on their module (dill's module is dangerous as a whole: dill.load).
    if (const auto* r = format_reconstructor(joined)) {
      if (trusted_by_role(r->role)) g.cls = {Trust::kTrusted, ""};
      else if (g.cls.trust == Trust::kDangerous) g.cls = {Trust::kUntrusted, ""};
    }
    if (summary_.pickled_by.empty()) summary_.pickled_by = pickled_by(g.name.module);
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

}  // namespace crossload::audit::unpickler
