#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ./teardown test takes no argument but --aarch64, alone: anything else is refused with exit 2
# and a message, before anything is installed or built. The script runs as a copy in a scratch
# directory, with stubs on PATH for what it would run (bazel, apt-get, dpkg-query, sudo) and a
# stub tools/aarch64/test.sh beside it, so no real test suite runs.
# usage: teardown_script_test.sh TEARDOWN_SCRIPT
set -uo pipefail
script=$1
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/teardown_script.XXXXXX")
trap 'rm -rf "$work"' EXIT
calls=$work/calls
failures=0

mkdir -p "$work/bin" "$work/tools/aarch64"
cp "$script" "$work/teardown"
for tool in bazel apt-get dpkg-query sudo; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$tool" "$calls" >"$work/bin/$tool"
done
printf '#!/bin/sh\necho "aarch64 suite stub ran"\n' >"$work/tools/aarch64/test.sh"
chmod +x "$work/bin/"* "$work/tools/aarch64/test.sh" "$work/teardown"

# run ARGS...: runs the copy; sets status, out, err, ran (the stubbed commands it called).
run() {
	: >"$calls"
	out=$(PATH="$work/bin:$PATH" timeout 20 "$work/teardown" "$@" 2>"$work/err")
	status=$?
	err=$(<"$work/err")
	ran=$(<"$calls")
}

fail() {
	echo "FAIL  $1"
	printf -- '----- exit %s; stdout:\n%s\n----- stderr:\n%s\n----- ran:\n%s\n-----\n' \
		"$status" "$out" "$err" "$ran"
	failures=$((failures + 1))
}

# refused ARGS...: exit 2, says what it takes, and ran nothing.
refused() {
	local what="./teardown $*"
	run "$@"
	if [ "$status" -ne 2 ]; then
		fail "$what: exit $status, expected 2"
	elif ! grep -q "takes only --aarch64" <<<"$err"; then
		fail "$what: stderr does not say what ./teardown test takes"
	elif [ -n "$ran" ] || grep -q "stub ran" <<<"$out"; then
		fail "$what: refused, but ran something first"
	else
		echo "ok    $what: exit 2, ${err##*/}"
	fi
}

refused test --asan
refused test --aarch64 --keep-going
refused test --config=tsan --aarch64
refused test //patterns/rcu/...
refused test ''

run test --aarch64
if [ "$status" -ne 0 ] || ! grep -q "aarch64 suite stub ran" <<<"$out" ||
	grep -q "^bazel" <<<"$ran"; then
	fail "./teardown test --aarch64: not the AArch64 suite alone"
else
	echo "ok    ./teardown test --aarch64: runs tools/aarch64/test.sh"
fi

run test
if [ "$status" -ne 0 ] || [ "$(grep -c '^bazel test' <<<"$ran")" -ne 3 ]; then
	fail "./teardown test: not the three bazel test runs"
else
	echo "ok    ./teardown test: $(grep '^bazel test' <<<"$ran" | paste -sd ';')"
fi

[ "$failures" -eq 0 ] && echo PASSED || { echo "FAILED ($failures)"; exit 1; }
