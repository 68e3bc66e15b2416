#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bazel run //bench/plots [-- --json FILE ... | --benchmark_FLAG=VALUE ...]: the benchmark runs
# drawn as SVG figures into chapters/figures/ (plots.py says how). bazel run starts this in the
# runfiles tree, where plots.py and the benchmark binaries it is given are.
exec python3 bench/plots/plots.py "$@"
