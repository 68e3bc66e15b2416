#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Benchmark runs as pictures: Google Benchmark JSON in, SVG figures out, drawn by gnuplot.

    plots.py --bench BIN [--bench BIN ...] [--benchmark_FLAG=VALUE ...]
        runs each benchmark binary with JSON output and keeps each run's JSON, with the machine
        it ran on and the exact command, in OUT/data/; then draws every figure from them.
    plots.py --json FILE [--json FILE ...]
        draws the figures from runs made earlier (copied into OUT/data/ first).

OUT is --out, or chapters/figures/ of the workspace under `bazel run //bench/plots`.

The figures, each drawn only when the runs have its rows:
    threads-<pattern>.svg  the hot path: ns per call as each thread sees it, against threads,
                           log scales, the unprotected baseline in grey (rows .../threads:T);
    work-<pattern>.svg     what the protection adds to a call that does work, in % of the
                           same work unprotected, against threads (rows .../work/threads:T);
    writer-<mode>.svg      the writer side: ns per call against registered readers, idle or
                           active (rows scaling/writer/<op>/<mode>/readers:N);
    <arg>-<pattern>.svg    any other argument (readers:N, section_us:N, ...) as an x axis.

Each point is the median over the repetitions; the bar through it runs from the fastest to the
slowest repetition. Each figure carries its caption (the machine, the run's date, the command)
under the plot and in its <desc>; OUT/README.md lists them all with the same captions. Given the
same JSON, every output is byte for byte the same.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GNUPLOT_SCRIPT = os.path.join(HERE, "lines.gp")
REGENERATE = "bazel run //bench/plots"
# Every binary runs with repetitions, so that every point has a spread.
RUN_FLAGS = ["--benchmark_repetitions=5"]

# Benchmark name prefix -> the pattern (chapter) whose figures show it.
GROUP_OF = {"liburcu": "rcu", "ck_epoch": "epoch", "ck_hp": "hazptr"}
GROUP_TITLE = {
    "global_flag": "Chapter 1, the global flag",
    "rwlock": "Chapter 2, the reader-writer lock",
    "rundown": "Chapter 3, refcount rundown",
    "remove_lock": "Chapter 4, the double remove-lock",
    "rcu": "Chapter 5, RCU (ours and liburcu)",
    "epoch": "Chapter 6, epochs (ours and Concurrency Kit)",
    "lookup": "Chapter 9, RCU plus a reference count",
    "registry": "Chapter 10, the registration point that drains",
    "hazptr": "Chapter 11, hazard pointers (ours and Concurrency Kit)",
    "srcu": "Chapter 12, SRCU: sleepable readers",
}
BASELINE = "baseline/unprotected"
WORK = "work"           # the last name component of a hot-path row's with-work twin
WRITER = "scaling/writer/"
WRITER_MODE = {
    "idle": "The readers are registered, then parked on a futex (no CPU).",
    "active": "The readers run their read side on the CPUs the writer is not on.",
}
# A series named <name><FLAVOUR> is drawn in <name>'s colour, paler: the same operation with
# full fences instead of membarrier.
FLAVOUR = "_fenced"
COLOURS = 14    # lines.gp's palette

# Name components Google Benchmark adds that are not arguments.
RUN_OPTIONS = re.compile(r"^(real_time|process_time|manual_time|"
                         r"(iterations|repeats|min_time|min_warmup_time):.*)$")
ARG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(-?[0-9.]+)$")
ARG_AXIS = {
    "threads": "threads (pinned one per CPU while they fit)",
    "readers": "registered reader threads",
    "section_us": "length of the readers' sections (us)",
}
TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Fail(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The machine and the runs


def cpu_model():
    """The CPU's name as /proc/cpuinfo gives it (x86: model name; Arm: Hardware or CPU part)."""
    try:
        with open("/proc/cpuinfo") as f:
            fields = {}
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return "unknown CPU"
    for key in ("model name", "Hardware", "Model", "cpu model", "CPU part"):
        if fields.get(key):
            return fields[key]
    return "unknown CPU"


def this_machine():
    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.system() + " " + platform.release(),
        "host_name": platform.node(),
    }


def run_benchmark(binary, flags, data_dir, command):
    """Runs one benchmark binary with JSON output; returns the path of its kept JSON."""
    name = os.path.basename(binary)
    fd, tmp = tempfile.mkstemp(prefix="plots-", suffix=".json")
    os.close(fd)
    argv = [binary, "--benchmark_format=json", "--benchmark_out_format=json",
            "--benchmark_out=" + tmp] + flags
    shown = " ".join(shlex.quote(a) for a in ["bazel-bin/" + binary] + argv[1:3] + argv[4:])
    print("plots: running " + shown, file=sys.stderr, flush=True)
    try:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        with open(tmp) as f:
            run = json.load(f)
    except subprocess.CalledProcessError as e:
        raise Fail("%s exited with %d" % (binary, e.returncode))
    finally:
        os.unlink(tmp)
    run["context"]["teardown"] = dict(this_machine(), benchmark_command=shown,
                                      command=command)
    path = os.path.join(data_dir, name + ".json")
    with open(path, "w") as f:
        f.write(kept(run))
    return path


def kept(run):
    """The run as kept in data/: Google Benchmark's JSON, one run object a line, without the
    aggregates that the repetitions give back (mean, stddev, cv), which nothing here draws."""
    drop = ("mean", "stddev", "cv")
    rows = [b for b in run["benchmarks"] if b.get("aggregate_name") not in drop]
    return ('{"context": %s,\n"benchmarks": [\n%s\n]}\n'
            % (json.dumps(run["context"], sort_keys=True, indent=1),
               ",\n".join(json.dumps(b, sort_keys=True) for b in rows)))


def run_memory(binary, data_dir, command):
    """Runs the memory table (bench/scaling/memory --csv); keeps it with the machine, the date
    and the command as # lines above the CSV."""
    shown = "bazel-bin/" + binary + " --csv"
    print("plots: running " + shown, file=sys.stderr, flush=True)
    res = subprocess.run([binary, "--csv"], stdout=subprocess.PIPE, universal_newlines=True)
    if res.returncode != 0:
        raise Fail("%s --csv exited with %d" % (binary, res.returncode))
    m = this_machine()
    head = {
        "machine": "%s, %s CPUs, %s %s" % (m["cpu_model"], m["cpus"], m["kernel"],
                                         platform.machine()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M %Z"),
        "benchmark_command": shown,
        "command": command,
    }
    path = os.path.join(data_dir, "memory.csv")
    with open(path, "w") as f:
        f.write("".join("# %s: %s\n" % kv for kv in head.items()) + res.stdout)
    return path


def memory_figure(figs, path):
    """Bytes per protected object against threads, one line per pattern."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise Fail("cannot read %s: %s" % (path, e.strerror))
    head = dict(l[2:].split(": ", 1) for l in lines if l.startswith("# ") and ": " in l)
    table = list(csv.DictReader(l for l in lines if l and not l.startswith("#")))
    if not table or "bytes_per_object" not in table[0]:
        raise Fail("%s is not bench/scaling/memory --csv output" % path)
    f = figs.get("memory", title="Memory per protected object against threads",
                 xlabel="threads that use the object", ylabel="bytes per object",
                 notes=["Counted from the patterns' own structures (sizeof), not measured; "
                        "per object only (see data/memory.csv for per-thread and one-off "
                        "costs)."])
    order = []
    for r in table:
        if r["pattern"] not in order:
            order.append(r["pattern"])
    for p in order:
        b = [(float(r["threads"]), float(r["bytes_per_object"])) for r in table
             if r["pattern"] == p]
        f.add(p, [(x, y, y, y) for x, y in b])
    f.runs.append({"verb": "Counted", "machine": head.get("machine", "machine not recorded"),
                   "date": head.get("date", ""),
                   "benchmark_command": head.get("benchmark_command", "memory --csv"),
                   "command": head.get("command", REGENERATE)})
    f.spread = False
    return f


def load_run(path):
    try:
        with open(path) as f:
            run = json.load(f)
    except OSError as e:
        raise Fail("cannot read %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise Fail("%s is not JSON (%s): give --benchmark_format=json output" % (path, e))
    if not isinstance(run, dict) or "benchmarks" not in run or "context" not in run:
        raise Fail("%s is not a Google Benchmark JSON run" % path)
    return run


def describe_run(run, path):
    """The caption of a run: the machine, the date, the commands."""
    ctx = run["context"]
    t = ctx.get("teardown")
    if t is None:
        # A run made by hand: the machine is this one if the host name matches.
        here = this_machine()
        same = ctx.get("host_name") == here["host_name"]
        t = {
            "cpu_model": here["cpu_model"] if same else "CPU not recorded",
            "cpus": ctx.get("num_cpus", "?"),
            "kernel": here["kernel"] if same else "kernel not recorded",
            "benchmark_command": ctx.get("executable", "?") + " (its flags not recorded)",
        }
    date = ctx.get("date", "")
    try:
        date = datetime.datetime.fromisoformat(date).strftime("%Y-%m-%d %H:%M %Z")
    except ValueError:
        pass
    return {
        "machine": "%s, %s CPUs, %s" % (t["cpu_model"], t["cpus"], t["kernel"]),
        "date": date,
        "benchmark_command": t["benchmark_command"],
        "command": t.get("command", REGENERATE + " -- --json " + path),
        "cpus": ctx.get("num_cpus") or t["cpus"],
    }


# ---------------------------------------------------------------------------------------------
# Rows: one benchmark instance, its values in each repetition


def parse_name(run_name):
    """'rundown/wait_latency/one_word/readers:4/real_time' -> ('rundown/...', {'readers': 4})."""
    family, args = [], {}
    for part in run_name.split("/"):
        if RUN_OPTIONS.match(part):
            continue
        m = ARG.match(part)
        if m:
            args[m.group(1)] = float(m.group(2))
        else:
            family.append(part)
    return "/".join(family), args


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def values(b):
    """What a figure may draw of one run object: ns per call as each thread sees it, and the
    counters. The harness's own clock (own_ns) when it gave one; otherwise Google Benchmark's
    real time, which is divided by the iterations of all threads together: times the thread
    count, it is the time of one call as each thread sees it."""
    v = {k: x for k, x in b.items() if isinstance(x, (int, float)) and not isinstance(x, bool)}
    v["ns"] = b.get("own_ns") or (b["real_time"] * TIME_UNIT_NS[b.get("time_unit", "ns")]
                                  * int(b.get("threads", 1)))
    return v


class Row:
    def __init__(self, family, args):
        self.family, self.args = family, args
        self.reps = []  # values() of each repetition
        self.agg = {}   # aggregate name -> values(), used when no repetition was reported

    def stats(self, key, f=lambda x: x):
        """(median, min, max) of f(key's value) over the repetitions, or None."""
        v = [f(r[key]) for r in self.reps if key in r]
        if v:
            return median(v), min(v), max(v)
        m = self.agg.get("median", {}).get(key)
        if m is None:
            return None
        lo, hi = (self.agg.get(a, {}).get(key, m) for a in ("min", "max"))
        return f(m), min(f(lo), f(hi)), max(f(lo), f(hi))


def rows_of(run):
    """The run's rows in the order the binary ran them."""
    rows, order = {}, []
    for b in run["benchmarks"]:
        if b.get("error_occurred") or b.get("skipped") or "real_time" not in b:
            continue
        name = b.get("run_name", b["name"])
        family, args = parse_name(name)
        if "threads:" in name:
            args["threads"] = int(b.get("threads", 1))
        row = rows.get(name)
        if row is None:
            row = rows[name] = Row(family, args)
            order.append(name)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_unit", "time") == "time":
                row.agg[b["aggregate_name"]] = values(b)
        else:
            row.reps.append(values(b))
    rows = [rows[n] for n in order]
    # An argument that is only ever 0 or 1 is a switch, not an axis (unless ARG_AXIS names it):
    # it stays in the name.
    seen = {}
    for row in rows:
        for k, v in row.args.items():
            seen.setdefault(k, set()).add(v)
    for k, vs in seen.items():
        if k not in ARG_AXIS and vs <= {0.0, 1.0}:
            for row in rows:
                if k in row.args:
                    row.family += "/%s:%d" % (k, row.args.pop(k))
    return rows


# ---------------------------------------------------------------------------------------------
# Figures


class Figure:
    def __init__(self, name, title, xlabel, ylabel, logx=True, logy=True, vline=0, notes=()):
        self.name, self.title = name, title
        self.xlabel, self.ylabel = xlabel, ylabel
        self.logx, self.logy, self.vline = logx, logy, vline
        self.notes = list(notes)
        self.series = []    # (title, [(x, median, min, max)], reference?)
        self.runs = []      # captions of the runs it draws from
        self.duty = []      # the writer rows' measured reader duty cycles
        self.spread = True  # bars from the fastest to the slowest repetition

    def add(self, title, pts, ref=False):
        if pts:
            self.series.append((title, sorted(pts), ref))


def group_of(family):
    head = family.split("/", 1)[0]
    return GROUP_OF.get(head, head)


def short(family, group):
    """The family's name in its figure: without the group's prefix when it is the group's own."""
    head, _, rest = family.partition("/")
    return rest if head == group and rest else family


def label(family, extra):
    return family + "".join(" %s:%g" % kv for kv in extra)


class Figures:
    def __init__(self):
        self.by_name = {}
        self.order = []

    def get(self, name, **kw):
        if name not in self.by_name:
            self.by_name[name] = Figure(name, **kw)
            self.order.append(name)
        return self.by_name[name]

    def list(self):
        return [self.by_name[n] for n in self.order if self.by_name[n].series]


def curves(rows, axis, key="ns", f=lambda x: x):
    """{(family, other args): [(x, median, min, max)]} of the rows that have axis."""
    out = {}
    for row in rows:
        if axis not in row.args:
            continue
        p = row.stats(key, f)
        if p is None:
            continue
        extra = tuple(sorted((k, v) for k, v in row.args.items() if k != axis))
        out.setdefault((row.family, extra), []).append((row.args[axis],) + p)
    return out


def hot_path(figs, rows, cpus):
    c = curves(rows, "threads")
    for (family, extra), pts in c.items():
        if family.endswith("/" + WORK) or family == BASELINE or extra:
            continue
        g = group_of(family)
        f = figs.get("threads-" + g,
                     title=GROUP_TITLE.get(g, g) + ": the hot path against threads",
                     xlabel=ARG_AXIS["threads"], ylabel="ns per call, as each thread sees it",
                     vline=cpus, notes=["Grey: the unprotected load, the floor."])
        if not f.series and (BASELINE, ()) in c:
            f.add("baseline: unprotected load", c[(BASELINE, ())], ref=True)
        f.add(short(family, g), pts)
        yield f


def with_work(figs, rows, cpus):
    """Each /work row's cost over the same work unprotected, in per cent. Its own paired
    baseline (x_base, measured in the same repetition) when the harness gave one; otherwise the
    median of the baseline's /work row at the same thread count."""
    paired = curves(rows, "threads", "x_base", lambda x: 100.0 * (x - 1.0))
    plain = curves(rows, "threads")
    alone = {x: m for x, m, _, _ in plain.get((BASELINE + "/" + WORK, ()), [])}
    for (family, extra), pts in plain.items():
        if not family.endswith("/" + WORK) or family.startswith(BASELINE + "/") or extra:
            continue
        if (family, extra) in paired:
            pts = paired[(family, extra)]
            how = "against the unprotected loop with the same work, paired in each repetition"
        else:
            pts = [(x,) + tuple(100.0 * (v - alone[x]) / alone[x] for v in p)
                   for x, *p in pts if alone.get(x)]
            how = "against the median of baseline/unprotected/work at the same thread count"
        g = group_of(family)
        f = figs.get("work-" + g,
                     title=GROUP_TITLE.get(g, g) + ": the protection's cost around real work",
                     xlabel=ARG_AXIS["threads"],
                     ylabel="% added to the call (hashing 64 bytes)", logy=False, vline=cpus,
                     notes=["Each call hashes 64 bytes (FNV-1a) inside the section; "
                            "the cost is measured " + how + "."])
        f.add(short(family[:-len("/" + WORK)], g), pts)
        yield f


def writer_side(figs, rows):
    """scaling/writer/<op>/<mode>/readers:N: one figure per mode."""
    for (family, extra), pts in curves(rows, "readers").items():
        parts = family.split("/")
        if not family.startswith(WRITER) or len(parts) != 4 or extra:
            continue
        op, mode = parts[2], parts[3]
        f = figs.get("writer-" + mode,
                     title="The writer side against registered readers, " + mode,
                     xlabel=ARG_AXIS["readers"], ylabel="ns per writer-side call",
                     notes=[WRITER_MODE.get(mode, "Readers " + mode + ".")])
        f.add(op, pts)
        f.duty += [r.stats("duty")[0] for r in rows
                   if r.family == family and r.stats("duty") is not None]
        yield f


def other_axes(figs, rows):
    axes = []
    for row in rows:
        for a in row.args:
            if a != "threads" and a not in axes:
                axes.append(a)
    for axis in axes:
        c = curves(rows, axis)
        for (family, extra), pts in c.items():
            if family.startswith(WRITER):
                continue
            g = group_of(family)
            f = figs.get("%s-%s" % (axis, g),
                         title="%s: per iteration against %s" % (
                             GROUP_TITLE.get(g, g), ARG_AXIS.get(axis, axis)),
                         xlabel=ARG_AXIS.get(axis, axis), ylabel="ns per iteration",
                         logx=min(x for x, *_ in pts) > 0)
            f.logx = f.logx and min(x for x, *_ in pts) > 0
            f.add(label(short(family, g), extra), pts)
            yield f


def build_figures(runs):
    """runs: [(caption, rows)] -> [Figure], in a fixed order: the runs', then the rows'."""
    figs = Figures()
    for caption, rows in runs:
        for kind in (hot_path(figs, rows, caption["cpus"]),
                     with_work(figs, rows, caption["cpus"]),
                     writer_side(figs, rows), other_axes(figs, rows)):
            for f in kind:
                if caption not in f.runs:
                    f.runs.append(caption)
    return figs.list()


def caption_lines(f):
    lines = []
    for i, c in enumerate(f.runs):
        said = "%s %s on %s." % (c.get("verb", "Measured"), c["date"], c["machine"])
        if said not in lines:
            lines.append(said)
        lines.append("Run: " + c["benchmark_command"])
    notes = list(f.notes)
    if f.duty:
        notes.append("Readers' measured duty cycle (fraction of the time each was on a CPU): "
                     "%.2g to %.2g." % (min(f.duty), max(f.duty)))
    if f.spread:
        notes.append("Median of the repetitions; bars from the fastest to the slowest.")
    lines += notes
    lines.append("Drawn by: " + f.runs[0]["command"])
    return lines


def gp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def styles(series):
    """Each series' gnuplot line type (lines.gp): 100 for the reference, 1 + k for the k-th
    colour, 101 + k for the same paler (a _fenced flavour of a series drawn in it)."""
    colour, out = {}, []
    for title, _, ref in series:
        base = title[:-len(FLAVOUR)] if title.endswith(FLAVOUR) else None
        if ref:
            out.append(100)
        elif base in colour:
            out.append(101 + colour[base])
        else:
            colour[title] = len(colour) % COLOURS
            out.append(1 + colour[title])
    return out


def draw(f, data_dir, out_dir, gnuplot):
    dat = os.path.join(data_dir, f.name + ".dat")
    with open(dat, "w") as out:
        out.write("# %s\n# %s | %s: median min max, one block per series\n"
                  % (f.title, f.xlabel, f.ylabel))
        for i, (title, pts, _) in enumerate(f.series):
            out.write("%s%s\n" % ("\n\n" if i else "", gp_string(title)))
            for p in pts:
                out.write("%g %.6g %.6g %.6g\n" % p)
    caption = caption_lines(f)
    svg = os.path.join(out_dir, f.name + ".svg")
    strings = {"data": dat, "out": svg, "title": f.title, "xlabel": f.xlabel,
               "ylabel": f.ylabel, "caption": "\n".join(caption),
               "styles": " ".join(str(k) for k in styles(f.series))}
    assigns = ["%s=%s" % (k, gp_string(v)) for k, v in strings.items()]
    assigns += ["n=%d" % len(f.series), "logx=%d" % f.logx, "logy=%d" % f.logy,
                "lines=%d" % len(caption), "vline=%g" % (f.vline or 0)]
    res = subprocess.run([gnuplot, "-e", "; ".join(assigns), GNUPLOT_SCRIPT],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    if res.returncode != 0 or not os.path.exists(svg):
        raise Fail("gnuplot failed on %s:\n%s" % (f.name, res.stdout))
    # The title and caption also as the SVG's own <title> and <desc>, which screen readers and
    # image viewers show, and without the data's path on this machine.
    with open(svg) as inp:
        text = inp.read()
    text = text.replace("<title>Gnuplot</title>", "<title>%s</title>" % xml_escape(f.title), 1)
    text = re.sub(r"<desc>[^<]*</desc>",
                  lambda _: "<desc>%s</desc>" % xml_escape(" ".join(caption)), text, count=1)
    with open(svg, "w") as out:
        out.write(text)
    return caption


def number(v):
    """A measurement as a reader reads it: three figures or so, never an exponent."""
    return "{:,.0f}".format(v) if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v


def single_rows(runs):
    """Markdown lines: the rows with no axis to draw against (a writer-side call with one
    reader, one membarrier, a ping-pong round trip), median and spread."""
    lines = []
    for caption, rows in runs:
        rows = [r for r in rows if not r.args and r.stats("ns")]
        if not rows:
            continue
        lines.append("\nMeasured %s on %s; run: `%s`.\n\n"
                     % (caption["date"], caption["machine"], caption["benchmark_command"]))
        lines.append("| row | ns per iteration, median | fastest | slowest |\n|---|---|---|---|\n")
        for r in rows:
            lines.append("| %s | %s | %s | %s |\n" % ((r.family,) + tuple(
                number(v) for v in r.stats("ns"))))
    return lines


def write_readme(out_dir, drawn, sources, memory, singles):
    def md(line):
        for prefix in ("Run: ", "Drawn by: "):
            if line.startswith(prefix):
                return prefix + "`" + line[len(prefix):] + "`"
        return line

    with open(os.path.join(out_dir, "README.md"), "w") as out:
        out.write("<!-- SPDX-License-Identifier: CC-BY-4.0 -->\n"
                  "<!-- Written by %s (bench/plots/plots.py): do not edit. -->\n"
                  "# Figures\n\n" % REGENERATE)
        out.write("Drawn by gnuplot from the benchmark runs kept in [data/](data/): Google "
                  "Benchmark's JSON, with the machine and the exact command of each run. "
                  "Each point is the median over the repetitions; the bar through it runs "
                  "from the fastest to the slowest repetition. To measure again and redraw "
                  "them all:\n\n")
        out.write("    apt-get install gnuplot-nox   # once; ./teardown installs it too\n"
                  "    %s\n\n" % REGENERATE)
        out.write("Flags after `--` go to every benchmark binary, e.g. `%s -- "
                  "--benchmark_repetitions=10`. To redraw from the kept runs without "
                  "measuring:\n\n    %s -- %s\n\n"
                  % (REGENERATE, REGENERATE,
                     " ".join(["--json chapters/figures/data/" + s for s in sources]
                              + (["--memory-csv chapters/figures/data/memory.csv"]
                                 if memory else []))))
        for f, caption in drawn:
            out.write("## %s\n\n![%s](%s.svg)\n\n" % (f.title, f.title, f.name))
            out.write("".join(md(line) + "  \n" for line in caption))
            out.write("Points: [data/%s.dat](data/%s.dat).\n\n" % (f.name, f.name))
        if singles:
            out.write("## Rows with nothing to draw against\n")
            out.write("".join(singles))


# ---------------------------------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(
        prog=REGENERATE + " --", description=__doc__.split("\n")[0],
        epilog="Flags --benchmark_* (and the harness's --bench_*) go to every binary run.")
    ap.add_argument("--json", action="append", default=[], metavar="FILE",
                    help="draw this Google Benchmark JSON run instead of running (repeatable)")
    ap.add_argument("--bench", action="append", default=[], metavar="BIN",
                    help="a benchmark binary to run (repeatable; bazel run passes them)")
    ap.add_argument("--memory", metavar="BIN", help="bench/scaling/memory, run for the "
                    "memory figure (bazel run passes it)")
    ap.add_argument("--memory-csv", metavar="FILE", help="with --json: the memory figure from "
                    "this kept memory.csv")
    ap.add_argument("--out", metavar="DIR", help="where the figures go (default: "
                    "chapters/figures/ of the workspace, under bazel run)")
    ap.add_argument("--gnuplot", default="gnuplot", help="the gnuplot to draw with")
    args, flags = ap.parse_known_args(argv)
    bad = [a for a in flags if not a.startswith(("--benchmark_", "--bench_"))]
    if bad:
        ap.error("unknown arguments: %s" % " ".join(bad))
    gnuplot = shutil.which(args.gnuplot)
    if gnuplot is None:
        raise Fail("%s not found: ./teardown installs it (Debian package gnuplot-nox); "
                   "or apt-get install gnuplot-nox" % args.gnuplot)
    ws = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    cwd = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())
    if args.out:
        out_dir = os.path.join(cwd, args.out)
    elif ws:
        out_dir = os.path.join(ws, "chapters", "figures")
    else:
        raise Fail("give --out DIR (or run it as %s)" % REGENERATE)
    data_dir = os.path.join(out_dir, "data")
    os.makedirs(data_dir, exist_ok=True)
    # The command as typed, without the binaries that bazel run passes.
    passed = ("--bench", "--memory")
    typed = [a for i, a in enumerate(argv) if a not in passed
             and not a.startswith(tuple(p + "=" for p in passed))
             and (i == 0 or argv[i - 1] not in passed)]
    command = REGENERATE + "".join(
        [" --"] + [" " + shlex.quote(a) for a in typed] if typed else [])

    paths = []
    memory = None
    if args.json:
        srcs = [os.path.join(cwd, p) for p in args.json]
        for src in srcs:
            load_run(src)
        # data/ keeps exactly the runs the figures are drawn from.
        keep = {os.path.basename(p) for p in srcs}
        for name in sorted(os.listdir(data_dir)):
            if name.endswith(".json") and name not in keep or (
                    name == "memory.csv" and not args.memory_csv):
                os.unlink(os.path.join(data_dir, name))
        if args.memory_csv:
            memory = os.path.join(data_dir, "memory.csv")
            src = os.path.join(cwd, args.memory_csv)
            if os.path.abspath(src) != os.path.abspath(memory):
                shutil.copyfile(src, memory)
        for src in srcs:
            dst = os.path.join(data_dir, os.path.basename(src))
            if os.path.abspath(src) != os.path.abspath(dst):
                shutil.copyfile(src, dst)
            paths.append(dst)
    elif args.bench:
        remove(data_dir, ".json")   # no stale run of a binary no longer measured
        for name in ("memory.csv",):
            if os.path.exists(os.path.join(data_dir, name)):
                os.unlink(os.path.join(data_dir, name))
        for b in args.bench:
            paths.append(run_benchmark(b, defaults(flags) + flags, data_dir, command))
        if args.memory:
            memory = run_memory(args.memory, data_dir, command)
    else:
        raise Fail("nothing to draw: give --json FILE, or --bench BIN to run")

    runs = []
    for p in paths:
        rel = os.path.relpath(p, ws) if ws else p
        runs.append((describe_run(load_run(p), rel), rows_of(load_run(p))))
    figures = build_figures(runs)
    if memory:
        figs = Figures()
        memory_figure(figs, memory)
        figures += figs.list()
    if not figures:
        raise Fail("nothing to draw in %s: no row has a thread count or an argument"
                   % " ".join(paths))
    remove(out_dir, ".svg")
    remove(data_dir, ".dat")
    drawn = []
    for f in figures:
        drawn.append((f, draw(f, data_dir, out_dir, gnuplot)))
        print("plots: wrote %s" % os.path.join(out_dir, f.name + ".svg"), file=sys.stderr)
    write_readme(out_dir, drawn, [os.path.basename(p) for p in paths], memory,
                 single_rows(runs))
    return 0


def defaults(flags):
    """RUN_FLAGS the user did not give a value of."""
    given = {f.split("=", 1)[0] for f in flags}
    return [f for f in RUN_FLAGS if f.split("=", 1)[0] not in given]


def remove(directory, suffix):
    for name in sorted(os.listdir(directory)):
        if name.endswith(suffix):
            os.unlink(os.path.join(directory, name))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("plots: %s" % e, file=sys.stderr)
        sys.exit(1)
