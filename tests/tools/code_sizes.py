#!/usr/bin/python3
"""Files over 500 lines and functions over 80 lines in the given source folders, measured with
universal-ctags (each function definition's first and last line). The limits are the project's
style: a file of one job, a function that fits on a screen or two.

Usage: code_sizes.py [--check] [--max-file N] [--max-function N] DIR...
Prints every file and function over its limit, largest first; with --check, exits 1 if any.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

SOURCES = (".cpp", ".h")


def functions(path):
    out = subprocess.run(["ctags", "--output-format=json", "--fields=+ne", "--kinds-C++=f", "-f", "-",
                          "--language-force=C++", str(path)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        tag = json.loads(line)
        if "end" in tag:
            yield tag["name"], tag["line"], tag["end"] - tag["line"] + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-file", type=int, default=500)
    ap.add_argument("--max-function", type=int, default=80)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    files = sorted(p for d in args.dirs for p in Path(d).rglob("*") if p.suffix in SOURCES)
    big_files, big_functions = [], []
    for f in files:
        lines = len(f.read_text(errors="replace").splitlines())
        if lines > args.max_file:
            big_files.append((lines, str(f)))
        for name, first, length in functions(f):
            if length > args.max_function:
                big_functions.append((length, f"{f}:{first}", name))
    print(f"{len(files)} files; over {args.max_file} lines: {len(big_files)}; "
          f"functions over {args.max_function} lines: {len(big_functions)}")
    for lines, f in sorted(big_files, reverse=True):
        print(f"  file {lines:5d} lines  {f}")
    for length, where, name in sorted(big_functions, reverse=True):
        print(f"  function {length:4d} lines  {where}  {name}")
    return 1 if args.check and (big_files or big_functions) else 0


if __name__ == "__main__":
    sys.exit(main())
