"""pyzmq_service: a Python program on pyzmq (which links the system
libzmq.so.5), with no reference to zwatch, run by test_preload with and
without libzwatch-preload. It prints nothing that differs between runs.
Exit code 77 when pyzmq is missing (the test is then skipped)."""

import sys

try:
    import zmq
    from zmq.utils.monitor import recv_monitor_message
except ImportError:
    sys.exit(77)

EVENT_NAMES = {zmq.EVENT_DISCONNECTED: "DISCONNECTED", zmq.EVENT_MONITOR_STOPPED: "MONITOR_STOPPED"}


def monitor_event(monitor):
    """The next event on monitor (5 s at most), by name"""
    if not monitor.poll(5000):
        return "none"
    return EVENT_NAMES.get(recv_monitor_message(monitor)["event"], "OTHER")


ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
port = rep.bind_to_random_port("tcp://127.0.0.1")
monitor = rep.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_MONITOR_STOPPED)
req = ctx.socket(zmq.REQ)
req.connect("tcp://127.0.0.1:%d" % port)
req.send(b"ping")
print("request", rep.recv().decode())
rep.send(b"pong")
print("reply", req.recv().decode())
req.close(linger=0)
print("monitor:", monitor_event(monitor))
rep.disable_monitor()
print("monitor:", monitor_event(monitor))
monitor.close()
rep.close()
ctx.term()
sys.exit(4)
