#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The figures from a real, tiny run of //bench:compare and //bench/scaling:writer (a few rows,
# min_time 1 ms) and of the memory table: plots.py runs the binaries, gnuplot draws. Then every
# SVG must be well-formed, carry its caption, plot the run's own numbers with their spread, and
# come out byte for byte the same when redrawn from the kept runs. Nothing here judges a timing.
# usage: plots_test.sh PLOTS_PY COMPARE WRITER MEMORY
set -uo pipefail
plots=$1 compare=$2 writer=$3 memory=$4
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/plots_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
	echo "FAIL  $*"
	failures=$((failures + 1))
}

if ! command -v gnuplot >/dev/null; then
	echo "FAIL  gnuplot is not installed: ./teardown installs it (Debian package gnuplot-nox)"
	exit 1
fi
# Under a sanitizer build the benchmark binary is instrumented; its leaks do not matter here.
export ASAN_OPTIONS=detect_leaks=0

# One hot-path row and its with-work twin, the baseline, rundown's wait at 0 and 1 readers,
# and one writer-side row at 1 and 4 idle readers: one figure of each kind. The filter goes to
# both binaries.
filter='^(baseline/unprotected|global_flag/flag_and_count)(/work)?/real_time/threads:[12]$'
filter+='|^rundown/wait_latency/one_word/readers:[01]/real_time$'
filter+='|^scaling/writer/trcu_synchronize/idle/readers:[14]/real_time$'
if ! python3 "$plots" --bench "$compare" --bench "$writer" --memory "$memory" --out "$work/a" \
	--benchmark_filter="$filter" \
	--benchmark_min_time=0.001 --benchmark_repetitions=3 2>"$work/err"; then
	cat "$work/err"
	fail "plots.py did not draw the run"
fi
json=$work/a/data/$(basename "$compare").json
json_writer=$work/a/data/$(basename "$writer").json
[ -s "$json" ] && [ -s "$json_writer" ] || fail "the runs were not kept in data/"

want=(threads-global_flag work-global_flag readers-rundown writer-idle memory)
for f in "${want[@]}"; do
	[ -s "$work/a/$f.svg" ] || fail "no $f.svg; wrote: $(ls "$work/a")"
done

# Well-formed SVG, one drawn series per block of its data, the caption inside, and the numbers
# drawn are the run's: at 2 threads the median and the spread of the hot-path row, as Google
# Benchmark's own aggregates give them (its median, and min/max when the harness adds them).
cat >"$work/check.py" <<'EOF'
import json, os, sys, xml.etree.ElementTree as ET
out, run = sys.argv[1], json.load(open(sys.argv[2]))
bad = []
svgs = sorted(n for n in os.listdir(out) if n.endswith(".svg"))
for name in svgs:
    try:
        root = ET.parse(os.path.join(out, name)).getroot()
    except ET.ParseError as e:
        bad.append("%s: not well-formed XML: %s" % (name, e))
        continue
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        bad.append("%s: root element %s" % (name, root.tag))
        continue
    desc = root.findtext(ns + "desc") or ""
    for want in (" on ", " CPUs, Linux ", "Run: bazel-bin/", "Drawn by: bazel run "):
        if want not in desc:
            bad.append("%s: caption lacks %r: %r" % (name, want, desc))
    text = " ".join(" ".join(t.itertext()) for t in root.iter(ns + "text"))
    if "Drawn by: bazel run " not in text:
        bad.append("%s: the caption is not drawn" % name)
    dat = open(os.path.join(out, "data", name[:-4] + ".dat")).read()
    blocks = dat.count("\n\n\n") + 1
    series = sum(1 for g in root.iter(ns + "g") if g.get("id", "").startswith("gnuplot_plot_"))
    if series != blocks:
        bad.append("%s: %d series drawn, %d in its data" % (name, series, blocks))

def drawn(figure, title, x):
    block = open(os.path.join(out, "data", figure + ".dat")).read().split("\n\n\n")
    for b in block:
        lines = [l for l in b.split("\n") if l and not l.startswith("#")]
        if lines and lines[0] == '"%s"' % title:
            for l in lines[1:]:
                v = [float(f) for f in l.split()]
                if v[0] == x:
                    return v[1:]
    return None

def per_call(b):
    # The harness's own per-thread clock; without it, Google Benchmark's real time, which it
    # divides by the iterations of all threads together.
    return b.get("own_ns") or b["real_time"] * b["threads"]

