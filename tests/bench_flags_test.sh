#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The C bindings keep Google Benchmark's own flags working, and the harness's mechanisms are in
# place: the thread sweep, the "/work" twins (refused when their loop does no work), the paired
# baseline's counters, min and max over repetitions, the cost table with spread, and the
# instructions column only for the build it was counted on. Correctness of the plumbing only:
# every run is tiny and nothing here looks at a timing.
set -eu
bin=$1
two_baselines=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
tiny=--benchmark_min_time=0.0001
one='^baseline/unprotected/real_time/threads:1$'

# The sweep: 1, 2, 4, ... up to the CPU count, the CPU count, and twice it; twins alongside.
cpus=$(nproc)
list=$("$bin" --benchmark_list_tests=true --benchmark_filter='^baseline/')
for t in 1 "$cpus" $((2 * cpus)); do
	echo "$list" | grep -q "^baseline/unprotected/real_time/threads:$t\$" ||
		fail "sweep $t: $list"
	echo "$list" | grep -q "^baseline/unprotected/work/real_time/threads:$t\$" ||
		fail "work twin at $t: $list"
done
echo "$list" | grep -qv '^baseline/' && fail "filter let through: $list"
list=$("$bin" --benchmark_list_tests=true --bench_threads=3,1)
echo "$list" | grep -q '^baseline/unprotected/real_time/threads:3$' || fail "--bench_threads: $list"
echo "$list" | grep -q '/threads:2$' && fail "--bench_threads=3,1 ran 2 threads: $list"
# A row capped at one thread, registered without a twin.
echo "$list" | grep -q '^selftest/capped/real_time/threads:3$' && fail "cap ignored: $list"
echo "$list" | grep -q '^selftest/capped/real_time/threads:1$' || fail "capped row: $list"
echo "$list" | grep -q '^selftest/capped/work' && fail "no_work row has a twin: $list"
for bad in 0 x 1,,2 1,999999 ''; do
	"$bin" --benchmark_list_tests=true --bench_threads="$bad" >/dev/null 2>&1 &&
		fail "--bench_threads=$bad accepted"
done

# Pinning: every thread on one CPU of its own while they fit, round robin beyond (2x the CPUs).
json=$("$bin" --benchmark_filter='^selftest/affinity/' --bench_threads="1,$cpus,$((2 * cpus))" \
	$tiny --benchmark_repetitions=1 --benchmark_format=json)
n=$(echo "$json" | grep -c '"pinned_ok": 1.0')
[ "$n" -eq 3 ] || fail "pinning: $n of 3 runs pinned as documented: $json"

# A twin whose loop never does the work is stopped, not measured as the plain section.
out=$("$bin" --benchmark_filter='^selftest/plain_loop/work/real_time/threads:1$' $tiny \
	--benchmark_repetitions=1 --benchmark_color=false 2>&1)
echo "$out" | grep -q 'does no work' || fail "work twin without work ran: $out"

# JSON: every repetition, min and max aggregates, the paired counters.
json=$("$bin" --benchmark_filter="$one" $tiny --benchmark_repetitions=2 --benchmark_format=json)
echo "$json" | grep -q '"name": "baseline/unprotected/real_time/threads:1"' || fail "json: $json"
echo "$json" | grep -q '"repetition_index": 1,' || fail "json lacks a repetition: $json"
for agg in median min max; do
	echo "$json" | grep -q "\"aggregate_name\": \"$agg\"" || fail "json lacks $agg: $json"
done
for c in own_ns base_ns x_base own_cpu_ns base_cpu_ns x_base_cpu work_bytes cpus; do
	echo "$json" | grep -q "\"$c\": " || fail "json lacks counter $c: $json"
done
echo "$json" | grep -q 'Hot path' && fail "the table must not corrupt JSON output"
# Without the baseline's loop to pair with, no pairing counters (instructions.sh counts so).
json=$(BENCH_PAIRING=0 "$bin" --benchmark_filter="$one" $tiny --benchmark_repetitions=1 \
	--benchmark_format=json)
echo "$json" | grep -q '"base_ns": ' && fail "BENCH_PAIRING=0 still paired: $json"
# --benchmark_out gets every repetition too, beside console output.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" --benchmark_filter="$one" $tiny --benchmark_repetitions=2 --benchmark_color=false \
	--benchmark_out="$dir/out.json" --benchmark_out_format=json >/dev/null
grep -q '"repetition_index": 1,' "$dir/out.json" || fail "--benchmark_out: $(cat "$dir/out.json")"

# The table: spread on every row, a ratio or "≈", and instructions only from this build.
id=$(readelf -n "$bin" | sed -n 's/.*Build ID: *//p')
printf '# build-id %s\nbaseline/unprotected\t6.0\n' "$id" >"$dir/instr.tsv"
printf '# build-id 0123456789ab\nbaseline/unprotected\t6.0\n' >"$dir/other.tsv"
console=$("$bin" --benchmark_filter='^baseline/unprotected' $tiny --benchmark_repetitions=3 \
	--benchmark_color=false --bench_threads=1 --bench_instructions="$dir/instr.tsv")
echo "$console" | grep -q '^Hot path at 1 thread' || fail "no table: $console"
echo "$console" | grep -q '^benchmark  *instr  *ns  *×base  *work ns  *+work$' ||
	fail "table header: $console"
row=$(echo "$console" | grep '^baseline/unprotected ') || fail "baseline row: $console"
spread='[0-9.]+ \([0-9.]+–[0-9.]+\)'	# median (min–max)
pct='-?[0-9.]+ \(-?[0-9.]+–-?[0-9.]+\)%'
echo "$row" | grep -Eq "^baseline/unprotected +6\.0 +$spread +(≈|$spread) +$spread +(≈|$pct)\$" ||
	fail "baseline row without spread: $row"
echo "$console" | grep -q 'on this very build' ||
	fail "instr source: $console"
console=$("$bin" --benchmark_filter="$one" $tiny --benchmark_repetitions=2 --bench_threads=1 \
	--benchmark_color=false --bench_instructions="$dir/other.tsv")
echo "$console" | grep -q 'counted on another build' || fail "foreign counts used: $console"
echo "$console" | grep -q '^benchmark  *instr' && fail "foreign counts shown: $console"
echo "$console" | grep -q "CPU time" && fail "wall clock table says CPU time: $console"
console=$("$bin" --benchmark_filter="$one" $tiny --benchmark_repetitions=2 --bench_threads=1 \
	--benchmark_color=false --bench_clock=cpu)
echo "$console" | grep -q "By each thread's CPU time" || fail "--bench_clock=cpu: $console"
"$bin" --benchmark_list_tests=true --bench_clock=sundial >/dev/null 2>&1 &&
	fail "--bench_clock=sundial accepted"

# Two baselines in one program: refused before anything runs.
out=$("$two_baselines" --benchmark_list_tests=true 2>&1) && fail "two baselines accepted: $out"
echo "$out" | grep -q 'a second baseline' || fail "two baselines: $out"

help=$("$bin" --help)
for f in --bench_threads --bench_clock --bench_instructions --benchmark_filter; do
	echo "$help" | grep -q -- "$f" || fail "--help lacks $f: $help"
done

"$bin" --benchmark_no_such_flag=1 >/dev/null 2>&1 && fail "an unknown flag must be refused"
echo "1 passed, 0 failed"
