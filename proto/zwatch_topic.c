/*  zwatch_topic: PUB topics (PROTOCOL.md "Topics").  */

#include <errno.h>
#include <string.h>
#include "zwatch_proto.h"

//  Append parts to buf; all-or-nothing
typedef struct {
    char *buf;
    size_t size;
    size_t len;
    int failed;
} topic_t;

static void
s_append (topic_t *topic, const char *ptr, size_t len)
{
    if (topic->failed || len > topic->size - topic->len) {
        topic->failed = 1;
        return;
    }
    memcpy (topic->buf + topic->len, ptr, len);
    topic->len += len;
}

static int
s_finish (topic_t *topic)
{
    if (topic->failed) {
        errno = EMSGSIZE;
        return -1;
    }
    if (topic->len < topic->size)
        topic->buf [topic->len] = 0;
    return (int) topic->len;
}

int
zwatch_topic_event (char *buf, size_t size, const zwatch_msg_t *msg)
{
    topic_t topic = { buf, size, 0, 0 };
    s_append (&topic, "ev/", 3);
    s_append (&topic, msg->host.ptr, msg->host.len);
    s_append (&topic, "/", 1);
    s_append (&topic, msg->svc.ptr, msg->svc.len);
    s_append (&topic, "/", 1);
    s_append (&topic, msg->event.ptr, msg->event.len);
    return s_finish (&topic);
}

int
zwatch_topic_agent (char *buf, size_t size, zwatch_str_t host, zwatch_str_t svc)
{
    topic_t topic = { buf, size, 0, 0 };
    s_append (&topic, "agent/", 6);
    s_append (&topic, host.ptr, host.len);
    s_append (&topic, "/", 1);
    s_append (&topic, svc.ptr, svc.len);
    return s_finish (&topic);
}

int
zwatch_topic_stats (char *buf, size_t size, const char *broker_id)
{
    topic_t topic = { buf, size, 0, 0 };
    s_append (&topic, "stats/", 6);
    s_append (&topic, broker_id, strlen (broker_id));
    return s_finish (&topic);
}
