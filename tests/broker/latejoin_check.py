"""latejoin_check.py PROTOCOL.md PUBLISH SNAPSHOT: run the late joiner of
the protocol document against a live broker and check it by the merge rule.

The code is the document's own block (the first ```python block under
"### A late joiner (Python)"), read and run here, not a copy. It joins and
prints "joined ...", then applies the live feed until SIGUSR1: the
driver's sign that the fleet is quiet. Then it takes two snapshots of its
own in a row with the same per-agent seqs and lseq (the fleet did not
move between them: the second is the state at one moment), applies the
feed until it holds exactly those seqs and that lseq, and compares its
state with that snapshot field by field: agents (start, seq, partial),
sockets (stype, listening, every key of every connection, retrying,
bind_error) and links (both ends, endpoint, since). The seq it applies
per agent must run from the snapshot's seq on by one (by count for a
folded summary). Prints "merged ..."
with figures and exits 0, or says what differs on stderr and exits 1.
Exit 77 without pyzmq or msgpack.
"""
import signal
import sys
import time

try:
    import msgpack
    import zmq
except ImportError as error:
    print("latejoin_check: skipped, %s" % error)
    sys.exit(77)

HEADING = "### A late joiner (Python)"
CATCH_UP_S = 20         # bound on the joiner reaching a snapshot's seqs
ATTEMPTS = 10           # snapshots until two in a row agree (the fleet is quiet)


def doc_module(path):
    """The document's late joiner, run as a module"""
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().split("\n")
    if HEADING not in lines:
        sys.exit("latejoin_check: no heading %r in %s" % (HEADING, path))
    start = lines.index(HEADING)
    begin = lines.index("```python", start) + 1
    end = lines.index("```", begin)
    namespace = {"__name__": "zwatch_latejoin"}
    exec(compile("\n".join(lines[begin:end]), path + " (late joiner)", "exec"), namespace)
    return namespace


def snapshot(context, endpoint):
    """A snapshot's frames, read with a DEALER of our own"""
    dealer = context.socket(zmq.DEALER)
    dealer.connect(endpoint)
    dealer.send(msgpack.packb({"v": 1, "kind": "snapshot"}))
    frames = []
    while not frames or frames[-1]["kind"] not in ("snapshot_end", "error"):
        if not dealer.poll(CATCH_UP_S * 1000):
            sys.exit("latejoin_check: no snapshot_end")
        frames.append(msgpack.unpackb(dealer.recv(), raw=False))
    dealer.close(0)
    if frames[-1]["kind"] != "snapshot_end":
        sys.exit("latejoin_check: snapshot refused: %r" % frames[-1])
    return frames


def ordered(items, key):
    return sorted(items, key=lambda item: item[key])


def canonical_socket(sock, connections, retrying):
    return {"stype": sock["stype"], "listening": sorted(sock["listening"]),
            "connections": ordered(connections, "fd"), "retrying": ordered(retrying, "endpoint"),
            "bind_error": sock.get("bind_error")}


def end_key(end):
    return tuple(end[key] for key in ("host", "svc", "pid", "sock", "addr"))


def from_frames(frames):
    """(agents, sockets, links) of a snapshot, for comparison"""
    agents, sockets, links = {}, {}, {}
    for m in frames:
        key = (m.get("host"), m.get("svc"), m.get("pid"))
        if m["kind"] == "agent":
            agents[key] = (m["start"], m["seq"], m["partial"])
        elif m["kind"] == "socket":
            sockets[key + (m["sock"],)] = canonical_socket(m, m["connections"], m["retrying"])
        elif m["kind"] == "link":
            links[end_key(m["from"]), end_key(m["to"])] = (m["endpoint"], m["since"])
    return agents, sockets, links, frames[-1]["lseq"]


def from_joiner(joiner):
    """The same of the joiner's state"""
    agents, sockets = {}, {}
    for key, agent in joiner.agents.items():
        agents[key] = (agent["start"], agent["seq"], agent["partial"])
        for label, sock in agent["sockets"].items():
            sockets[key + (label,)] = canonical_socket(sock, sock["connections"].values(),
                                                       sock["retrying"].values())
    links = {key: (link["endpoint"], link["since"]) for key, link in joiner.links.items()}
    return agents, sockets, links, joiner.lseq


