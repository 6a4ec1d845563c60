#include "harness/compare/compare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace crossload {

namespace {

constexpr std::size_t kMaxListed = 10;

// Running counts while walking the two arrays; turned into a Comparison at the end.
struct Tally {
  std::size_t not_identical = 0, beyond = 0, nan_one_side = 0;
  double max_abs = 0;
  std::uint64_t max_ulp = 0;
  std::vector<std::size_t> first_not_identical, first_beyond;

  void differs(std::size_t i, bool beyond_tolerance) {
    ++not_identical;
    if (first_not_identical.size() < kMaxListed) first_not_identical.push_back(i);
    if (!beyond_tolerance) return;
    ++beyond;
    if (first_beyond.size() < kMaxListed) first_beyond.push_back(i);
  }
};

// An integer of any signedness, exactly: int64 and uint64 values compare without loss.
struct ExactInt {
  bool negative = false;
  std::uint64_t magnitude = 0;
  bool operator==(const ExactInt&) const = default;
  double as_double() const { return negative ? -double(magnitude) : double(magnitude); }
};

bool is_float(const NpyArray& a) { return a.kind == DtypeKind::kFloat; }
bool is_unicode(const NpyArray& a) { return a.kind == DtypeKind::kUnicode; }

ExactInt int_at(const NpyArray& a, std::size_t i) {
  switch (a.kind) {
    case DtypeKind::kInt: {
      const std::int64_t v = a.ints[i];
      return v < 0 ? ExactInt{true, 0 - std::uint64_t(v)} : ExactInt{false, std::uint64_t(v)};
    }
    case DtypeKind::kUInt: return {false, a.uints[i]};
    case DtypeKind::kBool: return {false, a.bools[i]};
    default: return {};
  }
}

double number_at(const NpyArray& a, std::size_t i) {
  return is_float(a) ? a.floats[i] : int_at(a, i).as_double();
}

// A float equals an integer only if it is integral and in range; the cast is then exact.
bool float_equals_int(double d, ExactInt n) {
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) >= 0x1p64) return false;
  return ExactInt{d < 0, static_cast<std::uint64_t>(std::fabs(d))} == n;
}

// --- ULPs ---------------------------------------------------------------------------

// Rounds to binary16 (round to nearest even); below 2^-14 the quantum is 2^-24, and a
// subnormal's bit pattern is simply its count of quanta.
std::uint16_t half_bits(double x) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double m = std::fabs(x);
  if (std::isinf(m) || m >= 65520.0) return sign | 0x7c00;  // 65520 rounds up to infinity
  if (m < 0x1p-14) return sign | static_cast<std::uint16_t>(std::nearbyint(std::ldexp(m, 24)));
  int e = 0;
  std::frexp(m, &e);  // m = f * 2^e with f in [0.5, 1)
  auto significand = static_cast<unsigned>(std::nearbyint(std::ldexp(m, 11 - e)));
  if (significand == 2048) {  // rounding carried into the exponent
    significand = 1024;
    ++e;
  }
  return sign | static_cast<std::uint16_t>(((e + 14) << 10) | (significand - 1024));
}

// Sign-magnitude bit patterns mapped onto a line where adjacent floats are adjacent integers.
std::int64_t ordered(std::uint64_t bits, int width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  const auto magnitude = static_cast<std::int64_t>(bits & (sign - 1));
  return (bits & sign) ? -magnitude : magnitude;
}

std::int64_t ordered_at(double x, std::size_t item_size) {
  if (item_size == 2) return ordered(half_bits(x), 16);
  if (item_size == 4) return ordered(std::bit_cast<std::uint32_t>(static_cast<float>(x)), 32);
  return ordered(std::bit_cast<std::uint64_t>(x), 64);
}

// --- the walks ------------------------------------------------------------------------

bool beyond_tolerance(double ref, double cand, double diff, Tolerance tol) {
  if (std::isinf(ref) || std::isinf(cand)) return true;  // equal infinities never get here
  return !(diff <= tol.atol + tol.rtol * std::fabs(ref));
}

// Both sides float: bitwise first (the common, fast case), then NaN, then tolerance.
void walk_floats(const NpyArray& ref, const NpyArray& cand, Tolerance tol, Tally& t) {
  const std::size_t precision = std::min(ref.item_size, cand.item_size);
  for (std::size_t i = 0; i < ref.floats.size(); ++i) {
    const double a = ref.floats[i], b = cand.floats[i];
    if (std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b)) continue;
    const bool nan_a = std::isnan(a), nan_b = std::isnan(b);
    if (nan_a || nan_b) {
      t.nan_one_side += nan_a != nan_b;
      t.differs(i, nan_a != nan_b);
      continue;
    }
    const double diff = a == b ? 0.0 : std::fabs(a - b);
    t.max_abs = std::max(t.max_abs, diff);
    t.max_ulp = std::max(t.max_ulp, ulp_distance(a, b, precision));
    t.differs(i, beyond_tolerance(a, b, diff, tol));
  }
}

