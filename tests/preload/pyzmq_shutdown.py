"""pyzmq_shutdown: what an ipykernel kernel does at shutdown, over and
over, on pyzmq (the system libzmq.so.5), with no reference to zwatch; run
by test_preload with and without libzwatch-preload (shutdown_service.c
is the same in C).

    pyzmq_shutdown.py ITERATIONS [signals]

Each iteration: shell, control and stdin ROUTERs, an iopub PUB fed by its
own thread through an inproc PULL, a control thread, a heartbeat thread in
a context of its own (zmq.proxy until ETERM, then it closes its socket),
daemon threads blocked in recv that close on ETERM, one closing as the
context ends; then ipykernel's shutdown order. After the last one the
program exits with sockets open, a daemon thread blocked in recv and
another making and closing sockets. With "signals", a no-op SIGALRM every
200 us interrupts the program's threads; pyzmq retries calls that say EINTR.
Prints "iteration N" after each (the test's hang detector watches them),
then "done". Exit code 77 when pyzmq is missing."""

import signal
import sys
import threading

try:
    import zmq
except ImportError:
    sys.exit(77)

DAEMONS = 3


def bound(ctx, kind):
    """A socket of kind bound to a free loopback port, and its endpoint"""
    socket = ctx.socket(kind)
    socket.linger = 0
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    return socket, "tcp://127.0.0.1:%d" % port


def heartbeat(ctx, ready):
    socket, _ = bound(ctx, zmq.ROUTER)
    ready.wait()
    try:
        zmq.proxy(socket, socket)
    except zmq.ContextTerminated:
        socket.close()


def iopub(kernel, ready):
    kernel["iopub"], _ = bound(kernel["ctx"], zmq.PUB)
    pull = kernel["ctx"].socket(zmq.PULL)
    pull.bind(kernel["pipe"])
    ready.wait()
    while True:
        message = pull.recv()
        if message == b"stop":
            break
        kernel["iopub"].send(message)
    pull.close()


def control(kernel, ready):
    kernel["control"], _ = bound(kernel["ctx"], zmq.ROUTER)
    pipe = kernel["ctx"].socket(zmq.PAIR)
    pipe.bind(kernel["control_pipe"])
    ready.wait()
    poller = zmq.Poller()
    poller.register(kernel["control"], zmq.POLLIN)
    poller.register(pipe, zmq.POLLIN)
    while pipe not in dict(poller.poll()):
        kernel["control"].recv_multipart()
    pipe.close()


def daemon(kernel, index, ready, race):
    dealer = kernel["ctx"].socket(zmq.DEALER)
    dealer.connect(kernel["shell"])
    ready.wait()
    if index == 0:
        race.wait()         # closes as the context ends
        dealer.close()
        return
    try:
        dealer.recv()
    except zmq.ContextTerminated:
        dealer.close()


def kernel_run(iteration):
    ctx, hb_ctx = zmq.Context(), zmq.Context()
    kernel = {"ctx": ctx, "pipe": "inproc://iopub-%d" % iteration,
              "control_pipe": "inproc://control-%d" % iteration}
    shell, kernel["shell"] = bound(ctx, zmq.ROUTER)
    stdin, _ = bound(ctx, zmq.ROUTER)
    client = ctx.socket(zmq.DEALER)
    client.connect(kernel["shell"])
    ready = threading.Barrier(4 + DAEMONS)
    race = threading.Barrier(2)
    threads = [threading.Thread(target=heartbeat, args=(hb_ctx, ready), daemon=True),
               threading.Thread(target=iopub, args=(kernel, ready)),
               threading.Thread(target=control, args=(kernel, ready), daemon=True)]
    daemons = [threading.Thread(target=daemon, args=(kernel, index, ready, race), daemon=True)
               for index in range(DAEMONS)]
    for thread in threads + daemons:
        thread.start()
    ready.wait()

    client.send(b"execute")
    identity, body = shell.recv_multipart()
    shell.send_multipart([identity, b"reply"])
    assert client.recv() == b"reply"

    hb_ctx.term()
    threads[0].join()
    stop = ctx.socket(zmq.PUSH)
    stop.connect(kernel["pipe"])
    stop.send(b"stop")
    threads[1].join()
    kernel["iopub"].close()
    control_stop = ctx.socket(zmq.PAIR)
    control_stop.connect(kernel["control_pipe"])
    control_stop.send(b"")
    threads[2].join()
    control_stop.close()
    kernel["control"].close()
    for socket in (stdin, shell, client, stop):
        socket.close()
    race.wait()
    ctx.term()
    for thread in daemons:
        thread.join()


def churn(ctx):
    while True:
        socket = ctx.socket(zmq.PUSH)
        socket.bind_to_random_port("tcp://127.0.0.1")
        socket.close()


def main():
    iterations = int(sys.argv[1])
    if sys.argv[2:] == ["signals"]:
        signal.signal(signal.SIGALRM, lambda number, frame: None)
        signal.siginterrupt(signal.SIGALRM, True)
        signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    for iteration in range(1, iterations + 1):
        kernel_run(iteration)
        print("iteration", iteration, flush=True)
    # Python's finalization puts SIGALRM's default action back: it would end us
    signal.setitimer(signal.ITIMER_REAL, 0)
    ctx = zmq.Context()
    pull, endpoint = bound(ctx, zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    push.connect(endpoint)
    threading.Thread(target=pull.recv, daemon=True).start()
    threading.Thread(target=churn, args=(ctx,), daemon=True).start()
    print("done", flush=True)


main()
