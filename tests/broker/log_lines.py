"""log_lines.py FORMAT FILE [MIN]: every line of FILE is a zwatch-broker log
line in FORMAT (text or json), and there are at least MIN (default 1).

text: "2026-12-02T17:03:11.123+00:00 W zwatch-broker: message", the time in
ISO 8601 with milliseconds and the UTC offset, a level letter of EWNID.
json: one object per line with exactly the keys time (as above), level
(error warning notice info debug), program ("zwatch-broker"), msg (a
non-empty string). Prints the number of lines and levels seen; exit 1 with
the first bad line on stderr.
"""
import datetime
import json
import re
import sys

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
TEXT = re.compile(r"^(" + TIME + r") ([EWNID]) zwatch-broker: (\S.*)$")
LEVELS = {"error", "warning", "notice", "info", "debug"}


def check_time(text):
    # fromisoformat takes exactly this shape (3.7+): a real date and offset
    datetime.datetime.fromisoformat(text)
    if not re.fullmatch(TIME, text):
        raise ValueError("time %r" % text)


def main():
    form, path = sys.argv[1], sys.argv[2]
    least = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    lines = open(path, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    levels = {}
    for number, line in enumerate(lines, 1):
        try:
            if form == "text":
                match = TEXT.match(line)
                if not match:
                    raise ValueError("not TIME L zwatch-broker: MSG")
                check_time(match.group(1))
                level = match.group(2)
            else:
                record = json.loads(line)
                if not isinstance(record, dict) or sorted(record) != ["level", "msg", "program", "time"]:
                    raise ValueError("keys %r" % (sorted(record),))
                check_time(record["time"])
                if record["level"] not in LEVELS or record["program"] != "zwatch-broker" \
                        or not isinstance(record["msg"], str) or not record["msg"]:
                    raise ValueError("values")
                level = record["level"]
        except ValueError as error:
            sys.exit("log_lines: %s line %d: %s: %r" % (path, number, error, line))
        levels[level] = levels.get(level, 0) + 1
    if len(lines) < least:
        sys.exit("log_lines: %s: %d lines, expected at least %d" % (path, len(lines), least))
    print("%d lines %s" % (len(lines), " ".join("%s=%d" % item for item in sorted(levels.items()))))


main()
