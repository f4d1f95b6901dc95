/*  agent_child: a service with a real agent in its own process.  */

#define _GNU_SOURCE             //  pipe2

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "agent_child.h"
#include "testutil.h"

agent_child_t
agent_child_start (const char *ingest, const char *host, const char *svc, int type,
                   const char *label, const char *endpoint, bool open)
{
    //  Close-on-exec: no other child holds our end, so each one sees
    //  end of file when the test goes
    int pipe_fds [2];
    CHECK (pipe2 (pipe_fds, O_CLOEXEC) == 0);
    char *program = tu_bin ("agent_child");
    char type_text [16];
    snprintf (type_text, sizeof (type_text), "%d", type);
    const char *argv [] = { program, ingest, host, svc, type_text, label, endpoint,
                            open? "1": "0", NULL };
    agent_child_t child = { tu_spawn_stdin (argv, NULL, NULL, pipe_fds [0]), pipe_fds [1] };
    close (pipe_fds [0]);
    free (program);
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
    CHECK_INT_EQ (tu_wait (self->pid, 30000), 0);
    close (self->commands);
}
