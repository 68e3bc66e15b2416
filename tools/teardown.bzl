# SPDX-License-Identifier: BSD-2-Clause
"""The catalog's build vocabulary: what every pattern directory declares.

  teardown_race_test      the pattern's race lab, built with a sanitizer, and the test driving it
  teardown_unit_test      Criterion tests of the pattern's API contract and misuse
  teardown_bench_library  the pattern's hot-path benchmarks, linked into //bench:compare
"""

# -O1 -g keeps the sanitizer's stack frames readable; TEARDOWN_RACE_HOOKS turns on
# scenario/hooks.h, which the forced schedule needs.
RACE_COPTS = ["-DTEARDOWN_RACE_HOOKS", "-O1", "-g", "-fno-omit-frame-pointer"]

_SANITIZER = select({
    "//tools:asan": ["-fsanitize=address"],
    "//conditions:default": ["-fsanitize=thread"],
})

_CLANG_SANITIZER = select({
    "//tools:asan": "-fsanitize=address",
    "//conditions:default": "-fsanitize=thread",
})

# Every benchmark loop starts on a 32-byte boundary. Without it the baseline's 6-instruction
# loop ran in 0.28 ns in one build and 0.55 ns in the next, depending on whether it happened to
# straddle a fetch boundary: a 2x swing in every ratio that had nothing to do with the patterns.
BENCH_COPTS = ["-falign-loops=32"]

# The harness and the helpers every race binary compiles in.
_RACE_SRCS = ["//scenario:race_srcs", "//patterns/common:srcs"]

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
        copts = RACE_COPTS + _SANITIZER,
        linkopts = _SANITIZER + ["-pthread", "-ldl"],
        testonly = True,
    )
    if clang:
        bins.append(name + "_clang")
        native.genrule(
            name = name + "_clang_build",
            srcs = srcs + _RACE_SRCS,
            outs = [name + "_clang"],
            cmd = ("clang -std=gnu11 -Wall -Werror -iquote . -fdebug-prefix-map=$$PWD/= " +
                   " ".join(RACE_COPTS) + " " + _CLANG_SANITIZER +
                   " $$(for f in $(SRCS); do case $$f in *.c) echo $$f;; esac; done)" +
                   " -o $@ -pthread -ldl"),
            testonly = True,
        )
    modes = [(name, {})]
    if no_membarrier:
        modes.append((name + "_no_membarrier", {no_membarrier: "1"}))
    for test_name, env in modes:
        native.cc_test(
            name = test_name,
            deps = ["//tests:race_test_main"],
            args = ["--rounds", str(rounds)] + ["$(rootpath :%s)" % b for b in bins],
            data = [":" + b for b in bins],
            env = env,
            size = size,
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
    """A pattern's benchmarks, registered at start-up (hence alwayslink), plus a binary of its own."""
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
