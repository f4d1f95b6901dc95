/*  agent_child: a service with a real agent in its own process.  */

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"
#include "agent_child.h"
#include "testutil.h"

static void
s_main (const char *ingest, const char *host, const char *svc, int type, const char *label,
        const char *endpoint, bool open, int commands)
{
    setenv ("ZWATCH_HOST_ID", host, 1);
    setenv ("ZWATCH_SERVICE", svc, 1);
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, ingest);
    void *socket = zmq_socket (ctx, type);
    if (!agent || !socket || zwatch_agent_watch (agent, socket, label) != 0)
        _exit (2);
    char command = open? 'o': 0;
    do {
        if (command == 'o' && socket) {
            int rc = type == ZMQ_ROUTER? zmq_bind (socket, endpoint)
                                       : zmq_connect (socket, endpoint);
            if (rc != 0)
                _exit (3);
        }
        if (command == 'c' && socket) {
            zmq_close (socket);
            socket = NULL;
        }
    } while (read (commands, &command, 1) == 1 && command != 'q');
    if (socket)
        zmq_close (socket);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    _exit (0);
}

agent_child_t
agent_child_start (const char *ingest, const char *host, const char *svc, int type,
                   const char *label, const char *endpoint, bool open)
{
    int pipe_fds [2];
    CHECK (pipe (pipe_fds) == 0);
    agent_child_t child = { fork (), pipe_fds [1] };
    CHECK (child.pid >= 0);
    if (child.pid == 0) {
        close (pipe_fds [1]);
        s_main (ingest, host, svc, type, label, endpoint, open, pipe_fds [0]);
    }
    close (pipe_fds [0]);
    return child;
}

void
agent_child_say (agent_child_t *self, char command)
{
    CHECK (write (self->commands, &command, 1) == 1);
}

void
agent_child_end (agent_child_t *self)
{
    agent_child_say (self, 'q');
    int status = 0;
    CHECK (waitpid (self->pid, &status, 0) == self->pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    close (self->commands);
}