// One side integer or bool, the other float: the values are what is compared.
void walk_mixed(const NpyArray& ref, const NpyArray& cand, Tolerance tol, Tally& t) {
  const NpyArray& ints = is_float(ref) ? cand : ref;
  const NpyArray& floats = is_float(ref) ? ref : cand;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double f = floats.floats[i];
    if (float_equals_int(f, int_at(ints, i))) continue;
    if (std::isnan(f)) {
      ++t.nan_one_side;
      t.differs(i, true);
      continue;
    }
    const double a = number_at(ref, i), b = number_at(cand, i);
    const double diff = a == b ? 0.0 : std::fabs(a - b);
    t.max_abs = std::max(t.max_abs, diff);
    t.differs(i, beyond_tolerance(a, b, diff, tol));
  }
}

// Labels must be equal: integer width, signedness and byte order do not matter.
void walk_labels(const NpyArray& ref, const NpyArray& cand, Tally& t) {
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (!(int_at(ref, i) == int_at(cand, i))) t.differs(i, true);
}

void walk_strings(const NpyArray& ref, const NpyArray& cand, Tally& t) {
  for (std::size_t i = 0; i < ref.strings.size(); ++i)
    if (ref.strings[i] != cand.strings[i]) t.differs(i, true);
}

// --- words ------------------------------------------------------------------------------

bool is_label_comparison(const NpyArray& ref, const NpyArray& cand) {
  return !is_float(ref) && !is_float(cand);
}

std::string_view noun(const NpyArray& ref, const NpyArray& cand) {
  return is_label_comparison(ref, cand) ? "labels" : "values";
}

std::string value_text(const NpyArray& a, std::size_t i) {
  switch (a.kind) {
    case DtypeKind::kFloat: return fmt::format("{}", a.floats[i]);
    case DtypeKind::kInt: return fmt::format("{}", a.ints[i]);
    case DtypeKind::kUInt: return fmt::format("{}", a.uints[i]);
    case DtypeKind::kBool: return a.bools[i] ? "True" : "False";
    case DtypeKind::kUnicode: return fmt::format("'{}'", to_utf8(a.strings[i]));
  }
  return "?";
}

// "row 17", "row 17, column 2", "index (1, 2, 3)"; a 0-d array has no position to name.
std::string position(const std::vector<std::size_t>& shape, std::size_t flat) {
  std::vector<std::size_t> index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  if (index.size() == 1) return fmt::format("row {}", index[0]);
  if (index.size() == 2) return fmt::format("row {}, column {}", index[0], index[1]);
  return fmt::format("index ({})", fmt::join(index, ", "));
}

std::string first_difference(const NpyArray& ref, const NpyArray& cand, std::size_t i) {
  const std::string where = ref.shape.empty() ? "" : " at " + position(ref.shape, i);
  return fmt::format("first{}: expected {}, got {}", where, value_text(ref, i), value_text(cand, i));
}

std::string mismatch_summary(const NpyArray& ref, const NpyArray& cand, Tolerance tol, const Comparison& c) {
  const std::string head = fmt::format("{} of {} {} {}", c.n_beyond_tolerance, c.n_values, noun(ref, cand),
                                       c.n_beyond_tolerance == 1 ? "differs" : "differ");
  std::string detail = first_difference(ref, cand, c.first_differing.front());
  if (is_label_comparison(ref, cand)) return fmt::format("{} ({})", head, detail);
  if (c.n_nan_one_side > 0) detail += fmt::format("; {} with NaN on one side only", c.n_nan_one_side);
  return fmt::format("{} beyond rtol={:g} atol={:g} ({}; max abs diff {:.3g})", head, tol.rtol, tol.atol, detail,
                     c.max_abs);
}

