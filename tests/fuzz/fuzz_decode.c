/*  fuzz_decode: libFuzzer target for the strict decoder.

    Whatever the bytes, decode must not crash or read out of bounds; its
    fast path and its general path must give the same answer (reason, key,
    every field); and an accepted message must re-encode and decode to the
    same fields and topic. The input is also read as a batch (maps back to
    back): each map decode_next finds must give what decoding it alone
    gives, offsets only move forward and end at the frame's end.
*/

#include <assert.h>
#include <string.h>
#include "zwatch.h"
#include "zwatch_msg_decode_internal.h"

static int
s_same (zwatch_str_t a, zwatch_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

//  Same string view: same place in the input (or both absent)
static int
s_same_view (zwatch_str_t a, zwatch_str_t b)
{
    return a.ptr == b.ptr && a.len == b.len;
}

//  Every field the decoder fills, compared between two decodes of one input
static void
s_assert_same_decode (const zwatch_msg_t *a, const zwatch_msg_t *b)
{
    assert (a->kind == b->kind && a->pid == b->pid && a->ts == b->ts && a->seq == b->seq);
    assert (s_same_view (a->host, b->host) && s_same_view (a->svc, b->svc));
    assert (s_same_view (a->sock, b->sock) && s_same_view (a->stype, b->stype));
    assert (s_same_view (a->event, b->event) && s_same_view (a->endpoint, b->endpoint));
    assert (s_same_view (a->peer, b->peer) && s_same_view (a->local, b->local));
    assert (a->peer_pid == b->peer_pid && a->count == b->count && a->since == b->since);
    assert (a->code == b->code && a->value == b->value && a->start == b->start);
    assert (a->read == b->read && a->sent == b->sent);
    assert (a->dropped == b->dropped && a->watched == b->watched);
}

//  The whole input as a batch
static void
s_check_batch (const uint8_t *data, size_t size)
{
    size_t offset = 0;
    do {
        zwatch_msg_t msg, alone;
        const char *detail, *alone_detail;
        size_t start = offset;
        bool rest_lost;
        zwatch_reason_t reason = zwatch_msg_decode_next (&msg, data, size, &offset,
                                                         &rest_lost, &detail);
        assert (zwatch_reason_name (reason) != NULL && detail != NULL);
        assert (offset > start || (size == 0 && rest_lost));
        assert (offset <= size);
        assert (reason != ZWATCH_REJECT_TRAILING);
        if (rest_lost) {
            assert (offset == size && reason != ZWATCH_OK);
            break;
        }
        //  The same map on its own: same answer, same fields
        zwatch_reason_t alone_reason = zwatch_msg_decode (&alone, data + start, offset - start,
                                                          &alone_detail);
        assert (alone_reason == reason && strcmp (alone_detail, detail) == 0);
        if (reason == ZWATCH_OK)
            s_assert_same_decode (&msg, &alone);
    } while (offset < size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check_batch (data, size);
    zwatch_msg_t msg;
    const char *detail;
    zwatch_reason_t reason = zwatch_msg_decode (&msg, data, size, &detail);
    assert (zwatch_reason_name (reason) != NULL && detail != NULL);

    zwatch_msg_t general;
    const char *general_detail;
    assert (zwatch_msg_decode_general (&general, data, size, &general_detail) == reason);
    assert (strcmp (general_detail, detail) == 0);
    if (reason != ZWATCH_OK)
        return 0;
    s_assert_same_decode (&msg, &general);

    //  Accepted: it must survive a round trip through our encoder
    static char buffer [ZWATCH_MSG_MAX];
    int encoded = zwatch_msg_encode (&msg, buffer, sizeof (buffer));
    assert (encoded > 0);
    zwatch_msg_t again;
    assert (zwatch_msg_decode (&again, buffer, (size_t) encoded, NULL) == ZWATCH_OK);
    assert (again.kind == msg.kind && again.pid == msg.pid && again.seq == msg.seq);
    assert (s_same (again.host, msg.host) && s_same (again.svc, msg.svc));
    if (msg.kind == ZWATCH_KIND_STATE_END)
        assert (again.count == msg.count && again.ts == msg.ts);
    if (msg.kind == ZWATCH_KIND_STATE)
        assert (zwatch_event_is_fact (msg.code));
    if (msg.kind == ZWATCH_KIND_EVENT || msg.kind == ZWATCH_KIND_STATE) {
        assert (again.code == msg.code && again.value == msg.value);
        assert (s_same (again.event, msg.event) && s_same (again.endpoint, msg.endpoint));
        assert (s_same (again.peer, msg.peer) && (again.peer.ptr == NULL) == (msg.peer.ptr == NULL));
        assert (s_same (again.local, msg.local) && (again.local.ptr == NULL) == (msg.local.ptr == NULL));
        assert (again.peer_pid == msg.peer_pid);
    }
    if (msg.kind == ZWATCH_KIND_EVENT) {
        assert (msg.count >= 1 && again.count == msg.count);
        assert (msg.count < 2 || again.since == msg.since);
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
