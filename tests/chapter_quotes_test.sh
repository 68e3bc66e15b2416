#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fails when a chapter's quoted excerpt no longer matches the source it quotes.
set -eu
exec python3 tools/quotes.py chapters/*.md
