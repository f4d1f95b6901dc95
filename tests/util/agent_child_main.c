/*  agent_child: the service agent_child_start runs (see agent_child.h).

    agent_child INGEST HOST SVC TYPE LABEL ENDPOINT OPEN, commands on
    stdin. A program of its own, not a fork of the test: a fork of a
    process with threads (the test's libzmq I/O threads) may inherit a
    lock one of them held, and the child's first malloc waits forever
    (seen under ASan: its allocator's mutex).  */

#include <stdlib.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"

int
main (int argc, char *argv [])
{
    if (argc != 8)
        return 64;
    const char *ingest = argv [1], *label = argv [5], *endpoint = argv [6];
    int type = atoi (argv [4]);
    bool open = atoi (argv [7]) != 0;
    setenv ("ZWATCH_HOST_ID", argv [2], 1);
    setenv ("ZWATCH_SERVICE", argv [3], 1);
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, ingest);
    void *socket = zmq_socket (ctx, type);
    if (!agent || !socket || zwatch_agent_watch (agent, socket, label) != 0)
        return 2;
    char command = open? 'o': 0;
    do {
        if (command == 'o' && socket) {
            int rc = type == ZMQ_ROUTER? zmq_bind (socket, endpoint)
                                       : zmq_connect (socket, endpoint);
            if (rc != 0)
                return 3;
        }
        if (command == 'c' && socket) {
            zmq_close (socket);
            socket = NULL;
        }
    } while (read (STDIN_FILENO, &command, 1) == 1 && command != 'q');
    if (socket)
        zmq_close (socket);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    return 0;
}
