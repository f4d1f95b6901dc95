//  A service that lets zwatch watch its ROUTER socket (plain libzmq).
//  Build: cc agent_basic.c -o agent_basic $(pkg-config --cflags --libs zwatch)
#include <stdio.h>
#include <zwatch.h>

int main (void)
{
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, NULL);   //  NULL: $ZWATCH_BROKER or tcp://127.0.0.1:5570
    if (!agent) {
        perror ("zwatch_agent_new");
        return 1;
    }
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
    zwatch_agent_watch (agent, server, "api-server");        //  before bind/connect: nothing is missed
    if (zmq_bind (server, "tcp://*:9000") != 0)              //  the broker sees LISTENING or BIND_FAILED
        perror ("zmq_bind");
    //  ... the service's work: every connect, accept and disconnect goes to the broker
    zmq_close (server);                                      //  the agent forgets it by itself
    zwatch_agent_destroy (&agent);                           //  says bye; returns within ~1 s
    zmq_ctx_term (ctx);
    return 0;
}