def differences(mine, theirs):
    """What differs, as lines"""
    lines = []
    for name, a, b in zip(("agent", "socket", "link"), mine[:3], theirs[:3]):
        for key in sorted(set(a) | set(b), key=repr):
            if a.get(key) != b.get(key):
                lines.append("%s %r:\n  joiner   %r\n  snapshot %r" % (name, key, a.get(key),
                                                                      b.get(key)))
    if mine[3] != theirs[3]:
        lines.append("lseq: joiner %d, snapshot %d" % (mine[3], theirs[3]))
    return lines


def main():
    doc, publish, endpoint = sys.argv[1:4]
    module = doc_module(doc)

    class Checked(module["LateJoiner"]):
        """The document's joiner, noting the seq of every event it applies"""
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.base, self.last, self.breaks, self.names = {}, {}, [], {}

        def take(self, m):
            if m["kind"] == "agent":
                self.base[m["host"], m["svc"], m["pid"]] = m["seq"]
            super().take(m)

        def event(self, sockets, m):
            key = (m["host"], m["svc"], m["pid"])
            previous = self.last.get(key, self.base.get(key))
            # seq numbers events: a folded summary carries the last of its count
            if previous is None or m["seq"] != previous + m.get("count", 1):
                self.breaks.append((key, previous, m["seq"]))
            self.last[key] = m["seq"]
            self.names[m["event"]] = self.names.get(m["event"], 0) + 1
            super().event(sockets, m)

    quiet = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: quiet.append(signum))
    context = zmq.Context.instance()
    joiner = Checked(publish, endpoint, context)
    joiner.join()
    print("joined agents=%d skipped=%d applied=%d" % (len(joiner.base), joiner.skipped,
                                                      joiner.applied), flush=True)
    while not quiet:
        joiner.update(100)

    previous, theirs = None, None
    for _ in range(ATTEMPTS):
        theirs = from_frames(snapshot(context, endpoint))
        seqs = ({key: agent[1] for key, agent in theirs[0].items()}, theirs[3])
        if seqs == previous:
            break
        previous, theirs = seqs, None
    if theirs is None:
        sys.exit("latejoin_check: the fleet did not stay still for two snapshots")
    deadline = time.monotonic() + CATCH_UP_S
    while time.monotonic() < deadline:
        mine = from_joiner(joiner)
        if {key: agent[1] for key, agent in mine[0].items()} == seqs[0] and mine[3] == seqs[1]:
            break
        joiner.update(50)
    diffs = differences(from_joiner(joiner), theirs)
    if joiner.breaks:
        diffs.append("applied seqs not by one from the snapshot's (agent, before, seq): %r"
                     % joiner.breaks[:5])
    if set(theirs[0]) - set(joiner.base):
        diffs.append("agents not in the first snapshot: %r" % (set(theirs[0]) - set(joiner.base)))
    if joiner.gaps:
        diffs.append("%d gaps in the feed" % joiner.gaps)
    if diffs:
        print("latejoin_check: the merged state is not the snapshot's:\n" + "\n".join(diffs[:20]),
              file=sys.stderr)
        return 1
    agents, sockets, links, lseq = theirs
    names = joiner.names
    print("merged applied=%d skipped=%d connects=%d disconnects=%d agents=%d sockets=%d "
          "connections=%d listening=%d retrying=%d bind_errors=%d links=%d lseq=%d"
          % (joiner.applied, joiner.skipped, names.get("CONNECTED", 0) + names.get("ACCEPTED", 0),
             names.get("DISCONNECTED", 0) + names.get("CLOSED", 0), len(agents), len(sockets),
             sum(len(s["connections"]) for s in sockets.values()),
             sum(len(s["listening"]) for s in sockets.values()),
             sum(len(s["retrying"]) for s in sockets.values()),
             sum(1 for s in sockets.values() if s["bind_error"]), len(links), lseq), flush=True)
    print("applied by event: " + " ".join("%s=%d" % item for item in sorted(names.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
