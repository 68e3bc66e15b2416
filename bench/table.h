/* SPDX-License-Identifier: BSD-2-Clause */
// The cost table's cells (bench.cc): a figure with its spread over the repetitions, and the rule
// that decides whether a ratio is printed as a number or as "≈". Tested by bench/table_test.cc.
#ifndef TEARDOWN_BENCH_TABLE_H
#define TEARDOWN_BENCH_TABLE_H

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace bench_table {

// One figure over the repetitions.
struct Spread {
  double median = -1, min = -1, max = -1;
  bool ok() const { return median >= 0; }
};

inline Spread Of(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

// The figures of one row at one thread count.
struct Cell {
  Spread ns, own, base, x;
};

// A number with as many decimals as it deserves.
inline std::string Num(double v) {
  char b[32];
  double m = std::fabs(v);
  std::snprintf(b, sizeof(b), m < 10 ? "%.2f" : m < 100 ? "%.1f" : "%.0f", v);
  return b;
}

inline std::string WithSpread(const Spread &s, double scale = 1, double offset = 0) {
  if (!s.ok()) return "-";
  return Num(s.median * scale + offset) + " (" + Num(s.min * scale + offset) + "–" +
         Num(s.max * scale + offset) + ")";
}

// Display width of UTF-8 text (×, –, ≈ are one column each).
inline size_t Width(const std::string &s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

inline std::string Pad(const std::string &s, size_t w, bool right = false) {
  size_t have = Width(s);
  std::string fill(have < w ? w - have : 0, ' ');
  return right ? fill + s : s + fill;
}

// A ratio is a number only where the row's spread of ns and its paired baseline's do not
// overlap; otherwise the row is not told apart from the unprotected load, and it reads "≈".
inline bool Overlap(const Cell &c) { return !(c.own.min > c.base.max || c.own.max < c.base.min); }

inline std::string Ratio(const Cell &c) {
  if (!c.x.ok() || !c.base.ok()) return "-";
  return Overlap(c) ? "≈" : WithSpread(c.x);
}

inline std::string Overhead(const Cell &c) {
  if (!c.x.ok() || !c.base.ok()) return "-";
  if (Overlap(c)) return "≈";
  return WithSpread(c.x, 100, -100) + "%";
}

}  // namespace bench_table

#endif  // TEARDOWN_BENCH_TABLE_H
