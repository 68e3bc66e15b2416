#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The late schedule's exits, read from the timeline of the self-test pattern (late_selftest.c):
# each way the late releaser's wait ends is taken when it should be, and only in the late schedule.
# usage: late_schedule_test.sh RACE_BINARY
set -uo pipefail
bin=$1
# The race binary's own sanitizer options (scenario/sanitizer_options.h), nothing from outside.
unset TSAN_OPTIONS ASAN_OPTIONS
failures=0

fail() {
	echo "FAIL  $1"
	echo "$2"
	failures=$((failures + 1))
}

# expect VARIANT SCHEDULE WANTED_LINE_REGEX [UNWANTED_LINE_REGEX]
expect() {
	local out status
	out=$("$bin" --variant "$1" --schedule "$2" --rounds 20 2>&1)
	status=$?
	if [ "$status" -ne 0 ]; then
		fail "$1 $2: exit $status" "$out"
	elif ! grep -qE "$3" <<<"$out"; then
		fail "$1 $2: no line matching '$3'" "$out"
	elif [ -n "${4:-}" ] && grep -qE "$4" <<<"$out"; then
		fail "$1 $2: a line matches '$4'" "$out"
	else
		echo "ok    $1 $2: $(grep -E "$3" <<<"$out" | head -1)"
	fi
}

# Teardown spins until the holders are gone: the releaser waits until teardown has returned.
# Its earlier take-and-drop, before teardown started, must not have stopped it.
expect fixed late 'T1 callback +teardown has returned; makes its last touches' \
	'neither returned|sleeps in the kernel'
# Teardown sleeps in a futex until the releaser wakes it: the releaser sees it asleep. Teardown's
# own release of the owner's hold passes the hook first and must not stop the teardown thread.
expect sleeping late 'T1 callback +teardown sleeps in the kernel, waiting for this releaser' \
	'T2 teardown +has given up'
# Teardown yields in a loop: neither exit comes, the bound does, and the releaser goes on.
expect spinning late 'T1 callback +teardown neither returned nor slept within the bound'
# In the forced and stress schedules the hook does nothing.
expect fixed forced 'finished with no sanitizer report' 'has given up its hold'
expect sleeping forced 'finished with no sanitizer report' 'has given up its hold'
expect sleeping stress 'no use after free' 'has given up its hold'

[ "$failures" -eq 0 ] && echo PASSED || { echo FAILED; exit 1; }
