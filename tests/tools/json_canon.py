"""json_canon.py FILE: each line of FILE as one strict JSON object (no
NaN, no duplicate keys), printed as "key=value" pairs in sorted key order
separated by tabs (nested values as compact sorted JSON), so a C test can
compare every key and value exactly. Exit 1 at the first bad line."""
import json
import sys


def no_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def no_constant(name):
    raise ValueError("not JSON: " + name)


def render(value):
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


with open(sys.argv[1], encoding="ascii") as stream:
    for number, line in enumerate(stream, 1):
        try:
            value = json.loads(line, object_pairs_hook=no_duplicates,
                               parse_constant=no_constant)
        except ValueError as error:
            sys.stderr.write("json_canon: line %d: %s\n" % (number, error))
            sys.exit(1)
        if not isinstance(value, dict):
            sys.stderr.write("json_canon: line %d: not an object\n" % number)
            sys.exit(1)
        print("\t".join("%s=%s" % (key, render(value[key])) for key in sorted(value)))
