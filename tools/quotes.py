#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Chapters quote the real code through markers, never through copies that can drift.

In a source file, an excerpt sits between two marker lines (not part of the excerpt):
    /* quote: NAME */          (or // quote: NAME, or # quote: NAME)
    ...
    /* end quote: NAME */
In a chapter, a marker comment names the file and the excerpt, and a fenced block follows:
    <!-- quote: patterns/global_flag/global_flag.h enter -->
    ```c
    ...
    ```
`quotes.py CHAPTER...` checks that every block equals its excerpt (exit 1 if not);
`quotes.py --update CHAPTER...` rewrites the blocks from the source.
"""
import argparse
import os
import re
import sys

QUOTE = re.compile(r"^<!-- quote: (\S+) (\S+) -->\s*$")
FENCE = re.compile(r"^```")


def excerpt(root, path, name):
    full = os.path.join(root, path)
    try:
        with open(full, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}")
    marker = r"^\s*(?:/\*|//|#)\s*%squote:\s*%s\s*(?:\*/)?\s*$"
    begin = re.compile(marker % ("", re.escape(name)))
    end = re.compile(marker % ("end ", re.escape(name)))
    starts = [i for i, line in enumerate(lines) if begin.match(line)]
    if len(starts) != 1:
        raise ValueError(f"{path}: {len(starts)} '/* quote: {name} */' markers (want 1)")
    for j in range(starts[0] + 1, len(lines)):
        if end.match(lines[j]):
            return lines[starts[0] + 1:j]
    raise ValueError(f"{path}: no '/* end quote: {name} */' after line {starts[0] + 1}")


def process(root, chapter, update):
    with open(chapter, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, problems, i = [], [], 0
    while i < len(lines):
        out.append(lines[i])
        m = QUOTE.match(lines[i])
        i += 1
        if not m:
            continue
        where = f"{chapter}:{i}"
        if i >= len(lines) or not FENCE.match(lines[i]):
            problems.append(f"{where}: a fenced code block must follow the quote marker")
            continue
        close = next((k for k in range(i + 1, len(lines)) if FENCE.match(lines[k])), None)
        if close is None:
            problems.append(f"{where}: unterminated code block")
            continue
        block = lines[i + 1:close]
        try:
            want = excerpt(root, m.group(1), m.group(2))
        except ValueError as e:
            problems.append(f"{where}: {e}")
            want = block
        if block != want and not update:
            problems.append(f"{where}: the quote of {m.group(1)} '{m.group(2)}' no longer "
                            f"matches the source; run tools/quotes.py --update {chapter}")
        out.append(lines[i])
        out.extend(want)
        out.append(lines[close])
        i = close + 1
    if update:
        with open(chapter, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the quoted blocks")
    ap.add_argument("--root", default=".", help="the workspace root (default: .)")
    ap.add_argument("chapters", nargs="+")
    args = ap.parse_args()
    problems, quotes = [], 0
    for chapter in args.chapters:
        with open(chapter, encoding="utf-8") as f:
            quotes += sum(1 for line in f if QUOTE.match(line))
        problems += process(args.root, chapter, args.update)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{quotes} quotes in {len(args.chapters)} chapters, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
