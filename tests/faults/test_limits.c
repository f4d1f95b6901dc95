/*  test_limits: the broker at its resource limits. Usage: test_limits CASE

    size: 4096 bytes is the largest message; up to 65536 bytes (the
    ingest's ZMQ_MAXMSGSIZE) a larger one is counted as too_large; beyond,
    libzmq drops the sender's connection before the broker sees anything,
    the sender reconnects by itself and the broker serves on.
    fds: the broker's descriptor limit is cut to 64 and far more agents
    connect: it says so in its log, does not crash, keeps serving the
    agents it has, and accepts new ones once descriptors are free again.
    (The agent table limit, --max-agents, is checked by broker_max_agents.)  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "feed.h"
#include "hostile.h"

#define WAIT_MS         20000       //  bound on waits; never a speed limit
#define FD_LIMIT        64
#define FD_AGENTS       100         //  far more than FD_LIMIT descriptors allow

//  The next monitor event of the socket events watches: its code
static uint16_t
s_next_event (zsock_t *events)
{
    zsock_set_rcvtimeo (events, WAIT_MS);
    zmsg_t *msg = zmsg_recv (events);
    CHECK (msg && zframe_size (zmsg_first (msg)) == 6);
    uint16_t code;
    memcpy (&code, zframe_data (zmsg_first (msg)), sizeof (code));
    zmsg_destroy (&msg);
    return code;
}

static void
s_size (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));

    //  One agent: 4096 bytes pass; 4097 and 65536 are counted, too large
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "evil", "hostile", 666);
    hostile_t *hostile = hostile_new (1);
    size_t sizes [] = { ZWATCH_MSG_MAX, ZWATCH_MSG_MAX + 1, 65536, 1000 };
    hostile_msg_t msg;
    for (uint64_t seq = 1; seq <= 4; seq++) {
        hostile_event (hostile, seq, sizes [seq - 1], &msg);
        fake_agent_send_raw (agent, msg.data, msg.size);
    }
    CHECK (feed_wait_stats (feed, "msgs_in", 4, WAIT_MS));

    //  Same agent, another link: 65537 bytes make libzmq drop the link;
    //  it comes back by itself and the broker serves on
    zsock_t *link = zsock_new (ZMQ_DEALER);
    zsock_t *events = zsock_new (ZMQ_PAIR);
    CHECK (link && events);
    CHECK (zmq_socket_monitor (zsock_resolve (link), "inproc://flt-limits-link",
                               ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0);
    CHECK (zsock_connect (events, "inproc://flt-limits-link") == 0);
    CHECK (zsock_connect (link, "%s", broker_proc_ingest (broker)) == 0);
    CHECK_INT_EQ (s_next_event (events), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    hostile_event (hostile, 5, 65537, &msg);
    CHECK (zmq_send (zsock_resolve (link), msg.data, msg.size, 0) == (int) msg.size);
    CHECK_INT_EQ (s_next_event (events), ZMQ_EVENT_DISCONNECTED);
    CHECK_INT_EQ (s_next_event (events), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    hostile_event (hostile, 6, 1000, &msg);
    CHECK (zmq_send (zsock_resolve (link), msg.data, msg.size, 0) == (int) msg.size);

    //  Seqs 2 and 3 were refused, 5 went with the link: three lost
    CHECK (feed_wait_stats (feed, "msgs_in", 5, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 2);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), 3);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 3);
    uint64_t seqs [] = { 1, 4, 6 };
    size_t bodies [] = { ZWATCH_MSG_MAX, 1000, 1000 };
    for (int index = 0; index < 3; index++) {
        while (feed_recv (feed, 0) && feed_is (feed, "stats/"))
            ;
        CHECK_STR_EQ (feed_topic (feed), "ev/evil/hostile/ACCEPTED");
        CHECK_INT_EQ (feed_uint (feed, "seq"), seqs [index]);
        CHECK_INT_EQ (feed_body_size (feed), bodies [index]);
    }

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    char *log = broker_proc_log (broker);
    CHECK (tu_count (log, "dropped invalid message: too_large") >= 1);
    free (log);
    zmq_socket_monitor (zsock_resolve (link), NULL, 0);
    zsock_destroy (&events);
    zsock_destroy (&link);
    hostile_destroy (&hostile);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  Agents whose second event arrived, i.e. the broker accepted them
static int
s_served (feed_t *feed, bool *served, uint64_t seq, int expected)
{
    int count = 0;
    long long deadline = tu_now_ms () + WAIT_MS;
    while (count < expected && tu_now_ms () < deadline)
        if (feed_recv (feed, 100) && feed_is (feed, "ev/") && feed_uint (feed, "seq") == seq) {
            int index = (int) feed_uint (feed, "pid") - 1000;
            CHECK (index >= 0 && index < FD_AGENTS && !served [index]);
            served [index] = true;
            count++;
        }
    return count;
}

static void
s_fds (void)
{
    const char *args [] = { "--stats-interval", "0.2", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    pid_t pid = broker_proc_pid (broker);
    struct rlimit limit = { FD_LIMIT, FD_LIMIT };
    CHECK (prlimit (pid, RLIMIT_NOFILE, &limit, NULL) == 0);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));

    //  Far more agents than descriptors
    fake_agent_t *agents [FD_AGENTS];
    size_t size;
    for (int index = 0; index < FD_AGENTS; index++) {
        char svc [16];
        snprintf (svc, sizeof (svc), "a-%d", index);
        agents [index] = fake_agent_new (broker_proc_ingest (broker), "flt-fds", svc,
                                         (uint64_t) (1000 + index));
        fake_agent_send_event (agents [index], 1, "CONNECTED", &size);
    }
    CHECK (broker_proc_wait_log (broker, "out of file descriptors (EMFILE, limit 64)", WAIT_MS));
    long long cpu = tu_proc_cpu_ms (pid);
    zclock_sleep (1000);
    printf ("at the limit: %d descriptors, %lld ms CPU in 1 s (libzmq retries accept)\n",
            tu_proc_fds (pid), tu_proc_cpu_ms (pid) - cpu);

    //  The connected ones are still served, every one of them. What queued
    //  meanwhile is old news (stats from before any agent got in, too): the
    //  count comes from the next stats
    while (feed_recv (feed, 0))
        ;
    CHECK (feed_wait_stats (feed, "v", 1, WAIT_MS));
    int accepted = (int) feed_uint (feed, "agents");
    printf ("%d of %d agents connected\n", accepted, FD_AGENTS);
    CHECK (accepted > 0 && accepted < FD_AGENTS);
    for (int index = 0; index < FD_AGENTS; index++)
        fake_agent_send_event (agents [index], 2, "CONNECTED", &size);
    bool served [FD_AGENTS] = { false };
    CHECK_INT_EQ (s_served (feed, served, 2, accepted), accepted);

    //  Let go of the waiting ones and of ten served ones: descriptors free
    //  up, the backlog drains, the broker calms down and accepts again
    int released = 0;
    for (int index = 0; index < FD_AGENTS; index++)
        if (!served [index] || released++ < 10)
            fake_agent_destroy (&agents [index]);
    CHECK (broker_proc_wait_log (broker, "file descriptors free again", WAIT_MS));
    cpu = tu_proc_cpu_ms (pid);
    zclock_sleep (1000);
    long long idle_cpu = tu_proc_cpu_ms (pid) - cpu;
    printf ("after: %d descriptors, %lld ms CPU in 1 s\n", tu_proc_fds (pid), idle_cpu);
    CHECK (idle_cpu < 500);             //  no busy loop left behind
    fake_agent_t *late = fake_agent_new (broker_proc_ingest (broker), "flt-fds", "late", 1000);
    fake_agent_send_event (late, 3, "CONNECTED", &size);
    memset (served, 0, sizeof (served));
    CHECK_INT_EQ (s_served (feed, served, 3, 1), 1);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    fake_agent_destroy (&late);
    for (int index = 0; index < FD_AGENTS; index++)
        fake_agent_destroy (&agents [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    const char *name = argc > 1? argv [1]: "";
    if (streq (name, "size"))
        s_size ();
    else
    if (streq (name, "fds"))
        s_fds ();
    else {
        fprintf (stderr, "usage: test_limits size|fds\n");
        return 2;
    }
    return 0;
}
