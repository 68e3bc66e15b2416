#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The torture run at its quick size: every fix, every mode and mix; fails on any failure.
exec "$1" --quick