std::string summary(const NpyArray& ref, const NpyArray& cand, Tolerance tol, const Comparison& c) {
  if (c.outcome == Outcome::kMismatch) return mismatch_summary(ref, cand, tol, c);
  if (c.outcome == Outcome::kOkTolerance) {
    const std::string ulps = is_float(ref) && is_float(cand) ? fmt::format(", max {} ULP", c.max_ulp) : "";
    return fmt::format("{} of {} values not bitwise identical, all within rtol={:g} atol={:g} (max abs diff {:.3g}{})",
                       c.n_not_identical, c.n_values, tol.rtol, tol.atol, c.max_abs, ulps);
  }
  if (c.n_values == 0) return fmt::format("both arrays are empty, shape {}", shape_string(ref.shape));
  if (is_float(ref) && is_float(cand)) return fmt::format("all {} values bitwise identical", c.n_values);
  return fmt::format("all {} {} equal", c.n_values, noun(ref, cand));
}

std::string described_dtype(const NpyArray& a, bool with_order) {
  if (!with_order || a.byte_order == ByteOrder::kNone) return dtype_name(a);
  return fmt::format("{} {}", dtype_name(a), byte_order_name(a.byte_order));
}

void note_dtypes(const NpyArray& ref, const NpyArray& cand, Comparison& c) {
  const bool order_differs = ref.byte_order != cand.byte_order && ref.byte_order != ByteOrder::kNone &&
                             cand.byte_order != ByteOrder::kNone;
  c.dtype_differs = ref.kind != cand.kind || ref.item_size != cand.item_size || order_differs;
  if (!c.dtype_differs) return;
  c.dtype_note = fmt::format("{} {} vs {}{}", noun(ref, cand), described_dtype(ref, order_differs),
                             described_dtype(cand, order_differs), c.n_not_identical == 0 ? " (same values)" : "");
}

Comparison refuse(const NpyArray& ref, const NpyArray& cand, std::string summary) {
  Comparison c{.outcome = Outcome::kMismatch, .n_values = ref.size()};
  c.summary = std::move(summary);
  c.dtype_differs = ref.kind != cand.kind || ref.item_size != cand.item_size;
  if (c.dtype_differs) c.dtype_note = fmt::format("{} vs {}", dtype_name(ref), dtype_name(cand));
  return c;
}

// Reasons the two arrays cannot be compared element by element at all.
std::string incomparable(const NpyArray& ref, const NpyArray& cand) {
  if (ref.shape != cand.shape)
    return fmt::format("shapes differ: expected {}, got {}", shape_string(ref.shape), shape_string(cand.shape));
  if (is_unicode(ref) != is_unicode(cand))
    return fmt::format("dtypes cannot be compared: expected {} {}, got {} {}",
                       is_unicode(ref) ? "string labels" : "numbers", dtype_name(ref),
                       is_unicode(cand) ? "string labels" : "numbers", dtype_name(cand));
  if (ref.size() != cand.size())  // only a hand-built NpyArray can get here
    return fmt::format("sizes differ: expected {} values, got {}", ref.size(), cand.size());
  return {};
}

void walk(const NpyArray& ref, const NpyArray& cand, Tolerance tol, Tally& t) {
  if (is_unicode(ref)) walk_strings(ref, cand, t);
  else if (is_float(ref) && is_float(cand)) walk_floats(ref, cand, tol, t);
  else if (is_float(ref) || is_float(cand)) walk_mixed(ref, cand, tol, t);
  else walk_labels(ref, cand, t);
}

}  // namespace

std::uint64_t ulp_distance(double a, double b, std::size_t item_size) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<std::uint64_t>::max();
  const std::int64_t x = ordered_at(a, item_size), y = ordered_at(b, item_size);
  // Unsigned subtraction: the true distance can exceed INT64_MAX (from -inf to +inf).
  return x >= y ? std::uint64_t(x) - std::uint64_t(y) : std::uint64_t(y) - std::uint64_t(x);
}

Comparison compare_arrays(const NpyArray& reference, const NpyArray& candidate, Tolerance tol) {
  if (std::string why = incomparable(reference, candidate); !why.empty())
    return refuse(reference, candidate, std::move(why));
  Tally t;
  walk(reference, candidate, tol, t);
  Comparison c{.n_values = reference.size(), .n_not_identical = t.not_identical,
               .n_beyond_tolerance = t.beyond, .n_nan_one_side = t.nan_one_side,
               .max_abs = t.max_abs, .max_ulp = t.max_ulp};
  c.outcome = t.beyond > 0 ? Outcome::kMismatch : t.not_identical > 0 ? Outcome::kOkTolerance : Outcome::kOkExact;
  c.first_differing = t.beyond > 0 ? std::move(t.first_beyond) : std::move(t.first_not_identical);
  c.summary = summary(reference, candidate, tol, c);
  note_dtypes(reference, candidate, c);
  return c;
}

}  // namespace crossload
