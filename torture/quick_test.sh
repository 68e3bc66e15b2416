#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# One fix at the torture run's quick size: every mode and mix; fails on any failure.
exec "$1" --pattern "$2" --quick
