#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The scaling benchmarks' plumbing, not their timings: writer_fenced runs every lab with an
# asymmetric fence in its fenced mode and names those rows so; writer runs them with membarrier
# where the kernel offers it; a reader count a pattern cannot serve (or whose wait would starve) is
# a skipped row, not an abort or a hang; the memory table is computed from the structs.
# usage: modes_test.sh WRITER WRITER_FENCED MEMORY
set -eu
writer=$1 fenced=$2 memory=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
one() {	# one row, one iteration's worth, as JSON
	"$1" --benchmark_filter="^$2\$" --benchmark_min_time=0.001 --benchmark_format=json
}

list=$("$fenced" --benchmark_list_tests=true)
for op in trcu_synchronize tepoch_synchronize drwlock_write rundown_ca_wait; do
	echo "$list" | grep -q "^scaling/writer/${op}_fenced/idle/readers:1/real_time\$" ||
		fail "writer_fenced lacks $op: $list"
done
echo "$list" | grep -v '_fenced/' | grep -q . && fail "writer_fenced has unfenced rows: $list"
"$writer" --benchmark_list_tests=true | grep -q '_fenced' && fail "writer has fenced rows"

json=$(one "$fenced" 'scaling/writer/trcu_synchronize_fenced/idle/readers:1/real_time')
echo "$json" | grep -q '"error_occurred"' && fail "fenced row skipped: $json"
echo "$json" | grep -Eq '"membarrier": 0(\.0+)?(e\+00)?,' ||
	fail "fenced row used membarrier: $json"

json=$(one "$writer" 'scaling/writer/trcu_synchronize/idle/readers:1/real_time')
if echo "$json" | grep -q '"error_occurred"'; then
	echo "$json" | grep -q 'not in the mode' || fail "plain row: $json"
	echo "note: this kernel has no membarrier; the plain trcu row is skipped, as it must be"
else
	echo "$json" | grep -Eq '"membarrier": 1(\.0+)?(e\+00)?,' || fail "plain row: $json"
fi

json=$(one "$writer" 'scaling/writer/rundown_ca_wait/idle/readers:256/real_time')
echo "$json" | grep -q 'more readers than the pattern allows' || fail "65+ readers: $json"

json=$(one "$writer" 'scaling/writer/remove_lock_drain/active/readers:16/real_time')
echo "$json" | grep -q 'the drain starves' || fail "a starving drain must be skipped: $json"

table=$("$memory")
row=$(echo "$table" | grep '^| cache-aware rundown |') || fail "no cache-aware row: $table"
bytes=$(echo "$row" | cut -d'|' -f3 | tr -d ' ')
[ "$bytes" -ge 4096 ] || fail "cache-aware rundown: $bytes bytes per object, not a line per thread"
[ "$(echo "$row" | cut -d'|' -f11 | tr -d ' ')" = "-" ] || fail "256 threads: $row"
echo "1 passed, 0 failed"