def overhead(b):
    # The harness's paired ratio to the unprotected loop doing the same work, as a percentage.
    return 100.0 * (b["x_base"] - 1.0)

def expect(run, figure, title, x, name, value):
    """The figure's point at x is the run's median and spread of the row, as Google Benchmark's
    own aggregates give them (its median; min/max when the harness adds them)."""
    agg = {b["aggregate_name"]: b for b in run["benchmarks"]
           if b.get("run_name") == name and b.get("run_type") == "aggregate"}
    reps = [b for b in run["benchmarks"]
            if b["name"] == name and b.get("run_type") != "aggregate"]
    if "median" not in agg or len(reps) != 3:
        bad.append("%s: %d repetitions, aggregates %s" % (name, len(reps), sorted(agg)))
        return
    want = [value(agg["median"])]
    want += [value(agg[a]) if a in agg else f(value(b) for b in reps)
             for a, f in (("min", min), ("max", max))]
    got = drawn(figure, title, x)
    if got is None or any(abs(g - w) > 1e-4 * abs(w) + 1e-9 for g, w in zip(got, want)):
        bad.append("%s at %g: drew %s, the run says %s (median min max)"
                   % (figure, x, got, want))
    elif not got[1] < got[2]:
        bad.append("%s at %g: no spread drawn from 3 repetitions: %s" % (figure, x, got))

expect(run, "threads-global_flag", "flag_and_count", 2,
       "global_flag/flag_and_count/real_time/threads:2", per_call)
if os.path.exists(os.path.join(out, "work-global_flag.svg")):
    expect(run, "work-global_flag", "flag_and_count", 2,
           "global_flag/flag_and_count/work/real_time/threads:2", overhead)
if len(sys.argv) > 3:
    expect(json.load(open(sys.argv[3])), "writer-idle", "trcu_synchronize", 4,
           "scaling/writer/trcu_synchronize/idle/readers:4/real_time", per_call)
for b in bad:
    print("FAIL  " + b)
sys.exit(1 if bad else 0)
EOF
python3 "$work/check.py" "$work/a" "$json" "$json_writer" || fail "the figures above"

# Redrawn from the kept run: the same files, byte for byte.
if ! python3 "$plots" --json "$json" --json "$json_writer" --memory-csv "$work/a/data/memory.csv" \
	--out "$work/b" 2>"$work/err"; then
	cat "$work/err"
	fail "plots.py could not redraw from $json"
elif ! diff -r "$work/a" "$work/b" >"$work/diff"; then
	head -20 "$work/diff"
	fail "redrawing the same run changed the figures"
fi

# A run without the harness's own clock (an older binary, or one without the baseline linked
# in): per call is Google Benchmark's real time times the thread count.
python3 -c 'import json, sys
run = json.load(open(sys.argv[1]))
for b in run["benchmarks"]:
    b.pop("own_ns", None)
json.dump(run, open(sys.argv[2], "w"))' "$json" "$work/no_own_ns.json"
if ! python3 "$plots" --json "$work/no_own_ns.json" --out "$work/d" 2>"$work/err"; then
	cat "$work/err"
	fail "plots.py could not draw a run without own_ns"
else
	python3 "$work/check.py" "$work/d" "$work/no_own_ns.json" || fail "the figures above"
fi

# Redrawn in place from one run only: what the other runs drew goes, with their data, so that
# the directory never shows a figure whose run it does not keep.
if ! python3 "$plots" --json "$json" --out "$work/a" 2>"$work/err"; then
	cat "$work/err"
	fail "plots.py could not redraw in place"
else
	for stale in writer-idle.svg memory.svg "data/$(basename "$json_writer")" data/memory.csv; do
		[ -e "$work/a/$stale" ] && fail "redrawn from $(basename "$json") alone, $stale stayed"
	done
	[ -s "$work/a/threads-global_flag.svg" ] || fail "redrawn in place, threads-global_flag.svg went"
fi

# No gnuplot: a message that says how to get it.
if python3 "$plots" --json "$json" --out "$work/c" --gnuplot /nonexistent/gnuplot \
	2>"$work/err"; then
	fail "drew without gnuplot"
elif ! grep -q "./teardown installs it" "$work/err"; then
	fail "without gnuplot, the message does not say ./teardown installs it: $(cat "$work/err")"
fi

[ "$failures" -eq 0 ] && echo "1 passed, 0 failed" && exit 0
echo "$failures failures"
exit 1
