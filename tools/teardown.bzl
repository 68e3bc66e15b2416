# SPDX-License-Identifier: BSD-2-Clause
"""The catalog's build vocabulary: what every pattern directory declares.

  teardown_lab            a lab from one table: its library, race test, unit tests, benchmarks,
                          and the file groups that other builds compile and chapters/ quotes
  teardown_lab_library    a build of a lab's implementation (teardown_lab's, or another one with
                          its own defines)
  teardown_race_test      the pattern's race lab, built with a sanitizer, and the test driving it
  teardown_unit_test      Criterion tests of the pattern's API contract and misuse
  teardown_bench_library  the pattern's hot-path benchmarks, linked into //bench:compare
  teardown_sh_test        a shell test, given the paths of the programs it runs
  SANITIZER               the sanitizer of the race binaries, for copts and linkopts
"""

# -O1 -g keeps the sanitizer's stack frames readable; TEARDOWN_RACE_HOOKS turns on
# scenario/hooks.h, which the forced schedule needs.
RACE_COPTS = ["-DTEARDOWN_RACE_HOOKS", "-O1", "-g", "-fno-omit-frame-pointer"]

# The sanitizer every race binary is built with: ThreadSanitizer, or AddressSanitizer under
# --config=asan (the two cannot be linked into one program).
_SANITIZER_FLAG = {
    "//tools:asan": "-fsanitize=address",
    "//conditions:default": "-fsanitize=thread",
}

SANITIZER = select({setting: [flag] for setting, flag in _SANITIZER_FLAG.items()})

# The same table, as the race test driver's check that each race binary is the build asked for.
_SANITIZER_NAME = select({
    setting: ["--sanitizer", flag[len("-fsanitize="):]]
    for setting, flag in _SANITIZER_FLAG.items()
})

# Every benchmark loop starts on a 32-byte boundary. Without it the baseline's 6-instruction
# loop ran in 0.28 ns in one build and 0.55 ns in the next, depending on whether it happened to
# straddle a fetch boundary: a 2x swing in every ratio that had nothing to do with the patterns.
BENCH_COPTS = ["-falign-loops=32"]

# The harness and the helpers every race binary compiles in.
_RACE_SRCS = ["//scenario:race_srcs", "//patterns/common:srcs"]

# What every lab's implementation is built on.
_LAB_DEPS = ["//patterns/common", "//scenario"]

def teardown_lab(
        name,
        srcs,
        hdrs,
        unit_test,
        bench,
        bench_deps = [],
        no_membarrier = None,
        unit_test_no_membarrier = False,
        builds = {},
        plain_tests = []):
    """A lab, declared from one table in which each of its sources is named once.

    It declares :<name>, :race_test, :unit_test, :bench and :bench_bin, the file groups
    :lab_srcs (the implementation alone, no variants, tests or benchmarks, for builds that compile
    it with their own flags: the torture run and the AArch64 cross-build) and :srcs (every .c and
    .h of the directory: what chapters/ quotes), and the optional targets below.

    Args:
      name: the library: the implementation, srcs and hdrs (teardown_lab_library).
      srcs: the implementation's .c files.
      hdrs: its headers.
      unit_test: the sources of :unit_test, Criterion tests against :<name>.
      bench: the sources of :bench (linked into //bench:compare) and :bench_bin.
      bench_deps: what the benchmarks compare against (liburcu, Concurrency Kit).
      no_membarrier: the lab's *_NO_MEMBARRIER variable; :race_test_no_membarrier then drives
        the race binaries (srcs, hdrs and variants.c) with full fences on both sides instead of
        membarrier.
      unit_test_no_membarrier: True for :unit_test_no_membarrier, the unit tests in that mode.
      builds: {b: defines}: for each b, :<name>_<b>, the implementation built with those
        defines, and :unit_test_<b>, the unit tests against it.
      plain_tests: plain C tests against :<name>, each built from its name + ".c" (not
        Criterion, so that --config=tsan runs them too).
    """
    teardown_lab_library(name = name, srcs = srcs, hdrs = hdrs)
    teardown_race_test(
        name = "race_test",
        srcs = srcs + hdrs + ["variants.c"],
        no_membarrier = no_membarrier,
    )
    teardown_unit_test(name = "unit_test", srcs = unit_test, deps = [":" + name])
    if unit_test_no_membarrier:
        if not no_membarrier:
            fail("unit_test_no_membarrier needs the lab's no_membarrier variable")
        teardown_unit_test(
            name = "unit_test_no_membarrier",
            srcs = unit_test,
            deps = [":" + name],
            env = {no_membarrier: "1"},
        )
    for build, defines in builds.items():
        teardown_lab_library(
            name = name + "_" + build,
            srcs = srcs,
            hdrs = hdrs,
            defines = defines,
            testonly = True,
        )
        teardown_unit_test(
            name = "unit_test_" + build,
            srcs = unit_test,
            deps = [":" + name + "_" + build],
        )
    for test in plain_tests:
        native.cc_test(
            name = test,
            size = "small",
            srcs = [test + ".c"],
            deps = [":" + name],
        )
    teardown_bench_library(name = "bench", srcs = bench, deps = [":" + name] + bench_deps)
    native.filegroup(name = "lab_srcs", srcs = srcs + hdrs)
    native.filegroup(name = "srcs", srcs = native.glob(["*.c", "*.h"]))

