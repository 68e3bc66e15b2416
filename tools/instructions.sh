#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Instructions per hot-path call, counted by callgrind: unlike nanoseconds, a figure that does
# not drift with the load of a shared machine. Each benchmark function (named bm_*) runs twice
# at one thread with a fixed iteration count (BENCH_ITERATIONS, honoured by bench/bench.cc); the
# difference between the two counts, divided by the difference in iterations, is the cost of
# one iteration, loop included, with every fixed cost (set-up, timers, barriers) cancelled out.
#
# usage: tools/instructions.sh [BENCH_BINARY [FILTER]]
#   e.g. bazel build //bench:compare && tools/instructions.sh bazel-bin/bench/compare 'rcu|baseline'
set -euo pipefail
bin=${1:-bazel-bin/bench/compare}
filter=${2:-.}
small=100000
large=200000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }
for n in $small $large; do
	BENCH_ITERATIONS=$n valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" \
		--toggle-collect='bm_*' "$bin" --benchmark_filter="($filter).*/threads:1\$" \
		>"$tmp/out.$n" 2>"$tmp/err.$n" ||
		{ cat "$tmp/err.$n" >&2; exit 1; }
	callgrind_annotate --inclusive=yes "$tmp/cg.$n" 2>/dev/null |
		sed -nE 's/^ *([0-9,]+) .*[?:]+(bm_[A-Za-z0-9_]+) .*/\2 \1/p' | tr -d , |
		sort >"$tmp/ir.$n"
done
printf '%-36s %s\n' "benchmark function (1 thread)" "instructions per call"
join "$tmp/ir.$small" "$tmp/ir.$large" |
	awk -v d=$((large - small)) '{ printf "%-36s %8.1f\n", $1, ($3 - $2) / d }'
