#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ./teardown test --aarch64: every lab cross-built for AArch64 with Debian's gcc-aarch64-linux-gnu
# (the Bazel toolchain in this directory, --config=aarch64), and run under qemu-aarch64:
#   - every unit test (Criterion) and plain C test that neither needs a sanitizer nor drives a
#     race binary;
#   - each lab's race binary built without a sanitizer: the fixed variants' forced and late
#     schedules and a short stress loop, and the naive variants the device's canary can judge
#     (//tests:race_test_main with --sanitizer none);
#   - teardown_cpu_relax() and teardown_smp_mb() read from the AArch64 machine code
#     (//patterns/common:fence_test, which checks AArch64 when the cross compiler is present);
#   - the torture's quick size, every fix in every mode (//torture -- --quick).
# It proves that the catalog builds and runs on AArch64; not that it is correct under Arm's weak
# memory model: QEMU's TCG on an x86 host does not reorder as Arm hardware does.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

# Debian multiarch: the arm64 builds of the libraries the tests link, beside the amd64 ones.
ARM64_PACKAGES=(
	libc6:arm64         # the loader and libc the tests run with under qemu
	libffi8:arm64       # Criterion's dependencies ...
	libgit2-1.5:arm64
	libbenchmark-dev:arm64  # Google Benchmark, for building the benchmarks
)
# Criterion itself (libcriterion3, its libnanomsg5, the -dev link) cannot be installed for arm64
# beside amd64's: the two libnanomsg5 builds carry different Debian versions (a binNMU), and
# apt would remove the amd64 Criterion. So they are unpacked into a directory of their own, which
# the toolchain links from (cc_toolchain_config.bzl).
CRITERION_DEBS=(libcriterion3:arm64 libcriterion-dev:arm64 libnanomsg5:arm64)
CRITERION_ROOT=/opt/teardown-aarch64

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

install_packages() {
	local missing=() pkg
	for pkg in gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user "${ARM64_PACKAGES[@]}"; do
		installed "$pkg" || missing+=("$pkg")
	done
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		say "dpkg --add-architecture arm64"
		"${sudo[@]}" dpkg --add-architecture arm64
		missing+=(apt-update)
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing: ${missing[*]/apt-update/}"
		"${sudo[@]}" apt-get update -qq
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
			"${missing[@]/apt-update/}" >/dev/null
	fi
	if [ ! -e "$CRITERION_ROOT/usr/lib/aarch64-linux-gnu/libcriterion.so.3" ]; then
		local tmp
		tmp=$(mktemp -d)
		say "unpacking ${CRITERION_DEBS[*]} into $CRITERION_ROOT"
		(cd "$tmp" && chmod 777 . && apt-get download -qq "${CRITERION_DEBS[@]}")
		"${sudo[@]}" mkdir -p "$CRITERION_ROOT"
		for deb in "$tmp"/*.deb; do
			"${sudo[@]}" dpkg-deb -x "$deb" "$CRITERION_ROOT"
		done
		rm -rf "$tmp"
	fi
	say "all present: gcc-aarch64-linux-gnu, qemu-user, arm64 libraries," \
		"Criterion in $CRITERION_ROOT"
}

install_packages
say "$(aarch64-linux-gnu-gcc --version | head -1); $(qemu-aarch64 --version | head -1)"

# What runs under qemu: the unit tests and plain tests, less those that need a sanitizer
# (sanitized programs are not expected to run under qemu-user) and the race tests, whose driver
# expects sanitized race binaries; the plain race tests stand in for them. Found by query, so
# that a new lab's tests are picked up without a list here.
universe='//patterns/... + //tests/... + //tools/...'
query="kind(cc_test, tests($universe))
	except attr(copts, '-fsanitize', $universe)
	except rdeps($universe, //tests:race_test_main)
	+ tests(//tools/aarch64:all) + //patterns/common:fence_test"
mapfile -t targets < <(bazel query --noshow_progress "$query" 2>/dev/null)

say "bazel test --config=aarch64 (${#targets[@]} targets)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
bazel test --config=aarch64 "${targets[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
verdict='^//\S+\s+(\(cached\) )?'
passed=$(grep -cE "${verdict}PASSED" "$log" || true)
failed=$(grep -cE "${verdict}(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)" "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # the build itself failed
fi

# QEMU 7.2 (Debian 12) aborts when a process forked from a multithreaded guest creates a thread
# ("qemu_plugin_vcpu_init_hook: assertion failed"): the misuse tests whose forked child starts
# a waiter thread. A Criterion target whose every failed test died of that assertion is the
# emulator's failure, not the code's: it is counted apart, with its failed tests named.
emulator=0
while read -r testlog; do
	fails=$(grep -c '^\[FAIL\]' "$testlog" || true)
	qemu=$(grep -c '^\[----\]   ERROR:.*qemu_plugin_vcpu_init_hook: assertion failed' \
		"$testlog" || true)
	if [ "$fails" -gt 0 ] && [ "$fails" -eq "$qemu" ]; then
		emulator=$((emulator + 1))
		failed=$((failed - 1))
		echo "not judged (QEMU 7.2 assertion after fork): $testlog"
		grep '^\[FAIL\]' "$testlog" | sed 's/^/    /'
	fi
done < <(grep -A1 -E "${verdict}FAILED" "$log" | grep -oE '/\S+/test\.log' || true)

# The torture's quick size. Its tests (//torture:quick_test_*) are shell scripts that execute
# the torture binary, which the host kernel cannot do for an AArch64 program; so the binary is
# run here, under the same wrapper, for every fix at once.
if [ "${TEARDOWN_AARCH64_TORTURE:-1}" = 1 ] && bazel query //torture:torture >/dev/null 2>&1; then
	say "bazel run --config=aarch64 //torture -- --quick (under qemu-aarch64)"
	if bazel run --config=aarch64 --run_under=//tools/aarch64:qemu //torture -- --quick; then
		passed=$((passed + 1))
		echo "//torture --quick (AArch64, qemu)  PASSED"
	else
		failed=$((failed + 1))
		echo "//torture --quick (AArch64, qemu)  FAILED"
	fi
fi
[ "$emulator" -eq 0 ] || echo "$emulator test targets not judged: QEMU 7.2's own assertion"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
