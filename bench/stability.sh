#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Do the ratios hold still? Runs the comparison RUNS times back to back (default 3), each with
# JSON output, then, for every hot-path row at every thread count, compares the table's ratio
# (the median over repetitions of the per-repetition paired ratio x_base) across the runs:
# "agree" when the largest is within LIMIT (default 10%) of the smallest. Rows that some run
# printed as "≈" (not told apart from the unprotected load) are listed apart: their ratio is
# noise around 1 by definition. The same check is made by CPU time (x_base_cpu), which a
# shared machine's other programs do not disturb; the exit status follows the wall clock's.
#
# usage: bazel run //bench:stability [-- RUNS [OUTDIR [LIMIT_PERCENT [COMPARE FLAGS...]]]]
#    or: bench/stability.sh COMPARE_BINARY [RUNS [OUTDIR [LIMIT_PERCENT [COMPARE FLAGS...]]]]
# Every run's console table and JSON stay in OUTDIR (default: a new directory under /tmp).
set -euo pipefail
bin=$(realpath "$1")
runs=${2:-3}
out=${3:-$(mktemp -d /tmp/teardown-stability.XXXXXX)}
limit=${4:-10}
shift $(($# < 4 ? $# : 4))
mkdir -p "$out"

for i in $(seq "$runs"); do
	echo "run $i of $runs: $bin $*" >&2
	"$bin" --benchmark_color=false --benchmark_out="$out/run$i.json" \
		--benchmark_out_format=json "$@" >"$out/run$i.txt"
done

python3 - "$out" "$runs" "$limit" <<'PY'
import json, sys

out, runs, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# The table's wall-clock ratio, and the same by each thread's CPU time (--bench_clock=cpu).
clocks = {"wall": ("x_base", "own_ns", "base_ns"),
          "cpu": ("x_base_cpu", "own_cpu_ns", "base_cpu_ns")}
table = {c: {} for c in clocks}  # clock -> (row, threads) -> [(x median, told apart?)]
for i in range(1, runs + 1):
    with open(f"{out}/run{i}.json") as f:
        data = json.load(f)
    stats = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate" or "x_base" not in b:
            continue
        stats.setdefault((b["run_name"], b["threads"]), {})[b["aggregate_name"]] = b
    for (name, threads), agg in stats.items():
        if not all(k in agg for k in ("median", "min", "max")):
            continue
        row = name.split("/real_time")[0]
        for clock, (x, own, base) in clocks.items():
            apart = agg["min"][own] > agg["max"][base] or agg["max"][own] < agg["min"][base]
            table[clock].setdefault((row, threads), []).append((agg["median"][x], apart))

failed = False
for clock in clocks:
    agree, disagree, close = [], [], []
    for (row, threads), xs in sorted(table[clock].items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(xs) != runs:
            continue
        vals = [x for x, _ in xs]
        spread = (max(vals) / min(vals) - 1) * 100
        line = f"{row} @{threads}: " + ", ".join(f"{v:.2f}" for v in vals) + f"  ({spread:.0f}%)"
        if not all(a for _, a in xs):
            close.append(line)
        elif spread <= limit:
            agree.append(line)
        else:
            disagree.append(line)
    print(f"== {clock} clock: ratios (medians of {clocks[clock][0]}) over {runs} back-to-back runs")
    print(f"agree within {limit:g}% ({len(agree)}):")
    print("\n".join("  " + l for l in agree) or "  none")
    print(f"do not agree within {limit:g}% ({len(disagree)}):")
    print("\n".join("  " + l for l in disagree) or "  none")
    print(f"\"≈\" in some run, not told apart from the baseline ({len(close)}):")
    print("\n".join("  " + l for l in close) or "  none")
    print()
    failed |= clock == "wall" and bool(disagree)
print(f"runs, tables and JSON in {out}")
sys.exit(1 if failed else 0)
PY
