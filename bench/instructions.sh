#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bazel run //bench:instructions [-- FILTER [OUT_FILE]]: tools/instructions.sh on this build's
# //bench:compare (its first argument, from bench/BUILD).
set -euo pipefail
bin=$(realpath "$1")
shift
exec "${BUILD_WORKSPACE_DIRECTORY:?run me with bazel run}/tools/instructions.sh" "$bin" "$@"
