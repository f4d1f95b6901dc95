/*  test_soak: many agents and subscribers churning for SECONDS (default
    120). Real services with the agent come and go (half say bye, half are
    killed); hand-made agents come and go (half say bye, half vanish, more
    of them than the agent table holds); subscribers come and go (some read,
    some never do); hostile messages keep arriving. Meanwhile the broker's
    RSS and open descriptors are sampled every second.

    After a warm-up (a third of the run) RSS must not grow by more than
    RSS_SLACK_KB; descriptors stay within the connections open at a time;
    at the end, with everyone gone, the broker is back to the descriptors
    it had with no client, tracks no agent, counted every hostile message,
    and exits cleanly. Under a sanitizer or $ZWATCH_TEST_WRAPPER (valgrind)
    memory is theirs to judge: RSS is printed, not checked.

    Usage: test_soak [SECONDS]  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "faults.h"
#include "feed.h"
#include "hostile.h"
#include "service_proc.h"

#define SERVICES        4           //  real services alive at a time
#define AGENTS          30          //  hand-made agents alive at a time
#define MAX_AGENTS      "32"        //  the broker's table: smaller than all of them
#define SUBSCRIBERS     6
#define TICK_MS         20
#define SERVICE_EVERY   75          //  ticks between service replacements
#define CHURN_EVERY     25          //  ticks between agent and subscriber replacements
#define SAMPLE_MS       1000        //  between samples, by the clock: a tick that
                                    //  waits on a slow start (valgrind) is longer
#define HOSTILE_A_TICK  5
#define SAMPLES_MAX     4096
#define RSS_SLACK_KB    4096        //  growth allowed after the warm-up
#define FD_SLACK        16          //  connections opening or closing at a sample
#define WAIT_MS         30000

typedef struct {
    broker_proc_t *broker;
    pid_t pid;
    uint32_t random;                //  xorshift32
    service_proc_t *services [SERVICES];
    int service_serial;
    fake_agent_t *agents [AGENTS];
    uint64_t seqs [AGENTS];
    uint64_t next_pid;
    zsock_t *subscribers [SUBSCRIBERS];
    bool reads [SUBSCRIBERS];
    fake_agent_t *hostile_link;
    hostile_t *hostile;
    uint64_t hostile_sent;
    uint64_t services_checked;
} soak_t;

static uint32_t
s_random (soak_t *self, uint32_t limit)
{
    self->random ^= self->random << 13;
    self->random ^= self->random >> 17;
    self->random ^= self->random << 5;
    return self->random % limit;
}

static void
s_service_start (soak_t *self, int index)
{
    char svc [32];
    snprintf (svc, sizeof (svc), "svc-%d", self->service_serial++);
    const char *args [] = { "--rate", "200", "--heartbeat", "200", NULL };
    self->services [index] = service_proc_new (broker_proc_ingest (self->broker), "flt-soak",
                                               svc, args);
}

//  Half say bye (and their counters must add up), half are killed
static void
s_service_stop (soak_t *self, int index, bool clean)
{
    if (clean) {
        service_report_t report;
        service_proc_stop (self->services [index], &report);
        CHECK_INT_EQ (report.read, report.sent + report.dropped);
        self->services_checked++;
    }
    service_proc_destroy (&self->services [index]);
}

static void
s_agent_start (soak_t *self, int index)
{
    char svc [32];
    snprintf (svc, sizeof (svc), "fake-%d", index);
    self->agents [index] = fake_agent_new (broker_proc_ingest (self->broker), "flt-soak", svc,
                                           self->next_pid++);
    self->seqs [index] = 0;
    fake_agent_send_state (self->agents [index], ZWATCH_KIND_HELLO, 0);
}

static void
s_agent_stop (soak_t *self, int index, bool bye)
{
    if (bye)
        fake_agent_send_state (self->agents [index], ZWATCH_KIND_BYE, self->seqs [index]);
    fake_agent_destroy (&self->agents [index]);
}

static void
s_subscriber_start (soak_t *self, int index)
{
    static const char *prefixes [] = { "", "ev/", "agent/", "stats/", "ev/flt-soak/svc-" };
    zsock_t *sub = zsock_new (ZMQ_SUB);
    CHECK (sub);
    self->reads [index] = s_random (self, 3) > 0;
    zsock_set_rcvhwm (sub, self->reads [index]? 1000: 100);
    zsock_set_linger (sub, 0);
    zsock_set_subscribe (sub, prefixes [s_random (self, 5)]);
    CHECK (zsock_connect (sub, "%s", broker_proc_publish (self->broker)) == 0);
    self->subscribers [index] = sub;
}

static void
s_subscribers_read (soak_t *self)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    for (int index = 0; index < SUBSCRIBERS; index++)
        while (self->reads [index]
           &&  zmq_msg_recv (&part, zsock_resolve (self->subscribers [index]), ZMQ_DONTWAIT) >= 0)
            ;
    zmq_msg_close (&part);
}

static void
s_tick (soak_t *self, long tick)
{
    size_t size;
    for (int count = 0; count < 3; count++) {
        int index = (int) s_random (self, AGENTS);
        fake_agent_send_event (self->agents [index], ++self->seqs [index], "CONNECTED", &size);
    }
    for (int count = 0; count < HOSTILE_A_TICK; count++) {
        hostile_msg_t msg;
        hostile_next (self->hostile, &msg);
        fake_agent_send_parts (self->hostile_link, msg.data, msg.size, msg.parts);
        self->hostile_sent++;
    }
    s_subscribers_read (self);
    if (tick % CHURN_EVERY == 0) {
        int index = (int) s_random (self, AGENTS);
        s_agent_stop (self, index, s_random (self, 2));
        s_agent_start (self, index);
        index = (int) s_random (self, SUBSCRIBERS);
        zsock_destroy (&self->subscribers [index]);
        s_subscriber_start (self, index);
    }
    if (tick % SERVICE_EVERY == 0) {
        int index = (int) s_random (self, SERVICES);
        s_service_stop (self, index, s_random (self, 2));
        s_service_start (self, index);
    }
}

int
main (int argc, char *argv [])
{
    int seconds = argc > 1? atoi (argv [1]): 120;
    CHECK (seconds >= 5);
    soak_t soak;
    memset (&soak, 0, sizeof (soak));
    soak_t *self = &soak;
    self->random = 2463534242u;
    self->next_pid = 10000;
    //  A history ring that fills within seconds: the default (100000 events,
    //  ~23 MiB) grows for the first minute, which is the ring filling up to
    //  its bound, not the leak this looks for
    const char *args [] = { "--heartbeat-timeout", "1", "--stats-interval", "1",
                            "--max-agents", MAX_AGENTS, "--history", "5000", NULL };
    self->broker = broker_proc_new (args, true);
    self->pid = broker_proc_pid (self->broker);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *stats = feed_new (broker_proc_publish (self->broker), prefixes);
    CHECK (feed_wait_subscribers (stats, 1, WAIT_MS));
    int fds_alone = tu_proc_fds (self->pid);

    self->hostile = hostile_new (7);
    self->hostile_link = fake_agent_new (broker_proc_ingest (self->broker), "evil", "hostile", 666);
    for (int index = 0; index < SERVICES; index++)
        s_service_start (self, index);
    for (int index = 0; index < AGENTS; index++)
        s_agent_start (self, index);
    for (int index = 0; index < SUBSCRIBERS; index++)
        s_subscriber_start (self, index);

    static long rss [SAMPLES_MAX];
    static int fds [SAMPLES_MAX];
    int samples = 0;
    long long start = tu_now_ms ();
    long long end = start + seconds * 1000LL;
    long long next_sample = start + SAMPLE_MS;
    for (long tick = 1; tu_now_ms () < end; tick++) {
        s_tick (self, tick);
        if (tu_now_ms () >= next_sample && samples < SAMPLES_MAX) {
            next_sample = tu_now_ms () + SAMPLE_MS;
            rss [samples] = tu_proc_rss_kb (self->pid);
            fds [samples] = tu_proc_fds (self->pid);
            CHECK (rss [samples] > 0 && fds [samples] > 0);    //  alive
            samples++;
        }
        zclock_sleep (TICK_MS);
    }

    //  Everyone leaves; the killed and the vanished expire
    for (int index = 0; index < SERVICES; index++)
        s_service_stop (self, index, true);
    for (int index = 0; index < AGENTS; index++)
        s_agent_stop (self, index, true);
    for (int index = 0; index < SUBSCRIBERS; index++)
        zsock_destroy (&self->subscribers [index]);
    fake_agent_destroy (&self->hostile_link);

    //  Samples: RSS flat after the warm-up, descriptors within the clients
    int warm = samples / 3;
    CHECK (warm >= 1);
    long rss_warm = 0, rss_max = 0;
    int fds_max = 0;
    for (int index = 0; index < samples; index++) {
        if (index < warm && rss [index] > rss_warm)
            rss_warm = rss [index];
        if (index >= warm && rss [index] > rss_max)
            rss_max = rss [index];
        if (fds [index] > fds_max)
            fds_max = fds [index];
    }
    int clients = SERVICES + AGENTS + SUBSCRIBERS + 1;
    printf ("%d s, %d samples: RSS %ld KiB at warm-up, %ld KiB max after (%+ld); "
            "descriptors %d alone, %d max\n", seconds, samples, rss_warm, rss_max,
            rss_max - rss_warm, fds_alone, fds_max);
    printf ("RSS KiB every 10 s:");
    for (int index = 0; index < samples; index += 10)
        printf (" %ld", rss [index]);
    printf ("\n%llu hostile messages, %llu services stopped cleanly\n",
            (unsigned long long) self->hostile_sent, (unsigned long long) self->services_checked);
    if (faults_rss_checked ())
        CHECK (rss_max - rss_warm <= RSS_SLACK_KB);
    CHECK (fds_max <= fds_alone + clients + FD_SLACK);
    long long deadline = tu_now_ms () + WAIT_MS;
    while (tu_proc_fds (self->pid) != fds_alone && tu_now_ms () < deadline)
        zclock_sleep (100);
    CHECK_INT_EQ (tu_proc_fds (self->pid), fds_alone);

    //  Nothing tracked once the killed and the vanished have expired
    //  (--heartbeat-timeout 1), every hostile message counted
    while (feed_recv (stats, 0))
        ;                               //  the stats that piled up unread
    deadline = tu_now_ms () + WAIT_MS;
    uint64_t agents_left = UINT64_MAX, invalid = 0;
    while ((agents_left != 0 || invalid != self->hostile_sent) && tu_now_ms () < deadline) {
        if (!feed_wait_stats (stats, "v", 1, WAIT_MS))
            break;
        agents_left = feed_uint (stats, "agents");
        invalid = feed_uint (stats, "invalid");
    }
    if (agents_left != 0 || invalid != self->hostile_sent) {
        fprintf (stderr, "after everyone left: %" PRIu64 " agents tracked, %" PRIu64
                 " invalid of %" PRIu64 " hostile\n", agents_left, invalid, self->hostile_sent);
        exit (1);
    }
    CHECK (feed_uint (stats, "agents_refused") > 0);      //  the table was full at times
    CHECK_INT_EQ (broker_proc_stop (self->broker, SIGTERM, WAIT_MS), 0);
    hostile_destroy (&self->hostile);
    feed_destroy (&stats);
    broker_proc_destroy (&self->broker);
    return 0;
}
