#!/usr/bin/env python3
"""Every command's --help and its man page list the same flags.

usage: check_man_flags.py BIN_DIR MAN_DIR

Every zwatch-* program in BIN_DIR (the commands) needs a man page
MAN_DIR/<command>.<1|8>.scd; the flags its --help lists on option lines
(lines that start with blanks and a dash) and those the page's OPTIONS
section lists (lines that start with *-) must be the same set.
"""
import glob
import os
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit(f"FAIL: {binary} --help: exit {out.returncode}")
    flags = set()
    for line in (out.stdout + out.stderr).splitlines():
        #  An option line: indented, starts with the flag(s), then a
        #  metavariable and the text: "  -v, --verbose   log ..."
        match = re.match(r"^\s+((?:--?[A-Za-z][\w-]*(?:,\s*)?)+)", line)
        if match:
            flags.update(FLAG.findall(match.group(1)))
    return flags


def man_flags(page):
    flags = set()
    in_options = False
    for line in open(page, encoding="utf-8"):
        if line.startswith("# "):
            in_options = line.strip() == "# OPTIONS"
        elif in_options and line.startswith("*-"):
            #  "*-v*, *--verbose*" or "*--ingest* _EP_": the flags are bold
            flags.update(FLAG.findall(" ".join(re.findall(r"\*([^*]+)\*", line))))
    return flags


def main():
    bin_dir, man_dir = sys.argv[1], sys.argv[2]
    commands = sorted(os.path.basename(p) for p in glob.glob(os.path.join(bin_dir, "zwatch-*"))
                      if os.access(p, os.X_OK))
    if not commands:
        raise SystemExit(f"FAIL: no zwatch-* commands in {bin_dir}")
    failed = False
    for command in commands:
        pages = glob.glob(os.path.join(man_dir, f"{command}.[18].scd"))
        if len(pages) != 1:
            print(f"FAIL: {command} has no man page {man_dir}/{command}.1.scd (or .8.scd)")
            failed = True
            continue
        before = failed
        in_help = help_flags(os.path.join(bin_dir, command))
        in_man = man_flags(pages[0])
        if not in_help:
            print(f"FAIL: {command} --help lists no flags")
            failed = True
        for flag in sorted(in_help - in_man):
            print(f"FAIL: {command}: {flag} is in --help, not in {os.path.basename(pages[0])}")
            failed = True
        for flag in sorted(in_man - in_help):
            print(f"FAIL: {command}: {flag} is in {os.path.basename(pages[0])}, not in --help")
            failed = True
        if failed == before:
            print(f"ok: {command}: {len(in_help)} flags in --help and its man page")
    sys.exit(1 if failed else 0)


main()
