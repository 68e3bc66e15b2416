#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
echo "coverage is not available in this offline build" >&2
exit 1
