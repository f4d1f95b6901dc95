/*  agent_child: a service with a real agent in a process of its own.

    The program agent_child (agent_child_main.c): its own context and
    agent (host ZWATCH_HOST_ID as given), one watched socket, and a
    command pipe on its stdin: 'o' binds (ROUTER)
    or connects (others) to its endpoint, 'c' closes the socket, 'q'
    quits (the agent says bye). Tests of the fleet state use two of them.
*/
#ifndef AGENT_CHILD_H_INCLUDED
#define AGENT_CHILD_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int commands;               //  our end of its command pipe
} agent_child_t;

//  Start it; open: bind / connect at once (as 'o')
agent_child_t
    agent_child_start (const char *ingest, const char *host, const char *svc, int type,
                       const char *label, const char *endpoint, bool open);

//  Send a command
void
    agent_child_say (agent_child_t *self, char command);

//  'q', then wait (30 s at most) for it to exit 0 (the test fails otherwise)
void
    agent_child_end (agent_child_t *self);

#endif
