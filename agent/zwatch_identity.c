/*  zwatch_identity: host ID, service name, socket types, peer addresses.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <zmq.h>
#include "zwatch_proto.h"
#include "zwatch_identity.h"

static void
s_from_env_or (const char *name, const char *fallback, char *buf, size_t size)
{
    const char *value = getenv (name);
    zwatch_name_sanitize (buf, size, value && *value? value: fallback);
}

void
zwatch_identity_host (char *buf, size_t size)
{
    char hostname [256] = "";
    if (gethostname (hostname, sizeof (hostname) - 1) != 0)
        hostname [0] = 0;
    hostname [sizeof (hostname) - 1] = 0;
    s_from_env_or ("ZWATCH_HOST_ID", hostname, buf, size);
}

void
zwatch_identity_service (char *buf, size_t size)
{
    s_from_env_or ("ZWATCH_SERVICE", program_invocation_short_name, buf, size);
}

const char *
zwatch_identity_stype (int type)
{
    static const char *names [] = {
        "PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH",
        "XPUB", "XSUB", "STREAM", "SERVER", "CLIENT", "RADIO", "DISH", "GATHER",
        "SCATTER", "DGRAM", "PEER", "CHANNEL"
    };
    if (type < 0 || (size_t) type >= sizeof (names) / sizeof (names [0]))
        return "UNKNOWN";
    return names [type];
}

int
zwatch_identity_peer (int fd, char *buf, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof (addr);
    if (fd < 0 || getpeername (fd, (struct sockaddr *) &addr, &len) != 0)
        return -1;
    char host [INET6_ADDRSTRLEN] = "";
    int written = -1;
    if (addr.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) &addr;
        inet_ntop (AF_INET, &in->sin_addr, host, sizeof (host));
        written = snprintf (buf, size, "%s:%u", host, ntohs (in->sin_port));
    }
    else
    if (addr.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &addr;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof (host));
        written = snprintf (buf, size, "[%s]:%u", host, ntohs (in6->sin6_port));
    }
    else
    if (addr.ss_family == AF_UNIX) {
        //  A connecting ipc peer is usually unnamed: then there is nothing to say
        struct sockaddr_un *un = (struct sockaddr_un *) &addr;
        size_t path_len = len > offsetof (struct sockaddr_un, sun_path)
                        ? strnlen (un->sun_path, len - offsetof (struct sockaddr_un, sun_path)): 0;
        if (path_len == 0)
            return -1;
        written = snprintf (buf, size, "%.*s", (int) path_len, un->sun_path);
        for (int index = 0; index < written && (size_t) index < size; index++)
            if ((unsigned char) buf [index] < 0x20 || (unsigned char) buf [index] > 0x7e)
                buf [index] = '?';
    }
    if (written < 0 || (size_t) written >= size)
        return -1;
    return written;
}

uint64_t
zwatch_identity_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec;
}
