#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# spin_check.sh: run one Spin model to completion and check its verdict.
#
#   tools/spin_check.sh MODEL.pml EXPECT [OPTION...] [-DNAME[=VALUE]...]
#
#   EXPECT      holds     the search completes and finds no error;
#               violates  the search finds an error (the first one ends it).
#   -DNAME[=V]  passed to spin's preprocessor (selects the model's version); also -UNAME.
#   --np        liveness: search for non-progress cycles (pan compiled -DNP, run -l).
#               The model marks progress with progress labels.
#   --ltl NAME  liveness or safety: check the model's `ltl NAME { ... }` claim (pan -a -N NAME).
#   (neither)   safety: assertions and invalid end states (pan compiled -DSAFETY -DNOCLAIM,
#               so a model may hold ltl claims and still be checked for safety).
#   --no-end    safety without invalid end states (pan -E): assertions only, for a version
#               that also deadlocks and should be seen breaking an assertion.
#   --fair      with --np or --ltl: weak fairness (pan -f), for models that spin in a loop.
#   --why TEXT  with violates: pan's error line must contain TEXT (grep -E), e.g.
#               'assertion violated', 'invalid end state', 'non-progress cycle',
#               'acceptance cycle'; so that a model broken in some other way does not pass.
#   --label X   the version name printed (default: the -D flags, or "default").
#   --depth N   pan's search depth bound (default 100000); reaching it is a failure.
#   --memlim MB pan's memory bound (default 1024); reaching it is a failure.
#   --hash N    pan's hash table of 2^N slots (default 22; more only costs start-up time).
#   --noreduce  compile pan with -DNOREDUCE (no partial-order reduction).
#   --cc FLAG   one more flag for compiling pan (repeatable), e.g. --cc -DCOLLAPSE. pan is
#               compiled -O0 (1.6 s, against 8 s at -O2, for a search of a fraction of a
#               second); a model with millions of states wants --cc -O2. The compiler is
#               clang where it is installed: it compiles a pan of ~380 KB in about half
#               gcc's time (1.1 s against 2.4 s for tepoch's weak version), and compiling,
#               not searching, is most of a bounded model's time. Otherwise gcc.
#
# It prints one line, e.g.
#   spin_check: rundown.pml FIX safety: violates (expected violates) OK states=5123
#   depth=88 time=0.02s [assertion violated !(freed) (at depth 88)]
# and exits 0 when the verdict is the expected one, 1 when it is not or the search was cut short
# (depth or memory bound reached), 2 on a usage or tool error. When the verdict is unexpected it
# prints pan's output and, for an error found, the counterexample (spin -t) to stderr.
# It works in $TEST_TMPDIR (under Bazel) or a fresh mktemp directory, and writes nothing beside
# the model. Files the model #includes are looked up in the model's own directory, then in
# patterns/common/model (tso.pml, the x86-TSO memory the store-buffering models share).
#
# Bazel: tools/spin_check.bzl wraps it as spin_model_test(...), one sh_test per version.
set -u

usage() {
	sed -n '3,/^set -u/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
}

[ $# -ge 2 ] || usage
model=$1
expect=$2
shift 2
case $expect in
holds | violates) ;;
*) echo "spin_check: EXPECT must be holds or violates, not '$expect'" >&2; usage ;;
esac
[ -f "$model" ] || { echo "spin_check: no model file '$model'" >&2; exit 2; }

mode=safety
ltl=
why=
label=
depth=100000
memlim=1024
hash=22
fair=
noend=
defines=()
ccflags=()
while [ $# -gt 0 ]; do
	case $1 in
	-D* | -U*) defines+=("$1") ;;
	--np) mode=np ;;
	--ltl) [ $# -ge 2 ] || usage; mode=ltl; ltl=$2; shift ;;
	--why) [ $# -ge 2 ] || usage; why=$2; shift ;;
	--label) [ $# -ge 2 ] || usage; label=$2; shift ;;
	--depth) [ $# -ge 2 ] || usage; depth=$2; shift ;;
	--memlim) [ $# -ge 2 ] || usage; memlim=$2; shift ;;
	--hash) [ $# -ge 2 ] || usage; hash=$2; shift ;;
	--noreduce) ccflags+=(-DNOREDUCE) ;;
	--fair) fair=1 ;;
	--no-end) noend=1 ;;
	--cc) [ $# -ge 2 ] || usage; ccflags+=("$2"); shift ;;
	*) echo "spin_check: unknown option '$1'" >&2; usage ;;
	esac
	shift
