#include "formats/npy/inspector.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "formats/pickle/inspector.h"
#include "harness/inspection/byte_reader.h"

namespace crossload::audit {

namespace {

// The header is a Python literal: {'descr': ..., 'fortran_order': ..., 'shape': (...), }.
// A small bounded parser for just what numpy writes (dict, list, tuple, str, int, bools).
struct Literal {
  enum class Kind { kStr, kInt, kBool, kNone, kTuple, kList, kDict } kind = Kind::kNone;
  std::string text;
  std::int64_t number = 0;
  std::vector<Literal> items;  // dict: key, value, key, value...
};

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view s) : s_(s) {}

  Result<Literal> parse() {
    auto v = value(0);
    if (!v) return v;
    skip_space();
    if (pos_ != s_.size()) return error("unexpected text after the header literal");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 32;

  Error error(std::string_view what) const {
    return make_error(fmt::format("header position {}: {}", pos_, what));
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  Result<Literal> value(int depth) {
    if (depth > kMaxDepth) return error("header nests too deeply");
    skip_space();
    if (pos_ >= s_.size()) return error("header ends early");
    char c = s_[pos_];
    if (c == '\'' || c == '"') return string();
    if (c == '{') return sequence(depth, '}', Literal::Kind::kDict);
    if (c == '(') return sequence(depth, ')', Literal::Kind::kTuple);
    if (c == '[') return sequence(depth, ']', Literal::Kind::kList);
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return integer();
    for (auto [word, kind, n] : {std::tuple{"True", Literal::Kind::kBool, 1},
                                 std::tuple{"False", Literal::Kind::kBool, 0},
                                 std::tuple{"None", Literal::Kind::kNone, 0}}) {
      if (s_.substr(pos_).starts_with(word)) {
        pos_ += std::string_view(word).size();
        Literal l;
        l.kind = kind;
        l.number = n;
        return l;
      }
    }
    return error(fmt::format("unexpected character '{}'", c));
  }

  Result<Literal> string() {
    char quote = s_[pos_++];
    Literal l;
    l.kind = Literal::Kind::kStr;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      l.text += s_[pos_++];
    }
    if (pos_ >= s_.size()) return error("unterminated string");
    ++pos_;
    return l;
  }

  Result<Literal> integer() {
    Literal l;
    l.kind = Literal::Kind::kInt;
    bool negative = s_[pos_] == '-';
    if (negative) ++pos_;
    std::size_t start = pos_;
    std::uint64_t v = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      if (v > (std::uint64_t{1} << 62)) return error("integer too large");
      v = v * 10 + static_cast<std::uint64_t>(s_[pos_++] - '0');
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 headers
    if (pos_ == start) return error("expected digits");
    l.number = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
    return l;
  }

  Result<Literal> sequence(int depth, char close, Literal::Kind kind) {
    ++pos_;
    Literal l;
    l.kind = kind;
    while (true) {
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == close) {
        ++pos_;
        return l;
      }
      auto item = value(depth + 1);
      if (!item) return item;
      l.items.push_back(std::move(*item));
      skip_space();
      if (kind == Literal::Kind::kDict) {
        if (pos_ >= s_.size() || s_[pos_] != ':') return error("expected ':' in dict");
        ++pos_;
        auto v = value(depth + 1);
        if (!v) return v;
        l.items.push_back(std::move(*v));
        skip_space();
      }
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
      } else if (pos_ >= s_.size() || s_[pos_] != close) {
        return error(fmt::format("expected ',' or '{}'", close));
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

const Literal* dict_get(const Literal& d, std::string_view key) {
  for (std::size_t i = 0; i + 1 < d.items.size(); i += 2)
    if (d.items[i].kind == Literal::Kind::kStr && d.items[i].text == key) return &d.items[i + 1];
  return nullptr;
}

struct Descr {
  std::string code;  // without the byte-order character
  std::string byte_order = "unknown";
  std::uint64_t itemsize = 0;  // 0: unknown
  bool object = false;
};

std::string order_name(char c) {
  switch (c) {
    case '<': return "little";
    case '>': return "big";
    case '|': return "not-applicable";
    case '=': return "native";
    default: return "unknown";
  }
}

Descr describe_simple(std::string_view s) {
  Descr d;
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
    d.byte_order = order_name(s[0]);
    s.remove_prefix(1);
  }
  d.code = std::string(s.substr(0, 32));
  d.object = !s.empty() && s[0] == 'O';
  std::uint64_t n = 0;
  std::size_t i = 1;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n < (1u << 30); ++i)
    n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
  if (!s.empty()) d.itemsize = s[0] == 'U' ? n * 4 : (i == 1 ? (d.object ? 8 : 0) : n);
  return d;
}

Descr describe(const Literal& descr, int depth = 0) {
  if (descr.kind == Literal::Kind::kStr) return describe_simple(descr.text);
  Descr d;
  if (descr.kind != Literal::Kind::kList || depth > 8) return d;
  // structured: [(name, descr[, shape]), ...]
  std::string combined;
  std::uint64_t size = 0;
  bool sized = true;
  for (const auto& field : descr.items) {
    if (field.kind != Literal::Kind::kTuple || field.items.size() < 2) return d;
    Descr f = describe(field.items[1], depth + 1);
    std::uint64_t count = 1;
    if (field.items.size() > 2)
      for (const auto& dim : field.items[2].items)
        count = dim.number > 0 ? count * static_cast<std::uint64_t>(dim.number) : 0;
    if (f.itemsize == 0 || count > (std::uint64_t{1} << 32)) sized = false;
    size += f.itemsize * count;
    d.object = d.object || f.object;
    if (f.byte_order != "not-applicable")
      combined = combined.empty() || combined == f.byte_order ? f.byte_order : "mixed";
  }
  d.itemsize = sized ? size : 0;
  d.code = sized ? fmt::format("V{}", size) : "V";
  d.byte_order = combined.empty() ? "not-applicable" : combined;
  return d;
}

struct Header {
  int major = 0;
  Descr descr;
  std::vector<std::uint64_t> shape;
  std::size_t data_start = 0;
};

Result<Header> read_header(std::string_view data) {
  ByteReader in(data);
  in.take(6);  // magic, checked by the caller
  auto major = in.take_le(1);
  auto minor = in.take_le(1);
  if (!major || !minor) return make_error("offset 6: truncated .npy version");
  if (*major < 1 || *major > 3)
    return make_error(fmt::format("offset 6: unsupported .npy version {}.{}", *major, *minor));
  auto len = in.take_le(*major == 1 ? 2 : 4);
  if (!len) return make_error("offset 8: truncated .npy header length");
  std::uint64_t at = in.offset();
  auto text = in.take(*len);
  if (!text)
    return make_error(fmt::format("offset {}: truncated .npy header ({} bytes declared, {} "
                                  "left)",
                                  at, *len, in.remaining()));
  auto literal = LiteralParser(*text).parse();
  if (!literal)
    return make_error(fmt::format("offset {}: malformed .npy header: {}", at,
                                  literal.error().message));
  const Literal* descr = dict_get(*literal, "descr");
  const Literal* shape = dict_get(*literal, "shape");
  if (literal->kind != Literal::Kind::kDict || !descr || !shape ||
      shape->kind != Literal::Kind::kTuple)
    return make_error(fmt::format("offset {}: .npy header lacks 'descr' or 'shape'", at));
  Header h;
  h.major = static_cast<int>(*major);
  h.descr = describe(*descr);
  for (const auto& dim : shape->items) {
    if (dim.kind != Literal::Kind::kInt || dim.number < 0)
      return make_error(fmt::format("offset {}: .npy shape is not non-negative integers", at));
    h.shape.push_back(static_cast<std::uint64_t>(dim.number));
  }
  h.data_start = in.pos();
  return h;
}

}  // namespace

