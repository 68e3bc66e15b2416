#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The C bindings keep Google Benchmark's own flags working, and add the ratio table only to
# console output. Correctness of the plumbing only: nothing here looks at a timing.
set -eu
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

list=$("$bin" --benchmark_list_tests=true --benchmark_filter='^baseline/')
echo "$list" | grep -q '^baseline/unprotected/real_time/threads:1$' || fail "list: $list"
echo "$list" | grep -q '^baseline/unprotected/real_time/threads:2$' || fail "list: $list"
echo "$list" | grep -qv '^baseline/' && fail "filter let through: $list"

json=$("$bin" --benchmark_filter='^baseline/unprotected/real_time/threads:1$' \
	--benchmark_min_time=0.001 --benchmark_format=json)
echo "$json" | grep -q '"name": "baseline/unprotected/real_time/threads:1"' || fail "json: $json"
echo "$json" | grep -q 'ratio to' && fail "the ratio table must not corrupt JSON output"

console=$("$bin" --benchmark_filter='^baseline/unprotected/real_time/threads:1$' \
	--benchmark_min_time=0.001 --benchmark_repetitions=2 --benchmark_color=false)
echo "$console" | grep -q 'ratio to' || fail "no ratio table: $console"
echo "$console" | grep -Eq '^baseline/unprotected +[0-9.]+ +1\.0' || fail "baseline row: $console"

"$bin" --benchmark_no_such_flag=1 >/dev/null 2>&1 && fail "an unknown flag must be refused"
echo "1 passed, 0 failed"
