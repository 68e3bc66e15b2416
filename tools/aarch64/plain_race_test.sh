#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Drives one race binary built without a sanitizer (tools/aarch64/BUILD), natively or, when it
# is an AArch64 program, under qemu-aarch64. Without a sanitizer only the device's canary
# (scenario/device.h) can see a use after free, so:
#   - a fixed variant must finish the forced and the late schedule and a short stress loop with
#     exit code 0;
#   - a naive variant that expects a heap-use-after-free in the forced schedule must die there:
#     abort with the canary's "use after free" message (its use is the device read), or fault
#     (its use follows a freed pointer first);
#   - the other naive variants (data races, late touches of memory other than the device) need a
#     sanitizer and are listed as not judged.
# usage: plain_race_test.sh RACE_BINARY
set -uo pipefail
bin=$1
run=("$bin")
if [ "$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' ')" = b700 ] && [ "$(uname -m)" != aarch64 ]; then
	run=("${TEARDOWN_QEMU:-qemu-aarch64}" "$bin")
fi
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
passed=0
failed=0
ok() { echo "ok    $*"; passed=$((passed + 1)); }
fail() {
	echo "FAIL  $*"
	sed 's/^/      | /' "$out" "$err"
	failed=$((failed + 1))
}

# Runs the binary with a hang guard (no timing: the harness's own steps bound themselves).
go() { timeout -s KILL 300 "${run[@]}" "$@" >"$out" 2>"$err"; }

go --list || { fail "$bin --list"; exit 1; }
grep -q '^sanitizer	none$' "$out" || { fail "$bin is not a plain build"; exit 1; }
mapfile -t variants < <(awk -F'\t' '$1 == "variant" { print $2 "\t" $3 "\t" $4 }' "$out")
[ ${#variants[@]} -gt 0 ] || { fail "$bin lists no variant"; exit 1; }
for line in "${variants[@]}"; do
	IFS=$'\t' read -r name expect schedule <<<"$line"
	if [ "$expect" = clean ]; then
		for s in forced late; do
			if go --variant "$name" --schedule "$s"; then
				ok "$name $s: clean"
			else
				fail "$name $s: exit $?"
			fi
		done
		if go --variant "$name" --schedule stress --rounds 20; then
			ok "$name stress: $(cat "$out")"
		else
			fail "$name stress: exit $?"
		fi
	elif [ "$expect" = heap-use-after-free ] && [ "$schedule" = forced ]; then
		go --variant "$name" --schedule forced
		status=$?
		# SIGABRT: 134 from a native run, and from qemu, which dies of the guest's signal.
		if [ $status -eq 134 ] && grep -q 'teardown: use after free' "$err"; then
			ok "$name forced: the canary caught the use after free"
		elif [ $status -eq 139 ]; then
			ok "$name forced: the use after free faulted (SIGSEGV)"
		else
			fail "$name forced: exit $status, the use after free went unnoticed"
		fi
	else
		echo "skip  $name: $expect in the $schedule schedule needs a sanitizer"
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