Status inspect_npy_member(std::string_view data, std::string_view member,
                          const InspectContext& ctx, InspectionRecord& rec) {
  if (!data.starts_with("\x93NUMPY")) return make_error("offset 0: not a .npy file");
  auto h = read_header(data);
  if (!h) return h.error();
  std::string where = member.empty() ? "npy" : fmt::format("npy:{}", member);
  std::uint64_t payload = data.size() - h->data_start;
  if (h->descr.object) {
    // np.load(allow_pickle=True) unpickles the payload: scan it like any pickle.
    rec.add_finding(Severity::kNote, Rule::kNestedPickle,
                    "object array: its data is a pickle (loaded only with allow_pickle=True)",
                    h->data_start);
    if (ctx.depth + 1 > PickleScanOptions::kMaxDepth)
      return make_error("pickles nested too deeply");
    ByteReader in(data.substr(h->data_start), h->data_start);
    PickleScanOptions opts;
    opts.depth = ctx.depth + 1;
    opts.single = true;
    if (auto r = scan_pickle_stream(in, ctx.policy, opts, rec); !r) return r.error();
    rec.arrays.push_back({h->descr.code, h->descr.byte_order, h->shape, payload,
                          h->data_start, where});
    return ok_status();
  }
  std::optional<std::uint64_t> expected = h->descr.itemsize;
  for (std::uint64_t n : h->shape)
    if (expected) expected = checked_mul(*expected, n);
  if (h->descr.itemsize > 0) {
    if (!expected || *expected > payload)
      return make_error(fmt::format(
          "offset {}: truncated .npy data ({} bytes declared, {} present)", h->data_start,
          expected ? std::to_string(*expected) : "more than 2^64", payload));
    if (*expected < payload)
      rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                      fmt::format("{} bytes follow the array data", payload - *expected),
                      h->data_start + *expected);
    payload = *expected;
  }
  rec.arrays.push_back({h->descr.code.empty() ? "unknown" : h->descr.code, h->descr.byte_order,
                        h->shape, payload, h->data_start, where});
  return ok_status();
}

Status inspect_npy(std::string_view data, const InspectContext& ctx, InspectionRecord& rec) {
  rec.format = "npy";
  if (data.size() > 6) rec.protocol = static_cast<unsigned char>(data[6]);
  auto st = inspect_npy_member(data, "", ctx, rec);
  rec.settle_verdict();
  return st;
}

}  // namespace crossload::audit
