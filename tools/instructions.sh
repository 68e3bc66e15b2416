#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Instructions per hot-path call, counted by callgrind: unlike nanoseconds, a figure that does
# not drift with the load of a shared machine, and exact for one build. Each hot-path row (a row
# that also runs at 2 threads) runs alone, at one thread, twice under callgrind with a fixed
# iteration count (BENCH_ITERATIONS, honoured by bench/bench.cc) and its paired baseline loop off
# (BENCH_PAIRING=0); the difference between the two program totals, divided by the difference in
# iterations, is the cost of one iteration, loop included, with every fixed cost (start-up,
# set-up, timers, barriers) cancelled out.
#
# Writes OUT_FILE ("# build-id HEX", then "NAME<TAB>COUNT" lines), which the benchmark binary of
# the same build reads for its table's instr column (--bench_instructions=FILE, by default this
# same default path), and prints the counts.
#
# usage: tools/instructions.sh [BENCH_BINARY [FILTER [OUT_FILE]]]
#   e.g. bazel run //bench:instructions [-- FILTER [OUT_FILE]]    (this build's //bench:compare)
#   or   tools/instructions.sh bazel-out/k8-opt/bin/bench/compare 'baseline|global_flag'
# (bazel-bin follows the last build's configuration, a sanitizer's too: name the plain one.)
set -euo pipefail
bin=${1:-bazel-bin/bench/compare}
filter=${2:-.}
out=${3:-${TMPDIR:-/tmp}/teardown-instructions.tsv}
small=20000
large=40000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }
id=$(readelf -n "$bin" | sed -n 's/.*Build ID: *//p')
[ -n "$id" ] || { echo "instructions.sh: $bin has no GNU build id" >&2; exit 2; }

"$bin" --benchmark_list_tests=true --benchmark_filter="$filter" --bench_threads=1,2 |
	sed -n 's|/real_time/threads:2$||p' >"$tmp/names"
[ -s "$tmp/names" ] || { echo "instructions.sh: no hot-path row matches '$filter'" >&2; exit 2; }

# Program total of one row at one thread for $2 iterations.
count() {
	local name=$1 n=$2 re cg
	re=$(printf '%s' "$name" | sed 's/[][().*+?^$|\\{}]/\\&/g')
	cg=$(mktemp "$tmp/cg.XXXXXX")
	BENCH_PAIRING=0 BENCH_ITERATIONS=$n valgrind --tool=callgrind --callgrind-out-file="$cg" \
		"$bin" --benchmark_filter="^$re/iterations:$n/real_time/threads:1\$" \
		--bench_threads=1 --benchmark_repetitions=1 >"$cg.out" 2>"$cg.err" ||
		{ cat "$cg.err" >&2; return 1; }
	grep -qF "$name/iterations:$n/real_time/threads:1 " "$cg.out" ||
		{ echo "instructions.sh: '$name' did not run" >&2; return 1; }
	sed -n 's/^totals: *//p' "$cg"
}

{
	echo "# build-id $id"
	echo "# instructions per call at 1 thread, loop included: callgrind program totals at" \
		"$small and $large iterations, (difference) / $((large - small)); $(date -u +%F)"
	while IFS= read -r name; do
		a=$(count "$name" $small) && b=$(count "$name" $large) || exit 1
		awk -v n="$name" -v a="$a" -v b="$b" -v d=$((large - small)) \
			'BEGIN { printf "%s\t%.1f\n", n, (b - a) / d }'
	done <"$tmp/names"
} >"$tmp/out"
mv "$tmp/out" "$out"
sed '/^#/d' "$out" | column -t -s "$(printf '\t')"
echo "written to $out (build id $id)"
