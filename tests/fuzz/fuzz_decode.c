/*  fuzz_decode: libFuzzer target for the strict decoder.

    Whatever the bytes, decode must not crash or read out of bounds, and an
    accepted message must re-encode and decode to the same fields and topic.
*/

#include <assert.h>
#include <string.h>
#include "zwatch.h"

static int
s_same (zwatch_str_t a, zwatch_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zwatch_msg_t msg;
    const char *detail;
    zwatch_reason_t reason = zwatch_msg_decode (&msg, data, size, &detail);
    assert (zwatch_reason_name (reason) != NULL && detail != NULL);
    if (reason != ZWATCH_OK)
        return 0;

    //  Accepted: it must survive a round trip through our encoder
    static char buffer [ZWATCH_MSG_MAX];
    int encoded = zwatch_msg_encode (&msg, buffer, sizeof (buffer));
    assert (encoded > 0);
    zwatch_msg_t again;
    assert (zwatch_msg_decode (&again, buffer, (size_t) encoded, NULL) == ZWATCH_OK);
    assert (again.kind == msg.kind && again.pid == msg.pid && again.seq == msg.seq);
    assert (s_same (again.host, msg.host) && s_same (again.svc, msg.svc));
    if (msg.kind == ZWATCH_KIND_EVENT) {
        assert (again.code == msg.code && again.value == msg.value);
        assert (s_same (again.event, msg.event) && s_same (again.endpoint, msg.endpoint));
        char topic [ZWATCH_TOPIC_MAX];
        int length = zwatch_topic_event (topic, sizeof (topic), &msg);
        assert (length > 0);
        //  No topic forging: exactly two '/' after "ev/"
        int slashes = 0;
        for (int index = 0; index < length; index++)
            slashes += topic [index] == '/';
        assert (slashes == 3);
    }
    return 0;
}
