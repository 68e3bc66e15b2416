/* SPDX-License-Identifier: BSD-2-Clause */
// The cost table's rule (table.h): a ratio is a number only where the row's spread of ns and its
// paired baseline's do not overlap, otherwise "≈"; and every cell carries its spread.
#include "bench/table.h"

#include <cstdio>
#include <string>

namespace {

int failures;

void Expect(const std::string &got, const std::string &want, const char *what) {
  if (got == want) return;
  std::printf("FAIL: %s: got \"%s\", want \"%s\"\n", what, got.c_str(), want.c_str());
  failures++;
}

bench_table::Spread S(double median, double min, double max) {
  bench_table::Spread s;
  s.median = median;
  s.min = min;
  s.max = max;
  return s;
}

bench_table::Cell C(bench_table::Spread own, bench_table::Spread base, bench_table::Spread x) {
  bench_table::Cell c;
  c.own = own;
  c.base = base;
  c.x = x;
  return c;
}

}  // namespace

int main() {
  using bench_table::Overhead;
  using bench_table::Ratio;
  // Apart: above the baseline's spread, and below it.
  Expect(Ratio(C(S(8, 7, 9), S(0.4, 0.38, 0.45), S(20, 18, 22))), "20.0 (18.0–22.0)", "above");
  Expect(Ratio(C(S(0.3, 0.29, 0.31), S(0.4, 0.38, 0.45), S(0.75, 0.7, 0.8))),
         "0.75 (0.70–0.80)", "below");
  // Overlapping by any amount, or touching: "≈", whatever the medians say.
  Expect(Ratio(C(S(0.5, 0.44, 0.6), S(0.4, 0.38, 0.45), S(1.25, 1.1, 1.5))), "≈", "overlap");
  Expect(Ratio(C(S(0.5, 0.45, 0.6), S(0.4, 0.38, 0.45), S(1.25, 1.1, 1.5))), "≈", "touching");
  Expect(Ratio(C(S(0.4, 0.1, 9), S(0.4, 0.38, 0.45), S(1, 0.2, 20))), "≈", "wide row");
  // Unpaired rows (no baseline loop in the binary): no ratio at all.
  Expect(Ratio(C(S(8, 7, 9), bench_table::Spread(), bench_table::Spread())), "-", "unpaired");
  // The work column: the overhead as a percentage of the unprotected section with work.
  Expect(Overhead(C(S(60, 58, 62), S(50, 49, 51), S(1.2, 1.16, 1.24))), "20.0 (16.0–24.0)%",
         "overhead");
  Expect(Overhead(C(S(40, 39, 41), S(50, 49, 51), S(0.8, 0.78, 0.82))), "-20.0 (-22.0–-18.0)%",
         "negative overhead");
  Expect(Overhead(C(S(50, 48, 52), S(50, 49, 51), S(1, 0.95, 1.05))), "≈", "overhead overlap");
  // Spread from repetitions: median (min–max).
  Expect(bench_table::WithSpread(bench_table::Of({3, 1, 2, 10})), "2.50 (1.00–10.0)", "of");
  Expect(bench_table::WithSpread(bench_table::Spread()), "-", "no figure");
  if (failures) return 1;
  std::printf("1 passed, 0 failed\n");
  return 0;
}
