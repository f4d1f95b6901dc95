"""Run docs/PROTOCOL.md's batch feed subscriber (section 9) against a real broker.

The code is the document's own block (the ```python block after "a stream reader takes
them one by one:"), with only its endpoint changed. A DEALER here plays an agent: probe
events one at a time until the block prints one (its subscription reached the broker's
PUB), then 20 events in one frame (a batch, PROTOCOL.md 5). The block must print exactly
those 20, in order. Exit 0 on success, 77 without pyzmq or msgpack, 1 with a reason.

usage: batch_feed_doc.py ZWATCH_BROKER PROTOCOL_MD
"""

import os
import selectors
import socket
import subprocess
import sys
import time

try:
    import msgpack
    import zmq
except ImportError:
    sys.exit(77)

WAIT_S = 10
EVENTS = 20
CODES = {"ACCEPTED": 32, "CONNECTED": 1, "DISCONNECTED": 512}


def fail(reason):
    print("batch_feed_doc: " + reason, file=sys.stderr)
    sys.exit(1)


def free_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return "tcp://127.0.0.1:%d" % probe.getsockname()[1]


def doc_block(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    start = next(i for i, line in enumerate(lines) if "a stream reader takes them one by one:" in line)
    begin = lines.index("```python", start) + 1
    return "\n".join(lines[begin:lines.index("```", begin)]) + "\n"


class Lines:
    """The lines a child prints, read from its pipe's descriptor: a buffered
    reader would take several at once and leave select() nothing to see."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.pending = b""
        self.select = selectors.DefaultSelector()
        self.select.register(self.fd, selectors.EVENT_READ)

    def next(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self.select.select(left):
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()


def event(seq, name, sock):
    return msgpack.packb({"v": 1, "kind": "event", "host": "py-host", "pid": 4242, "svc": "py-svc",
                          "sock": sock, "stype": "ROUTER", "event": name, "code": CODES[name],
                          "value": 7, "endpoint": "tcp://127.0.0.1:5555", "ts": time.time_ns(),
                          "seq": seq})


def main():
    broker_bin, protocol_md = sys.argv[1], sys.argv[2]
    ingest, publish, snapshot, batches = (free_endpoint() for _ in range(4))
    broker = subprocess.Popen([broker_bin, "--ingest", ingest, "--publish", publish, "--snapshot",
                               snapshot, "--publish-batches", batches, "--id", "pytest"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    block = doc_block(protocol_md)
    if "tcp://broker.example:5573" not in block:
        fail("the block has no tcp://broker.example:5573 to point at the broker")
    reader = None
    try:
        deadline = time.monotonic() + WAIT_S
        for line in broker.stderr:
            if "publish-batches bound to" in line:
                break
            if time.monotonic() > deadline:
                fail("the broker did not bind --publish-batches")
        reader = subprocess.Popen([sys.executable, "-c", block.replace("tcp://broker.example:5573",
                                                                       batches)],
                                  stdout=subprocess.PIPE)
        lines = Lines(reader.stdout)
        dealer = zmq.Context.instance().socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(ingest)

        seq, printed = 0, []
        while not printed:
            if time.monotonic() > deadline:
                fail("the block printed nothing for %d probe events" % seq)
            seq += 1
            dealer.send(event(seq, "ACCEPTED", "probe"))
            line = lines.next(0.05)
            if line is not None:
                printed.append(line)
        first = seq + 1
        frame = b"".join(event(first + index, ("ACCEPTED", "CONNECTED", "DISCONNECTED")[index % 3],
                               "batch-sock") for index in range(EVENTS))
        dealer.send(frame)
        expected = ["py-host py-svc batch-sock %s %d"
                    % (("ACCEPTED", "CONNECTED", "DISCONNECTED")[index % 3], first + index)
                    for index in range(EVENTS)]
        got = []
        deadline = time.monotonic() + WAIT_S
        while len(got) < EVENTS:
            line = lines.next(deadline - time.monotonic())
            if line is None:
                fail("the block printed %d of the batch's %d events: %r" % (len(got), EVENTS, got))
            if " probe " not in line:
                got.append(line)
        if got != expected:
            fail("the block printed %r, not %r" % (got, expected))
        print("batch_feed_doc: the document's block printed the batch's %d events in order "
              "(after %d probes)" % (EVENTS, seq))
    finally:
        if reader:
            reader.kill()
        broker.kill()
        broker.wait()


if __name__ == "__main__":
    main()
