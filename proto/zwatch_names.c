/*  zwatch_names: event names, kind and reason names, host/service names.  */

#include <string.h>
#include <unistd.h>
#include "zwatch_proto.h"
#include "zwatch_charset.h"

//  libzmq 4.3 monitor events: bit n of the code is entry n
static const char *s_event_names [] = {
    "CONNECTED", "CONNECT_DELAYED", "CONNECT_RETRIED", "LISTENING",
    "BIND_FAILED", "ACCEPTED", "ACCEPT_FAILED", "CLOSED", "CLOSE_FAILED",
    "DISCONNECTED", "MONITOR_STOPPED", "HANDSHAKE_FAILED_NO_DETAIL",
    "HANDSHAKE_SUCCEEDED", "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_AUTH"
};
#define EVENT_NAMES (sizeof (s_event_names) / sizeof (s_event_names [0]))

static const char *s_reason_names [ZWATCH_REJECT_COUNT] = {
    "ok", "too_large", "malformed", "not_map", "trailing_bytes",
    "too_many_keys", "bad_key", "duplicate_key", "too_deep", "missing_key",
    "bad_type", "bad_version", "bad_kind", "bad_host", "bad_service",
    "bad_string", "bad_event", "bad_value", "multipart"
};

static const char *s_kind_names [] = {
    NULL, "hello", "event", "heartbeat", "bye", "state", "state_end"
};

const char *
zwatch_event_name (uint32_t code)
{
    //  Exactly one bit set, within the table
    if (code == 0 || (code & (code - 1)) != 0)
        return "UNKNOWN";
    unsigned bit = (unsigned) __builtin_ctz (code);
    return bit < EVENT_NAMES? s_event_names [bit]: "UNKNOWN";
}

uint32_t
zwatch_event_code (const char *name, size_t len)
{
    for (unsigned bit = 0; bit < EVENT_NAMES; bit++)
        if (strlen (s_event_names [bit]) == len && memcmp (s_event_names [bit], name, len) == 0)
            return 1u << bit;
    return 0;
}

bool
zwatch_event_is_fact (uint32_t code)
{
    //  LISTENING, CONNECTED, ACCEPTED, CONNECT_RETRIED, BIND_FAILED
    return code == 8 || code == 1 || code == 32 || code == 4 || code == 16;
}

const char *
zwatch_reason_name (zwatch_reason_t reason)
{
    if ((int) reason < 0 || reason >= ZWATCH_REJECT_COUNT)
        return "unknown";
    return s_reason_names [reason];
}

const char *
zwatch_kind_name (zwatch_kind_t kind)
{
    if ((int) kind < ZWATCH_KIND_HELLO || kind > ZWATCH_KIND_STATE_END)
        return NULL;
    return s_kind_names [kind];
}

bool
zwatch_name_valid (const char *s, size_t len, size_t max)
{
    return s && len > 0 && len <= max && zwatch_charset_all (s, len, ZWATCH_CHAR_NAME);
}

size_t
zwatch_name_sanitize (char *dst, size_t size, const char *src)
{
    if (size == 0)
        return 0;
    size_t len = 0;
    for (; src && src [len] && len + 1 < size && len < ZWATCH_HOST_MAX; len++)
        dst [len] = (zwatch_charset [(uint8_t) src [len]] & ZWATCH_CHAR_NAME)? src [len]: '-';
    if (len == 0) {
        const char *fallback = "unknown";
        len = strlen (fallback) < size - 1? strlen (fallback): size - 1;
        memcpy (dst, fallback, len);
    }
    dst [len] = 0;
    return len;
}

size_t
zwatch_name_hostname (char *dst, size_t size)
{
    char hostname [256] = "";
    if (gethostname (hostname, sizeof (hostname) - 1) != 0)
        hostname [0] = 0;
    hostname [sizeof (hostname) - 1] = 0;
    return zwatch_name_sanitize (dst, size, hostname);
}
