#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# teardown_smp_mb() must be a hardware fence in every build that runs on hardware, sanitized or
# not. Compiles fence_probe.c with gcc and clang, plain and under -fsanitize=thread, and reads
# the machine code: a plain build must contain the fence itself (mfence, or a locked instruction);
# a TSan build must call __tsan_atomic_thread_fence, and the TSan runtime's version of that
# function must contain the fence. (A seq_cst read-modify-write on a private word, which this
# header once used under TSan, is a fence on x86 only by accident of the lock prefix.)
# teardown_cpu_relax() must be the spin-wait hint: pause on x86. When Debian's AArch64 cross
# compiler is installed (tools/aarch64/test.sh installs it), the AArch64 code is read too, with
# gcc and clang: teardown_smp_mb() must be dmb ish (a full barrier for the inner-shareable
# domain, where all of a program's threads run) and teardown_cpu_relax() must be yield.
set -euo pipefail
# Under bazel test the working directory is the workspace's runfiles; by hand, the script's own.
root=$(pwd)
[ -n "${TEST_SRCDIR:-}" ] || root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/patterns/common/fence_probe.c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

fence_in() { grep -qE '\s(mfence|lock )|\sdmb\s' "$1"; }

# The disassembly of one function of an objdump listing.
function_of() { awk -v f="<$1>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' "$2"; }

# The spin-wait hint in fence_probe_cpu_relax: pause on x86, yield on AArch64.
relax_check() {	# what, listing, instruction
	if function_of fence_probe_cpu_relax "$2" | grep -qE "\s$3(\s|$)"; then
		echo "ok    $1: teardown_cpu_relax is $3"
	else
		echo "FAIL  $1: teardown_cpu_relax is not $3"; cat "$2"; failed=1
	fi
}

# AArch64 (cross compiler present): teardown_smp_mb is dmb ish, teardown_cpu_relax is yield.
aarch64_check() {	# compiler, flags...
	local cc=$1 out=$work/aarch64.s what
	shift
	what="$cc${*:+ $*} (AArch64)"
	"$cc" -std=gnu11 -O2 -Wall -Werror "$@" -iquote "$root" -c "$src" -o "$work/a.o"
	aarch64-linux-gnu-objdump -d "$work/a.o" >"$out"
	if function_of fence_probe_smp_mb "$out" | grep -qE '\sdmb\s+ish$'; then
		echo "ok    $what: teardown_smp_mb is dmb ish"
	else
		echo "FAIL  $what: teardown_smp_mb is not dmb ish"; cat "$out"; failed=1
	fi
	relax_check "$what" "$out" yield
}

check() {	# compiler, flags...
	local cc=$1 out
	shift
	out="$work/$cc$*.s"
	out=${out// /}
	"$cc" -std=gnu11 -O2 -Wall -Werror "$@" -iquote "$root" -c "$src" -o "$work/p.o"
	objdump -dr "$work/p.o" >"$out"
	case "$*" in
	*thread*)
		if grep -q '__tsan_atomic_thread_fence' "$out"; then
			echo "ok    $cc $*: calls __tsan_atomic_thread_fence"
		else
			echo "FAIL  $cc $*: no call to __tsan_atomic_thread_fence"
			cat "$out"
			failed=1
		fi ;;
	*)
		relax_check "$cc $*" "$out" pause
		if fence_in "$out"; then
			found=$(grep -oE '\s(mfence|lock [a-z]+|dmb\s+\w+)' "$out" | head -1 | xargs)
			echo "ok    $cc $*: $found"
		else
			echo "FAIL  $cc $*: no fence instruction"; cat "$out"; failed=1
		fi ;;
	esac
}

runtime_fence() {	# what, object or library
	objdump -d "$2" | awk '/<__tsan_atomic_thread_fence>:/,/^$/' >"$work/rt.s"
	if fence_in "$work/rt.s"; then
		echo "ok    $1 runtime: __tsan_atomic_thread_fence executes a hardware fence"
	else
		echo "FAIL  $1 runtime: __tsan_atomic_thread_fence has no fence"
		cat "$work/rt.s"
		failed=1
	fi
}

check gcc
check gcc -fsanitize=thread
runtime_fence gcc "$(readlink -f "$(gcc -print-file-name=libtsan.so)")"
check clang
check clang -fsanitize=thread
rt=$(clang -print-file-name=libclang_rt.tsan-x86_64.a 2>/dev/null || true)
[ -f "$rt" ] || rt=$(find "$(clang -print-resource-dir)" -name 'libclang_rt.tsan-*.a' | head -1)
(cd "$work" && ar x "$rt" tsan_interface_atomic.cpp.o)
runtime_fence clang "$work/tsan_interface_atomic.cpp.o"
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v aarch64-linux-gnu-objdump >/dev/null
then
	aarch64_check aarch64-linux-gnu-gcc
	aarch64_check clang --target=aarch64-linux-gnu
else
	echo "skip  AArch64: no aarch64-linux-gnu-gcc (tools/aarch64/test.sh installs it)"
fi
exit $failed
