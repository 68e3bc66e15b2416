#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Moves the chapters' file:line references after the code has changed.

    tools/shift_refs.py BASE [--write]

Every `path.c:N` / `path.h:N` in chapters/*.md (a sanitizer report's frame, mostly) is mapped
from commit BASE to the work tree through `git diff -U0 BASE -- path`, and printed; --write
rewrites the chapters. A reference whose line itself changed is reported and left alone: check
it by hand (rerun the report). Exits 1 if there is any such reference."""
import re, subprocess, sys, glob, os

base = sys.argv[1]
write = '--write' in sys.argv
ref = re.compile(r'((?:patterns|scenario|tests|tour|bench|tools)/[A-Za-z0-9_/]+\.(?:c|h)):(\d+)')
maps = {}

def mapping(path):
    if path in maps:
        return maps[path]
    out = subprocess.run(['git', 'diff', '-U0', base, '--', path], capture_output=True,
                         text=True).stdout
    hunks = []
    for m in re.finditer(r'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@', out, re.M):
        o, oc, n, nc = int(m[1]), int(m[2] or 1), int(m[3]), int(m[4] or 1)
        hunks.append((o, oc, n, nc))
    maps[path] = hunks
    return hunks

def shift(path, line):
    """The line's number in the work tree, or None if the line itself was changed."""
    new = line
    for o, oc, n, nc in mapping(path):
        if oc and o <= line < o + oc:
            return None
        next_old = o + oc if oc else o + 1	# the first old line after the hunk
        next_new = n + nc if nc else n + 1
        if line >= next_old:
            new = line + next_new - next_old
    return new

problems = 0
for md in sorted(glob.glob('chapters/*.md')):
    text = open(md).read()
    def sub(m):
        global problems
        path, line = m[1], int(m[2])
        if not os.path.exists(path):
            return m[0]
        new = shift(path, line)
        if new is None:
            print(f'{md}: {path}:{line}: that line itself changed; check by hand')
            problems += 1
            return m[0]
        if new != line:
            print(f'{md}: {path}:{line} -> {new}')
        return f'{path}:{new}'
    new_text = ref.sub(sub, text)
    if write and new_text != text:
        open(md, 'w').write(new_text)
sys.exit(1 if problems else 0)