def teardown_lab_library(name, srcs, hdrs, defines = [], testonly = False):
    """A build of a lab's implementation, on patterns/common and the scenario."""
    native.cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        defines = defines,
        linkopts = ["-pthread"],
        testonly = testonly,
        deps = _LAB_DEPS,
    )

def teardown_race_test(
        name,
        srcs,
        rounds = 200,
        size = "small",
        clang = True,
        no_membarrier = None):
    """A race lab: the pattern's sources and variant table, compiled with the race harness.

    Every source is compiled in the race binary itself, not taken from a cc_library, because a
    target's copts reach only its own sources: a library built without -fsanitize=thread would
    hide the very accesses the test is about. With clang = True a second binary is built with
    clang, and the test drives both. no_membarrier: the pattern's *_NO_MEMBARRIER variable, for a
    second test, name + "_no_membarrier", that drives the same binaries with full fences on both
    sides instead of membarrier.
    """
    bins = [name + "_gcc"]
    native.cc_binary(
        name = name + "_gcc",
        srcs = srcs + _RACE_SRCS,
        copts = RACE_COPTS + SANITIZER,
        linkopts = SANITIZER + ["-pthread", "-ldl"],
        testonly = True,
    )
    if clang:
        bins.append(name + "_clang")

        # A genrule, not a cc_binary: Bazel 4 gives a build one C toolchain (gcc, or clang under
        # --config=clang), and this binary is built with clang beside the gcc one in the same
        # build. So it calls clang itself, with the gcc binary's flags, on the same sources
        # (the headers are listed for the sandbox; only the .c files are compiled).
        native.genrule(
            name = name + "_clang_build",
            srcs = srcs + _RACE_SRCS,
            outs = [name + "_clang"],
            cmd = ("clang -std=gnu11 -Wall -Werror -iquote . -fdebug-prefix-map=$$PWD/= " +
                   " ".join(RACE_COPTS) + " " + select(_SANITIZER_FLAG) +
                   " $$(for f in $(SRCS); do case $$f in *.c) echo $$f;; esac; done)" +
                   " -o $@ -pthread -ldl"),
            testonly = True,
        )
    # A pattern with an asymmetric fence runs twice: with membarrier (where the kernel offers
    # it), and with full fences on both sides; the driver checks that each run is that mode.
    modes = [(name, {}, [])]
    if no_membarrier:
        modes = [
            (name, {}, ["--fences", "membarrier"]),
            (name + "_no_membarrier", {no_membarrier: "1"}, ["--fences", "full"]),
        ]
    for test_name, env, fences in modes:
        native.cc_test(
            name = test_name,
            deps = ["//tests:race_test_main"],
            args = ["--rounds", str(rounds)] + fences + _SANITIZER_NAME +
                   ["$(rootpath :%s)" % b for b in bins],
            data = [":" + b for b in bins],
            env = env,
            size = size,
            # The race binaries are ThreadSanitizer builds in every configuration but asan, so
            # --config=tsan would only run again what the plain run has run: it skips "race".
            tags = ["race"],
        )

def teardown_unit_test(name, srcs, deps = [], size = "small", env = {}):
    """Criterion tests. Tagged so that --config=tsan skips them: Criterion cannot start under TSan.

    env: environment for the test, e.g. a pattern's *_NO_MEMBARRIER=1 for a second run of the
    same tests in the fallback mode.
    """
    native.cc_test(
        name = name,
        srcs = srcs,
        env = env,
        deps = deps + [
            "//third_party:criterion",
            "//tests:criterion_main",
            "//tests:misuse",
            "//tests:thread_state",
        ],
        linkopts = ["-pthread"],
        # no-sandbox: Criterion's socket path holds the PID (see .bazelrc).
        tags = ["criterion", "no-sandbox"],
        size = size,
    )

def teardown_bench_library(name, srcs, deps = []):
    """A pattern's benchmarks, registered at start-up (hence alwayslink), and a binary of them."""
    native.cc_library(
        name = name,
        srcs = srcs,
        copts = BENCH_COPTS,
        deps = deps + ["//bench"],
        alwayslink = True,
        tags = ["benchmark"],
    )
    native.cc_binary(
        name = name + "_bin",
        deps = [":" + name, "//bench:baseline", "//bench:main"],
        tags = ["benchmark"],
    )

def teardown_sh_test(name, runs, size = "small"):
    """The shell test name + ".sh", given as arguments the paths of runs (labels), in that order."""
    native.sh_test(
        name = name,
        size = size,
        srcs = [name + ".sh"],
        args = ["$(rootpath %s)" % program for program in runs],
        data = runs,
    )
