/*  czmq_service: a CZMQ program with no reference to zwatch (zsock, zstr,
    an actor), run by test_preload with and without libzwatch-preload.  */

#include <czmq.h>

//  An actor that echoes one string, then stops on $TERM
static void
s_echo (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
    while (true) {
        char *text = zstr_recv (pipe);
        if (!text || streq (text, "$TERM")) {
            zstr_free (&text);
            break;
        }
        zstr_send (pipe, text);
        zstr_free (&text);
    }
}

int
main (void)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (port < 0 || zsock_connect (dealer, "tcp://127.0.0.1:%d", port) != 0)
        return 3;
    zstr_send (dealer, "hello");
    zmsg_t *request = zmsg_recv (router);
    zframe_t *identity = zmsg_pop (request);
    char *text = zmsg_popstr (request);
    printf ("router got %s\n", text);
    zstr_free (&text);
    zmsg_destroy (&request);
    zframe_send (&identity, router, ZFRAME_MORE);
    zstr_send (router, "world");
    text = zstr_recv (dealer);
    printf ("dealer got %s\n", text);
    zstr_free (&text);

    zactor_t *echo = zactor_new (s_echo, NULL);
    zstr_send (echo, "echo");
    text = zstr_recv (echo);
    printf ("actor said %s\n", text);
    zstr_free (&text);
    zactor_destroy (&echo);

    zsock_destroy (&dealer);
    zsock_destroy (&router);
    return 0;
}
