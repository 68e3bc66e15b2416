#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --run_under of --config=aarch64 (.bazelrc): runs an AArch64 test under qemu-aarch64, with
# libqemu_exec.so preloaded so that the programs it executes (Criterion's per-test sandbox) run
# under the emulator too. Anything else (a shell test) runs as it is.
#
# No -L /usr/aarch64-linux-gnu: the libraries the tests link (Criterion's, Google Benchmark's)
# come from Debian's multiarch packages, which bring their own libc6:arm64, and a cross libc
# beside that one would mix two builds of glibc in one process (it hangs in pthread_create).
set -euo pipefail
self=$(readlink -f "$0")
shim=
for f in "$0.runfiles/teardown/tools/aarch64/libqemu_exec.so" \
	"${RUNFILES_DIR:-/nonexistent}/teardown/tools/aarch64/libqemu_exec.so" \
	"$self.runfiles/teardown/tools/aarch64/libqemu_exec.so" \
	"$(dirname "$self")/libqemu_exec.so"; do
	if [ -f "$f" ]; then
		shim=$(readlink -f "$f")
		break
	fi
done
[ -n "$shim" ] || { echo "qemu.sh: libqemu_exec.so not found beside $0" >&2; exit 2; }
prog=$1
shift
# e_machine, bytes 18-19 of the ELF header: 0xb7 is AArch64.
if [ "$(od -An -tx1 -j18 -N2 "$prog" 2>/dev/null | tr -d ' ')" = b700 ]; then
	exec "${TEARDOWN_QEMU:=/usr/bin/qemu-aarch64}" -E TEARDOWN_QEMU="$TEARDOWN_QEMU" \
		-E LD_PRELOAD="$shim" "$prog" "$@"
fi
exec "$prog" "$@"
