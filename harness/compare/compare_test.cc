#include "harness/compare/compare.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>

#include "harness/compare/testing.h"

namespace crossload {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr Tolerance kExactOnly{.rtol = 0, .atol = 0};

NpyArray floats(std::vector<double> v, std::size_t item_size = 8, ByteOrder order = ByteOrder::kLittle) {
  NpyArray a{.kind = DtypeKind::kFloat, .item_size = item_size, .byte_order = order, .shape = {v.size()}};
  a.floats = std::move(v);
  return a;
}

NpyArray float32s(const std::vector<float>& v) {
  return floats(std::vector<double>(v.begin(), v.end()), 4);
}

NpyArray ints(std::vector<std::int64_t> v, std::size_t item_size = 8) {
  NpyArray a{.kind = DtypeKind::kInt, .item_size = item_size, .byte_order = ByteOrder::kLittle, .shape = {v.size()}};
  a.ints = std::move(v);
  return a;
}

NpyArray uints(std::vector<std::uint64_t> v) {
  NpyArray a{.kind = DtypeKind::kUInt, .item_size = 8, .byte_order = ByteOrder::kLittle, .shape = {v.size()}};
  a.uints = std::move(v);
  return a;
}

NpyArray bools(std::vector<std::uint8_t> v) {
  NpyArray a{.kind = DtypeKind::kBool, .item_size = 1, .shape = {v.size()}};
  a.bools = std::move(v);
  return a;
}

NpyArray strings(std::vector<std::u32string> v, std::size_t chars) {
  NpyArray a{.kind = DtypeKind::kUnicode, .item_size = 4 * chars, .byte_order = ByteOrder::kLittle,
             .shape = {v.size()}};
  a.strings = std::move(v);
  return a;
}

NpyArray reshaped(NpyArray a, std::vector<std::size_t> shape) {
  a.shape = std::move(shape);
  return a;
}

double up(double x) { return std::nextafter(x, kInf); }

// --- ULPs ---------------------------------------------------------------------------------

TEST(CompareUlp, NextafterNeighboursAreOneApartInEveryPrecision) {
  for (const double x : {1.0, 0.1, -3.5, 1e300, std::numeric_limits<double>::min(),
                         std::numeric_limits<double>::denorm_min(), 0.0, -0.0})
    EXPECT_EQ(ulp_distance(x, up(x), 8), 1u) << x;
  for (const float x : {1.0f, 0.1f, -3.5f, 1e30f, std::numeric_limits<float>::min(), 1e-45f, 0.0f}) {
    const double next = std::nextafter(x, std::numeric_limits<float>::infinity());
    EXPECT_EQ(ulp_distance(x, next, 4), 1u) << x;
    if (std::isnormal(x)) {  // the same pair counted in doubles: 29 more mantissa bits
      EXPECT_EQ(ulp_distance(x, next, 8), std::uint64_t{1} << 29) << x;
    }
  }
  EXPECT_EQ(ulp_distance(1.0, 1.0 + 0x1p-10, 2), 1u);
  EXPECT_EQ(ulp_distance(0.0, 0x1p-24, 2), 1u);              // smallest float16 subnormal
  EXPECT_EQ(ulp_distance(0x1p-14 - 0x1p-24, 0x1p-14, 2), 1u);  // subnormal to normal
}

TEST(CompareUlp, EdgesOfTheLine) {
  const double max = std::numeric_limits<double>::max(), tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(ulp_distance(0.0, -0.0, 8), 0u);
  EXPECT_EQ(ulp_distance(-tiny, tiny, 8), 2u);  // across zero
  EXPECT_EQ(ulp_distance(max, kInf, 8), 1u);
  EXPECT_EQ(ulp_distance(-kInf, kInf, 8), 2 * 0x7ff0000000000000u);
  EXPECT_EQ(ulp_distance(65504.0, kInf, 2), 1u);
  EXPECT_EQ(ulp_distance(65519.0, 65504.0, 2), 0u);  // rounds down to the largest float16
  EXPECT_EQ(ulp_distance(65520.0, kInf, 2), 0u);     // the tie rounds to even: infinity
  EXPECT_EQ(ulp_distance(1.0, 1.0 + 0x1p-12, 2), 0u);  // below float16 resolution
  EXPECT_EQ(ulp_distance(kNan, 1.0, 8), std::numeric_limits<std::uint64_t>::max());
}

// --- floats -----------------------------------------------------------------------------------

TEST(CompareFloats, IdenticalValuesAreExact) {
  const Comparison c = compare_arrays(floats({1.5, -0.0, kInf, kNan}), floats({1.5, -0.0, kInf, kNan}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkExact);
  EXPECT_EQ(c.n_values, 4u);
  EXPECT_EQ(c.n_not_identical, 0u);
  EXPECT_TRUE(c.first_differing.empty());
  EXPECT_EQ(c.summary, "all 4 values bitwise identical");
  EXPECT_FALSE(c.dtype_differs);
}

TEST(CompareFloats, ByteOrderIsNormalisedAndNoted) {
  const Comparison c = compare_arrays(floats({1, 2}, 8, ByteOrder::kBig), floats({1, 2}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkExact);
  EXPECT_TRUE(c.dtype_differs);
  EXPECT_EQ(c.dtype_note, "values float64 big-endian vs float64 little-endian (same values)");
}

TEST(CompareFloats, OneUlpIsWithinToleranceButNotExact) {
  const Comparison c = compare_arrays(floats({1.0, 0.1, 3.0}), floats({1.0, up(0.1), 3.0}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkTolerance);
  EXPECT_EQ(c.n_not_identical, 1u);
  EXPECT_EQ(c.n_beyond_tolerance, 0u);
  EXPECT_EQ(c.max_ulp, 1u);
  EXPECT_EQ(c.max_abs, up(0.1) - 0.1);
  EXPECT_EQ(c.first_differing, std::vector<std::size_t>{1});
  EXPECT_EQ(c.summary,
            "1 of 3 values not bitwise identical, all within rtol=1e-07 atol=0 (max abs diff 1.39e-17, max 1 ULP)");
  EXPECT_EQ(compare_arrays(floats({0.1}), floats({up(0.1)}), kExactOnly).outcome, Outcome::kMismatch);
}

TEST(CompareFloats, Float32PairsAreCountedInFloat32Ulps) {
  const float x = 0.1f, next = std::nextafter(x, 1.0f), far = std::nextafter(next, 1.0f);
  Comparison c = compare_arrays(float32s({x, x}), float32s({next, far}), {.rtol = 1e-6});
  EXPECT_EQ(c.outcome, Outcome::kOkTolerance);
  EXPECT_EQ(c.max_ulp, 2u);
  // float64 reference against a float32 candidate: the coarser precision counts.
  c = compare_arrays(floats({0.1}), float32s({next}), {.rtol = 1e-6});
  EXPECT_EQ(c.max_ulp, 1u);
  EXPECT_TRUE(c.dtype_differs);
  EXPECT_EQ(c.dtype_note, "values float64 vs float32");
}

TEST(CompareFloats, SignedZerosDifferBitwiseButNotInValue) {
  const Comparison c = compare_arrays(floats({0.0, 1.0}), floats({-0.0, 1.0}), kExactOnly);
  EXPECT_EQ(c.outcome, Outcome::kOkTolerance);
  EXPECT_EQ(c.n_not_identical, 1u);
  EXPECT_EQ(c.max_abs, 0.0);
  EXPECT_EQ(c.max_ulp, 0u);
}

TEST(CompareFloats, NanMatchesOnlyNanAtTheSamePosition) {
  const double negative_nan = -kNan;
  EXPECT_EQ(compare_arrays(floats({kNan, 1}), floats({kNan, 1}), {}).outcome, Outcome::kOkExact);
  const Comparison payload = compare_arrays(floats({kNan}), floats({negative_nan}), {});
  EXPECT_EQ(payload.outcome, Outcome::kOkTolerance);  // both NaN, but not the same bits
  const Comparison c = compare_arrays(floats({kNan, 1, 2, 3}), floats({0, 1, kNan, 3}), {.rtol = 1, .atol = 1e9});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.n_beyond_tolerance, 2u);
  EXPECT_EQ(c.n_nan_one_side, 2u);
  EXPECT_EQ(c.first_differing, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(c.max_abs, 0.0);  // NaN pairs say nothing about distance
  EXPECT_EQ(c.summary,
            "2 of 4 values differ beyond rtol=1 atol=1e+09 (first at row 0: expected nan, got 0; "
            "2 with NaN on one side only; max abs diff 0)");
}

TEST(CompareFloats, InfinityOnlyMatchesTheSameInfinity) {
  EXPECT_EQ(compare_arrays(floats({kInf, -kInf}), floats({kInf, -kInf}), {}).outcome, Outcome::kOkExact);
  const Tolerance huge{.rtol = 1e300, .atol = 1e300};
  EXPECT_EQ(compare_arrays(floats({kInf}), floats({-kInf}), huge).outcome, Outcome::kMismatch);
  EXPECT_EQ(compare_arrays(floats({kInf}), floats({1e308}), huge).outcome, Outcome::kMismatch);
  const Comparison c = compare_arrays(floats({1e308}), floats({kInf}), huge);
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.max_abs, kInf);
}

TEST(CompareFloats, ToleranceIsRelativeToTheReference) {
  EXPECT_EQ(compare_arrays(floats({1.0}), floats({1.5}), {.rtol = 0, .atol = 0.5}).outcome, Outcome::kOkTolerance);
  EXPECT_EQ(compare_arrays(floats({1.0}), floats({up(1.5)}), {.rtol = 0, .atol = 0.5}).outcome, Outcome::kMismatch);
  EXPECT_EQ(compare_arrays(floats({1.0}), floats({2.0}), {.rtol = 0.6}).outcome, Outcome::kMismatch);
  EXPECT_EQ(compare_arrays(floats({2.0}), floats({1.0}), {.rtol = 0.6}).outcome, Outcome::kOkTolerance);
  // atol and rtol add up, as in numpy.isclose.
  EXPECT_EQ(compare_arrays(floats({10.0}), floats({11.0}), {.rtol = 0.05, .atol = 0.5}).outcome,
            Outcome::kOkTolerance);
}

TEST(CompareFloats, MismatchSummaryAndFirstTenPositions) {
  std::vector<double> ref(150, 1.0), cand(150, 1.0);
  for (std::size_t i = 17; i < 150; i += 5) cand[i] = 1.25;
  const Comparison c = compare_arrays(floats(ref), floats(cand), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.n_beyond_tolerance, 27u);
  ASSERT_EQ(c.first_differing.size(), 10u);
  EXPECT_EQ(c.first_differing.front(), 17u);
  EXPECT_EQ(c.first_differing.back(), 62u);
  EXPECT_EQ(c.summary,
            "27 of 150 values differ beyond rtol=1e-07 atol=0 (first at row 17: expected 1, got 1.25; "
            "max abs diff 0.25)");
}

TEST(CompareFloats, PositionsInTwoAndMoreDimensions) {
  const NpyArray ref = reshaped(floats({0, 1, 2, 3, 4, 5}), {2, 3});
  const Comparison c = compare_arrays(ref, reshaped(floats({0, 1, 2, 3, 9, 5}), {2, 3}), {});
  EXPECT_NE(c.summary.find("first at row 1, column 1: expected 4, got 9"), std::string::npos) << c.summary;
  const Comparison cube = compare_arrays(reshaped(ref, {3, 1, 2}), reshaped(floats({0, 1, 2, 3, 4, 7}), {3, 1, 2}), {});
  EXPECT_NE(cube.summary.find("first at index (2, 0, 1)"), std::string::npos) << cube.summary;
  const Comparison scalar = compare_arrays(reshaped(floats({1}), {}), reshaped(floats({2}), {}), {});
  EXPECT_EQ(scalar.summary, "1 of 1 values differs beyond rtol=1e-07 atol=0 (first: expected 1, got 2; max abs diff 1)");
}

TEST(CompareFloats, EmptyArraysAreExact) {
  const Comparison c = compare_arrays(reshaped(floats({}), {0, 3}), reshaped(floats({}), {0, 3}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkExact);
  EXPECT_EQ(c.summary, "both arrays are empty, shape (0, 3)");
}

// --- labels -------------------------------------------------------------------------------------

TEST(CompareLabels, DisagreementsAreCountedAndTheFirstIsShown) {
  const Comparison c = compare_arrays(ints({0, 1, 2, 1, 0}), ints({0, 2, 2, 1, 1}, 4), {.rtol = 1, .atol = 10});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);  // labels ignore tolerance
  EXPECT_EQ(c.n_not_identical, 2u);
  EXPECT_EQ(c.n_beyond_tolerance, 2u);
  EXPECT_EQ(c.first_differing, (std::vector<std::size_t>{1, 4}));
  EXPECT_EQ(c.summary, "2 of 5 labels differ (first at row 1: expected 1, got 2)");
  EXPECT_EQ(c.dtype_note, "labels int64 vs int32");
}

TEST(CompareLabels, IntegerWidthIsNormalisedAndNoted) {
  const Comparison c = compare_arrays(ints({0, 1, -2}), ints({0, 1, -2}, 4), {});
  EXPECT_EQ(c.outcome, Outcome::kOkExact);
  EXPECT_EQ(c.summary, "all 3 labels equal");
  EXPECT_TRUE(c.dtype_differs);
  EXPECT_EQ(c.dtype_note, "labels int64 vs int32 (same values)");
}

TEST(CompareLabels, SignednessIsComparedByValue) {
  EXPECT_EQ(compare_arrays(ints({0, 7}), uints({0, 7}), {}).outcome, Outcome::kOkExact);
  const Comparison c = compare_arrays(ints({-1}), uints({std::numeric_limits<std::uint64_t>::max()}), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.summary, "1 of 1 labels differs (first at row 0: expected -1, got 18446744073709551615)");
}

TEST(CompareLabels, Bools) {
  EXPECT_EQ(compare_arrays(bools({1, 0}), bools({1, 0}), {}).outcome, Outcome::kOkExact);
  const Comparison c = compare_arrays(bools({1, 0}), bools({1, 1}), {});
  EXPECT_EQ(c.summary, "1 of 2 labels differs (first at row 1: expected False, got True)");
  const Comparison as_ints = compare_arrays(bools({1, 0}), ints({1, 0}), {});
  EXPECT_EQ(as_ints.outcome, Outcome::kOkExact);
  EXPECT_EQ(as_ints.dtype_note, "labels bool vs int64 (same values)");
}

TEST(CompareLabels, Strings) {
  const Comparison c = compare_arrays(strings({U"setosa", U"virginica", U"caf\u00e9"}, 10),
                                      strings({U"setosa", U"versicolor", U"cafe"}, 10), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.summary, "2 of 3 labels differ (first at row 1: expected 'virginica', got 'versicolor')");
  const Comparison width = compare_arrays(strings({U"a", U"bc"}, 2), strings({U"a", U"bc"}, 9), {});
  EXPECT_EQ(width.outcome, Outcome::kOkExact);
  EXPECT_EQ(width.dtype_note, "labels U2 vs U9 (same values)");
}

// --- across kinds and shapes -----------------------------------------------------------------

TEST(CompareKinds, IntegersAgainstFloatsCompareValues) {
  Comparison c = compare_arrays(ints({0, 1, 2}), floats({0.0, 1.0, 2.0}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkExact);
  EXPECT_EQ(c.summary, "all 3 values equal");
  EXPECT_EQ(c.dtype_note, "values int64 vs float64 (same values)");
  c = compare_arrays(floats({0.0, 1.0, 2.0}), ints({0, 1, 3}), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.max_abs, 1.0);
  EXPECT_EQ(c.summary, "1 of 3 values differs beyond rtol=1e-07 atol=0 (first at row 2: expected 2, got 3; "
                       "max abs diff 1)");
  c = compare_arrays(ints({1000000000}), floats({1000000000.5}), {.rtol = 1e-9});
  EXPECT_EQ(c.outcome, Outcome::kOkTolerance);
  c = compare_arrays(ints({1}), floats({kNan}), {.rtol = 1, .atol = 1});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.n_nan_one_side, 1u);
  // 2^53 + 1 has no float64 of its own: close, but not the same value.
  c = compare_arrays(ints({(std::int64_t{1} << 53) + 1}), floats({0x1p53}), {});
  EXPECT_EQ(c.outcome, Outcome::kOkTolerance);
}

TEST(CompareKinds, ShapesMustMatch) {
  const Comparison c = compare_arrays(floats(std::vector<double>(150, 1.0)),
                                      reshaped(floats(std::vector<double>(150, 1.0)), {150, 1}), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.summary, "shapes differ: expected (150,), got (150, 1)");
  EXPECT_EQ(c.n_values, 150u);
}

TEST(CompareKinds, StringsAgainstNumbersCannotBeCompared) {
  const Comparison c = compare_arrays(strings({U"a"}, 1), ints({0}), {});
  EXPECT_EQ(c.outcome, Outcome::kMismatch);
  EXPECT_EQ(c.summary, "dtypes cannot be compared: expected string labels U1, got numbers int64");
  EXPECT_TRUE(c.dtype_differs);
}

// --- numpy.isclose agrees -------------------------------------------------------------------------

constexpr const char* kIsclose = R"PY(
import sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
ref = rng.normal(size=3000) * 10.0 ** rng.integers(-5, 5, size=3000)
cand = ref.copy()
idx = rng.permutation(3000)
g = np.split(idx, [300, 600, 900, 1200, 1300, 1400, 1450, 1500, 1550, 1600, 1900])
cand[g[0]] = np.nextafter(ref[g[0]], np.inf)
cand[g[1]] *= 1 + 1e-6
cand[g[2]] *= 1 + 5e-8
cand[g[3]] += rng.normal(size=g[3].size) * 1e-9
cand[g[4]] = np.nan
ref[g[5]] = np.nan
cand[g[5]] = np.nan
cand[g[6]] = np.inf
ref[g[7]] = -np.inf
cand[g[7]] = -np.inf
ref[g[8]] = 0.0
cand[g[8]] = -0.0
ref[g[9]] = np.inf
cand[g[10]] = ref[g[10]] + rng.normal(size=g[10].size)
tolerances = [(1e-7, 0.0), (1e-5, 1e-9), (0.0, 0.0), (1e-9, 1e-12), (1e-3, 1e-3)]
counts = [np.count_nonzero(ref.view(np.uint64) != cand.view(np.uint64))]
counts += [np.count_nonzero(~np.isclose(cand, ref, rtol=r, atol=a, equal_nan=True)) for r, a in tolerances]
np.save(f"{out}/ref.npy", ref.astype(">f8"))
np.save(f"{out}/cand.npy", cand.astype("<f8"))
np.save(f"{out}/tolerances.npy", np.array(tolerances))
np.save(f"{out}/counts.npy", np.array(counts, dtype=">i8"))
)PY";

TEST(CompareNumpy, CountsAgreeWithIsclose) {
  if (!std::filesystem::exists(testutil::venv_python())) GTEST_SKIP() << testutil::venv_python() << " is missing";
  testutil::TempDir dir;
  ASSERT_TRUE(testutil::run_python(kIsclose, dir.path()));
  auto ref = read_npy(dir.path() + "/ref.npy"), cand = read_npy(dir.path() + "/cand.npy");
  auto tolerances = read_npy(dir.path() + "/tolerances.npy"), counts = read_npy(dir.path() + "/counts.npy");
  ASSERT_TRUE(ref && cand && tolerances && counts);
  ASSERT_EQ(counts->ints.size(), 6u);
  for (std::size_t k = 0; k < 5; ++k) {
    const Tolerance tol{.rtol = tolerances->floats[2 * k], .atol = tolerances->floats[2 * k + 1]};
    const Comparison c = compare_arrays(*ref, *cand, tol);
    EXPECT_EQ(c.n_not_identical, std::size_t(counts->ints[0])) << k;
    EXPECT_EQ(c.n_beyond_tolerance, std::size_t(counts->ints[k + 1])) << "rtol=" << tol.rtol << " atol=" << tol.atol;
    EXPECT_EQ(c.n_nan_one_side, 100u);
    EXPECT_EQ(c.outcome, Outcome::kMismatch);
  }
}

}  // namespace
}  // namespace crossload
