//  The same with CZMQ: the context is zsys_init ()'s, the socket zsock_resolve ()'s.
//  Build: cc agent_czmq.c -o agent_czmq $(pkg-config --cflags --libs zwatch libczmq)
#include <czmq.h>
#include <zwatch.h>

int main (void)
{
    zwatch_agent_t *agent = zwatch_agent_new (zsys_init (), NULL);
    if (!agent)
        return 1;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zwatch_agent_watch (agent, zsock_resolve (sock), "worker");
    zsock_connect (sock, "tcp://127.0.0.1:9000");
    //  ... the service's work
    zsock_destroy (&sock);
    zwatch_agent_destroy (&agent);                           //  before zsys_shutdown ends the context
    return 0;
}
