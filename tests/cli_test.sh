#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Bad input on the command line, as a new user types it: every front end names what is wrong and
# exits 2, and a naive variant run by hand stops at its report with a true closing line.
# usage: cli_test.sh TOUR RACE_TEST_DRIVER SELFTEST_RACE_BINARY GLOBAL_FLAG_RACE_BINARY
set -uo pipefail
tour=$1 driver=$2 selftest=$3 global_flag=$4
failures=0
# The tour and the driver are built with AddressSanitizer too under --config=asan; as there,
# leaks do not matter. A race binary "run by hand" below gets no options from the environment.
unset TSAN_OPTIONS
export ASAN_OPTIONS=detect_leaks=0

fail() {
	echo "FAIL  $1"
	printf -- '----- exit %s; stdout:\n%s\n----- stderr:\n%s\n-----\n' "$status" "$out" "$err"
	failures=$((failures + 1))
}

# run CMD...: sets status, out, err. The timeout is a hang guard (a count taken as four billion).
run() {
	local e
	e=$(mktemp)
	out=$(timeout 20 "$@" 2>"$e")
	status=$?
	err=$(<"$e")
	rm -f "$e"
}

# rejects WHAT EXPECTED_STDERR_REGEX CMD...: exit 2, a clear message on stderr, nothing run.
rejects() {
	local what=$1 regex=$2
	shift 2
	run "$@"
	if [ "$status" -ne 2 ]; then
		fail "$what: exit $status, expected 2"
	elif ! grep -qE -- "$regex" <<<"$err"; then
		fail "$what: stderr does not match '$regex'"
	elif grep -q "T1 callback" <<<"$out"; then
		fail "$what: ran a schedule anyway"
	else
		echo "ok    $what: $(head -1 <<<"$err")"
	fi
}

for bin in "$selftest" "$global_flag"; do
	name=$(basename "$(dirname "$bin")")/$(basename "$bin")
	rejects "$name unknown variant" \
		"no variant 'nosuch' in pattern .*; its variants are: naive" "$bin" --variant nosuch
done
bin=$selftest
for n in -5 12x 99999999999999999999 0 '' ' 7' +7 0x10 1e3 1000001; do
	rejects "race binary --rounds '$n'" \
		"--rounds: .*(is not a whole number|is too large|is too small)" \
		"$bin" --variant fixed --schedule stress --rounds "$n"
done
rejects "race binary --rounds with no value" "--rounds needs a value" \
	"$bin" --variant fixed --rounds
rejects "race binary --variant with no value" "--variant needs a value" "$bin" --variant
rejects "race binary --variant followed by an option" "--variant needs a value" \
	"$bin" --variant --rounds 5
rejects "race binary --schedule with no value" "--schedule needs a value" \
	"$bin" --variant fixed --schedule
rejects "race binary unknown schedule" "no schedule 'soon' \(forced, late or stress\)" \
	"$bin" --variant fixed --schedule soon
rejects "race binary unknown option" "unknown option '--verbose'" "$bin" --variant fixed --verbose
rejects "race binary no variant" "--variant NAME or --list is required" "$bin"

rejects "tour unknown pattern" "no pattern 'nosuch'; the patterns are: late_selftest, global_flag" \
	"$tour" --no-bench --pattern nosuch "$selftest" "$global_flag"
rejects "tour --pattern with no value" "--pattern needs a value" "$tour" --no-bench --pattern
rejects "tour unknown option" "unknown option '--fast'" "$tour" --fast --no-bench "$selftest"
for n in -5 12x 99999999999999999999 0; do
	rejects "tour --rounds '$n'" "--rounds: " "$tour" --no-bench --rounds "$n" "$selftest"
done
rejects "tour without --bench" "--bench COMPARE_BINARY is required unless --no-bench" \
	"$tour" "$selftest"
rejects "race test driver --rounds -5" "--rounds: '-5' is not a whole number" \
	"$driver" --rounds -5 "$selftest"
rejects "race test driver --rounds with no value" "--rounds needs a value" "$driver" --rounds

# A race binary whose --list the driver and the tour cannot read (a column missing) is a
# failure, not a variant skipped in silence.
fake=${TEST_TMPDIR:-/tmp}/fake_race_binary
cat >"$fake" <<'FAKE'
#!/bin/sh
printf 'pattern\tfake\tseed\nsanitizer\tthread\n'
printf 'variant\tnaive\theap-use-after-free\n'
FAKE
chmod +x "$fake"
run "$driver" --rounds 1 "$fake"
if [ "$status" -ne 1 ] || ! grep -q "variant line this driver cannot read" <<<"$out"; then
	fail "race test driver, unreadable variant line: not a failure"
else
	echo "ok    race test driver, unreadable variant line: $(grep -m1 "cannot read" <<<"$out")"
fi
run "$tour" --no-bench "$fake"
if [ "$status" -ne 1 ] || ! grep -q "a variant line the tour cannot read" <<<"$out"; then
	fail "tour, unreadable variant line: not a surprise"
else
	echo "ok    tour, unreadable variant line: exit 1"
fi

# A naive variant run by hand, as the README shows it: the sanitizer halts at the report, exit
# 66, and no line after it claims a clean finish.
run env -u TSAN_OPTIONS -u ASAN_OPTIONS "$global_flag" --variant flag
if [ "$status" -ne 66 ] || ! grep -q "Sanitizer" <<<"$err"; then
	fail "naive variant by hand: exit $status with no report, expected 66 and a report"
elif grep -qE "finished with no sanitizer report|callback returned" <<<"$out"; then
	fail "naive variant by hand: went on after its report"
else
	echo "ok    naive variant by hand: exit 66, stopped at the report"
fi
# Told not to halt, the race binary still ends truthfully. (AddressSanitizer cannot go on: it
# halts anyway.)
run env TSAN_OPTIONS=halt_on_error=0 ASAN_OPTIONS=halt_on_error=0 \
	"$selftest" --variant naive --schedule late
if [ "$status" -ne 66 ]; then
	fail "naive variant told not to halt: exit $status, expected 66"
elif grep -q "finished with no sanitizer report" <<<"$out"; then
	fail "naive variant told not to halt: claims no sanitizer report"
elif grep -q "ThreadSanitizer" <<<"$err" &&
	! grep -q "finished after 1 sanitizer report" <<<"$out"; then
	fail "naive variant told not to halt: no closing line counting the report"
else
	echo "ok    naive variant told not to halt: exit 66, $(tail -1 <<<"$out")"
fi

# The tour on one pattern: the naive variant in its own schedule, each fix in every schedule.
run "$tour" --no-bench --pattern late_selftest --rounds 5 "$selftest" "$global_flag"
if [ "$status" -ne 0 ]; then
	fail "tour --pattern late_selftest: exit $status"
elif ! grep -q "naive: .*(late schedule)" <<<"$out" ||
	! grep -q "1 naive variant reported as its chapter says, 3 fixes clean" <<<"$out" ||
	grep -q "== global_flag" <<<"$out"; then
	fail "tour --pattern late_selftest: not the naive variant in the late schedule, three fixes"
else
	echo "ok    tour --pattern late_selftest: $(grep "Race demos" <<<"$out")"
fi

[ "$failures" -eq 0 ] && echo PASSED || { echo "FAILED ($failures)"; exit 1; }
