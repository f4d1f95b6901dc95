"""json_lines.py PROTOCOL.md FILE: check zwatch-sub --json output against
the protocol document and print it canonically.

Every line of FILE must be one strict JSON object (no NaN, no duplicate
keys) with exactly the keys PROTOCOL.md's tables give its kind (event:
sections 2 "Common keys" and "`event`"; agent and stats: section 6), each
of the JSON type for its msgpack type. The document is the contract: a
key the broker adds without documenting it fails here. zwatch-sub's own
readable keys (README, "Running the broker"), "time" beside ts and
"error" beside an errno value, are checked against the keys they explain
and left out of the canonical line. Each object is
printed as one line, "key=value" pairs in sorted key order separated by
tabs (nested objects as compact sorted JSON), for test_broker to compare
with what the broker published. Exit 1 with a message on stderr at the
first bad line.
"""
import datetime
import errno
import json
import re
import sys

# Events whose value is an errno (zwatch-sub names it in "error")
ERRNO_EVENTS = {2, 16, 64, 256, 2048}
# libzmq's own errno values, which Python does not know
ZMQ_ERRNOS = {156384763: "EFSM", 156384764: "ENOCOMPATPROTO",
              156384765: "ETERM", 156384766: "EMTHREAD"}
# Where two names share a number, zwatch-sub gives glibc's (strerrorname_np)
GLIBC_NAMES = {errno.EDEADLK: "EDEADLK", errno.EOPNOTSUPP: "EOPNOTSUPP", 133: "EHWPOISON"}

TYPES = {"uint": "int", "int": "int", "str": "str", "map": "map", "array": "array",
         "array of str": "array"}


def doc_table(doc, heading):
    """Keys of the table under heading: {key: (type, required)}"""
    lines = doc.split("\n")
    if heading not in lines:
        sys.exit("json_lines: no heading %r in the protocol document" % heading)
    rows = []
    for line in lines[lines.index(heading) + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, body = rows[0], rows[2:]          # rows[1] is the |---| line
    keys = {}
    for row in body:
        required = "Req." not in header or row[header.index("Req.")] == "yes"
        for key in re.findall(r"`([a-z_]+)`", row[0]):
            keys[key] = (TYPES[row[1]], required)
    return keys


def doc_kinds(path):
    with open(path, encoding="utf-8") as stream:
        doc = stream.read()
    event = doc_table(doc, "### Common keys (every kind)")
    event.update(doc_table(doc, "### `event`: one socket-monitor event"))
    return {"event": event,
            "agent": doc_table(doc, "### `agent/<host>/<svc>` body"),
            "stats": doc_table(doc, "### `stats/<broker-id>` body")}


def fail(number, text):
    sys.stderr.write("json_lines: line %d: %s\n" % (number, text))
    sys.exit(1)


def no_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def no_constant(name):
    raise ValueError("not JSON: " + name)


def is_type(value, kind):
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def render(value):
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def iso_time(ts):
    seconds, nanos = divmod(ts, 1000000000)
    utc = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % nanos


def check_readable(number, obj):
    """zwatch-sub's "time" and "error": exact, right after their keys; removed"""
    keys = list(obj)
    if "ts" in obj:
        if obj.get("time") != iso_time(obj["ts"]) or keys.index("time") != keys.index("ts") + 1:
            fail(number, "time %r does not follow ts %r" % (obj.get("time"), obj["ts"]))
        del obj["time"]
    name = None
    if obj.get("code") in ERRNO_EVENTS and "value" in obj:
        value = obj["value"]
        name = ZMQ_ERRNOS.get(value) or GLIBC_NAMES.get(value) or errno.errorcode.get(value)
    if obj.get("error") != name:
        fail(number, "error %r, expected %r for value %r" % (obj.get("error"), name,
                                                            obj.get("value")))
    if name:
        if keys.index("error") != keys.index("value") + 1:
            fail(number, "error does not follow value")
        del obj["error"]


def main():
    kinds = doc_kinds(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            try:
                obj = json.loads(line, object_pairs_hook=no_duplicates,
                                 parse_constant=no_constant)
            except ValueError as error:
                fail(number, "not valid JSON (%s): %r" % (error, line))
            if not isinstance(obj, dict) or obj.get("kind") not in kinds:
                fail(number, "not an object of a known kind: %r" % line)
            check_readable(number, obj)
            table = kinds[obj["kind"]]
            required = {key for key, (_, needed) in table.items() if needed}
            keys = set(obj)
            if not required <= keys or not keys <= set(table):
                fail(number, "%s keys %s, the protocol has %s (optional: %s)"
                     % (obj["kind"], sorted(keys), sorted(required),
                        sorted(set(table) - required)))
            for key, value in obj.items():
                if not is_type(value, table[key][0]):
                    fail(number, "key %s has the wrong type: %r" % (key, value))
            print("\t".join("%s=%s" % (key, render(obj[key])) for key in sorted(obj)))


main()
