/*  test_broker: zwatch-broker and zwatch-sub end to end, as real processes
    on loopback, fed by real agents (agent_service) and by fake_agent.
    Usage: test_broker [CASE]; without a case, runs them all.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "test_broker.h"

pid_t
tb_spawn_service (const char *mode, const char *arg, const char *ingest,
                  const char *host, const char *svc, const char *out_path)
{
    char *broker = NULL, *host_id = NULL, *service = NULL;
    CHECK (asprintf (&broker, "ZWATCH_BROKER=%s", ingest) > 0);
    CHECK (asprintf (&host_id, "ZWATCH_HOST_ID=%s", host) > 0);
    CHECK (asprintf (&service, "ZWATCH_SERVICE=%s", svc) > 0);
    const char *env [] = { broker, host_id, service, "TEST_HEARTBEAT_MS=50", NULL };
    char *bin = tu_bin ("agent_service");
    const char *argv [] = { bin, mode, arg, NULL };
    pid_t pid = tu_spawn (argv, env, out_path);
    free (bin);
    free (broker);
    free (host_id);
    free (service);
    return pid;
}

pid_t
tb_spawn_sub (const char *publish, const char *const args [], const char *out_path)
{
    const char *argv [32];
    size_t count = 0;
    char *bin = tu_bin ("zwatch-sub");
    argv [count++] = bin;
    argv [count++] = "--connect";
    argv [count++] = publish;
    for (size_t index = 0; args [index]; index++) {
        CHECK (count < 31);
        argv [count++] = args [index];
    }
    argv [count] = NULL;
    pid_t pid = tu_spawn (argv, NULL, out_path);
    free (bin);
    return pid;
}

zsock_t *
tb_raw_publisher (char *endpoint, size_t size)
{
    zsock_t *publisher = zsock_new (ZMQ_XPUB);
    CHECK (publisher);
    int port = zsock_bind (publisher, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    snprintf (endpoint, size, "tcp://127.0.0.1:%d", port);
    return publisher;
}

int
tb_wait_exit (pid_t pid, const char *what)
{
    int code = tu_wait (pid, TB_WAIT_MS);
    if (code < 0) {
        tu_kill (pid);
        fprintf (stderr, "%s did not exit within %d ms\n", what, TB_WAIT_MS);
        exit (1);
    }
    return code;
}

void
tb_wait_subscribers (feed_t *feed, uint64_t count)
{
    CHECK (feed_wait_subscribers (feed, count, TB_WAIT_MS));
}

char *
tb_json_lines (const char *path)
{
    const char *argv [] = { PYTHON3, JSON_LINES_PY, PROTOCOL_MD, path, NULL };
    char *out_path = tu_temp_path (".json");
    int code = tb_wait_exit (tu_spawn (argv, NULL, out_path), "json_lines.py");
    char *lines = tu_read_file (out_path);
    char *errors = tu_read_errors (out_path);
    if (code != 0 || !lines) {
        char *input = tu_read_file (path);
        fprintf (stderr, "json_lines.py failed (%d): %s\ninput:\n%s\n", code,
                 errors? errors: "", input? input: "");
        exit (1);
    }
    free (errors);
    tb_remove (out_path);
    return lines;
}

void
tb_event_line (const zwatch_msg_t *msg, char *line, size_t size)
{
    //  The optional keys, in the line's (sorted) key order: local, peer, peer_pid
    char peer [3 * ZWATCH_ENDPOINT_MAX] = "";
    size_t used = 0;
    if (msg->local.ptr)
        used += (size_t) snprintf (peer + used, sizeof (peer) - used, "local=%.*s\t",
                                   (int) msg->local.len, msg->local.ptr);
    if (msg->peer.ptr)
        used += (size_t) snprintf (peer + used, sizeof (peer) - used, "peer=%.*s\t",
                                   (int) msg->peer.len, msg->peer.ptr);
    if (msg->peer_pid)
        snprintf (peer + used, sizeof (peer) - used, "peer_pid=%" PRIu64 "\t", msg->peer_pid);
    int len = snprintf (line, size,
        "code=%u\tendpoint=%.*s\tevent=%.*s\thost=%.*s\tkind=event\t%spid=%" PRIu64
        "\tseq=%" PRIu64 "\tsock=%.*s\tstype=%.*s\tsvc=%.*s\tts=%" PRIu64 "\tv=1\tvalue=%" PRId64,
        msg->code, (int) msg->endpoint.len, msg->endpoint.ptr, (int) msg->event.len,
        msg->event.ptr, (int) msg->host.len, msg->host.ptr, peer, msg->pid, msg->seq,
        (int) msg->sock.len, msg->sock.ptr, (int) msg->stype.len, msg->stype.ptr,
        (int) msg->svc.len, msg->svc.ptr, msg->ts, msg->value);
    CHECK (len > 0 && (size_t) len < size);
}

int
tb_split_lines (char *text, char **lines, int max)
{
    int count = 0;
    char *saved = NULL;
    for (char *line = strtok_r (text, "\n", &saved); line && count < max;
         line = strtok_r (NULL, "\n", &saved))
        lines [count++] = line;
    return count;
}

void
tb_remove (char *out_path)
{
    tu_remove_output (out_path);
    free (out_path);
}

void
tb_publish_raw (zsock_t *publisher, const char *topic, const void *body, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, body, size);
    CHECK (zmsg_send (&msg, publisher) == 0);
}

bool
tb_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_logstream (stderr);
    static const tu_case_t cases [] = {
        { "e2e", test_e2e }, { "lifecycle", test_lifecycle },
        { "malformed", test_malformed }, { "batch", test_batch }, { "batch_e2e", test_batch_e2e }, { "seq_gaps", test_seq_gaps },
        { "filters", test_filters }, { "signals", test_signals },
        { "config", test_config }, { "sub_cli", test_sub_cli },
        { "stuck", test_stuck }, { "max_agents", test_max_agents },
        { "subscribers", test_subscribers }, { "filter_prefix", test_filter_prefix },
        { "sub_bad_input", test_sub_bad_input }, { "logs", test_logs },
        { "sub_batches", test_sub_batches }, { "sub_batch_filters", test_sub_batch_filters },
        { "sub_batch_malformed", test_sub_batch_malformed },
        { "sub_batch_pair", test_sub_batch_pair }
    };
    return tu_run_cases (argc, argv, "test_broker", cases, sizeof (cases) / sizeof (cases [0]));
}