done
case $depth$memlim$hash in
*[!0-9]*) echo "spin_check: --depth, --memlim and --hash take numbers" >&2; exit 2 ;;
esac
if [ -z "$label" ]; then
	label=$(printf '%s\n' "${defines[@]+"${defines[@]}"}" | sed 's/^-D//' | paste -sd, -)
	[ -n "$label" ] || label=default
fi

pan_cc=clang
command -v clang >/dev/null || pan_cc=gcc
for tool in spin $pan_cc; do
	if ! command -v $tool >/dev/null; then
		echo "spin_check: '$tool' is not installed (./teardown installs it)" >&2
		exit 2
	fi
done

base=${TEST_TMPDIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "$base/spin_check.XXXXXX") || exit 2
[ -n "${TEST_TMPDIR:-}" ] || trap 'rm -rf "$work"' EXIT
modeldir=$(cd "$(dirname "$model")" && pwd -P)
# Under bazel test, the runfiles tree; by hand, the tree this script is in.
if [ -n "${TEST_SRCDIR:-}" ]; then
	commondir=$TEST_SRCDIR/${TEST_WORKSPACE:-teardown}/patterns/common/model
else
	commondir=$(dirname "$(readlink -f "$0")")/../patterns/common/model
fi
name=$(basename "$model")
cp "$model" "$work/$name"
cd "$work" || exit 2

now() { date +%s.%N; }

if ! spin -a "-E-I$modeldir" "-E-I$commondir" "${defines[@]+"${defines[@]}"}" "$name" >spin.out 2>&1; then
	echo "spin_check: $name $label: spin -a failed:" >&2
	cat spin.out >&2
	exit 2
fi

cc=(-O0 "-DMEMLIM=$memlim" "${ccflags[@]+"${ccflags[@]}"}")
run=("-m$depth" "-w$hash")
case $mode in
safety) cc+=(-DSAFETY -DNOCLAIM) ;;
np) cc+=(-DNP); run+=(-l) ;;
ltl) run+=(-a -N "$ltl") ;;
esac
if [ -n "$noend" ]; then
	[ "$mode" = safety ] || { echo "spin_check: --no-end is for safety runs" >&2; exit 2; }
	run+=(-E)
fi
if [ -n "$fair" ]; then
	[ "$mode" != safety ] || { echo "spin_check: --fair needs --np or --ltl" >&2; exit 2; }
	run+=(-f)
fi
if ! $pan_cc "${cc[@]}" -o pan pan.c >cc.out 2>&1; then
	echo "spin_check: $name $label: compiling pan failed:" >&2
	cat cc.out >&2
	exit 2
fi

t0=$(now)
./pan "${run[@]}" >pan.out 2>&1
t1=$(now)
time=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')

errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | tail -1)
states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | tail -1)
reached=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.out | tail -1)
reason=$(grep -E -m1 '^pan:[0-9]*:|^pan: ' pan.out | grep -v 'elapsed time\|wrote ' |
	sed 's/^pan:[0-9]*: *//; s/^pan: *//')

verdict=
if [ -z "$errors" ] || [ -z "$states" ]; then
	verdict=broken
elif grep -q 'max search depth too small' pan.out; then
	verdict=incomplete
	reason="depth bound $depth reached"
elif grep -qi 'MEMLIM bound\|out of memory\|memory limit' pan.out; then
	verdict=incomplete
	reason="memory bound ${memlim}MB reached"
elif [ "$errors" -eq 0 ]; then
	verdict=holds
	reason=
else
	verdict=violates
fi

ok=OK
if [ "$verdict" != "$expect" ]; then
	ok=FAIL
elif [ "$verdict" = violates ] && [ -n "$why" ] && ! echo "$reason" | grep -Eq -- "$why"; then
	ok="FAIL (error is not '$why')"
fi

line="spin_check: $name $label $mode${ltl:+ $ltl}: $verdict (expected $expect) $ok"
line+=" states=${states:-?} depth=${reached:-?} time=${time}s"
[ -z "$reason" ] || line+=" [$reason]"
echo "$line"

[ "$ok" = OK ] && exit 0
{
	echo "---- pan ${run[*]} (compiled ${cc[*]}) ----"
	cat pan.out
	if [ "$verdict" = violates ] && ls ./*.trail >/dev/null 2>&1; then
		echo "---- counterexample (spin -t -p -g -l) ----"
		spin -t -p -g -l "-E-I$modeldir" "-E-I$commondir" "${defines[@]+"${defines[@]}"}" "$name" 2>&1 |
			tail -n 200
	fi
} >&2
exit 1
