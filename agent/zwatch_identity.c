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
#include <sys/stat.h>
#include <zmq.h>
#include "zwatch_charset.h"
#include "zwatch_proto.h"
#include "zwatch_identity.h"

void
zwatch_identity_host (char *buf, size_t size)
{
    const char *value = getenv ("ZWATCH_HOST_ID");
    if (value && *value)
        zwatch_name_sanitize (buf, size, value);
    else
        zwatch_name_hostname (buf, size);
}

#define CMDLINE_MAX     4096    //  bytes of /proc/self/cmdline we look at

//  True if a program of this name runs scripts: "python3 app.py" is the
//  service app.py, not python3
static bool
s_interpreter (const char *name)
{
    static const char *prefixes [] = {
        "python", "pypy", "perl", "ruby", "php", "lua", "tclsh", "node", "bash", "dash",
        "zsh", "ksh", "sh", "Rscript", "julia", "guile", "escript", "elixir"
    };
    for (size_t index = 0; index < sizeof (prefixes) / sizeof (prefixes [0]); index++) {
        size_t len = strlen (prefixes [index]);
        //  python3, python3.11, perl5.36, lua5.4: a version may follow
        if (strncmp (name, prefixes [index], len) == 0
        &&  strspn (name + len, "0123456789.") == strlen (name + len))
            return true;
    }
    return false;
}

//  The script an interpreter runs: its first argument that is not an
//  option, if that is a regular file ("python3 -u app.py"). None after
//  an option that names no file ("-c code", "-m module"). Returns the
//  script's file name into buf, or false.
static bool
s_script_name (char *buf, size_t size)
{
    char cmdline [CMDLINE_MAX + 1];
    FILE *file = fopen ("/proc/self/cmdline", "re");
    if (!file)
        return false;
    size_t len = fread (cmdline, 1, CMDLINE_MAX, file);
    fclose (file);
    cmdline [len] = 0;
    const char *end = cmdline + len;
    const char *arg = cmdline + strlen (cmdline) + 1;      //  after argv [0]
    for (; arg < end; arg += strlen (arg) + 1) {
        if (strcmp (arg, "-c") == 0 || strcmp (arg, "-m") == 0 || strcmp (arg, "-e") == 0)
            return false;
        if (*arg == '-')
            continue;
        struct stat info;
        if (stat (arg, &info) != 0 || !S_ISREG (info.st_mode))
            return false;
        const char *slash = strrchr (arg, '/');
        return zwatch_name_sanitize (buf, size, slash? slash + 1: arg) > 0;
    }
    return false;
}

void
zwatch_identity_service (char *buf, size_t size)
{
    const char *value = getenv ("ZWATCH_SERVICE");
    if (value && *value)
        zwatch_name_sanitize (buf, size, value);
    else
    if (!s_interpreter (program_invocation_short_name) || !s_script_name (buf, size))
        zwatch_name_sanitize (buf, size, program_invocation_short_name);
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

//  One formatter for both ends of a connection: IPv4 "a.b.c.d:port",
//  IPv6 "[addr]:port", ipc the path ("" when unnamed, as a connecting
//  end's usually is). Returns its length, or -1 if it does not fit
static int
s_format (const struct sockaddr_storage *addr, socklen_t len, char *buf, size_t size)
{
    char host [INET6_ADDRSTRLEN] = "";
    int written = -1;
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) addr;
        inet_ntop (AF_INET, &in->sin_addr, host, sizeof (host));
        written = snprintf (buf, size, "%s:%u", host, ntohs (in->sin_port));
    }
    else
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof (host));
        written = snprintf (buf, size, "[%s]:%u", host, ntohs (in6->sin6_port));
    }
    else
    if (addr->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *) addr;
        size_t path_len = len > offsetof (struct sockaddr_un, sun_path)
                        ? strnlen (un->sun_path, len - offsetof (struct sockaddr_un, sun_path)): 0;
        if (path_len >= size)
            return -1;
        zwatch_charset_clean (buf, un->sun_path, path_len, ZWATCH_CHAR_PRINT);
        buf [path_len] = 0;
        written = (int) path_len;
    }
    if (written < 0 || (size_t) written >= size)
        return -1;
    return written;
}

int
zwatch_identity_peer (int fd, char *buf, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof (addr);
    if (fd < 0 || getpeername (fd, (struct sockaddr *) &addr, &len) != 0)
        return -1;
    return s_format (&addr, len, buf, size);
}

int
zwatch_identity_local (int fd, char *buf, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof (addr);
    if (fd < 0 || getsockname (fd, (struct sockaddr *) &addr, &len) != 0)
        return -1;
    return s_format (&addr, len, buf, size);
}

uint64_t
zwatch_identity_peer_pid (int fd)
{
    struct ucred cred;
    socklen_t len = sizeof (cred);
    if (fd < 0 || getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0
    ||  len != sizeof (cred) || cred.pid <= 0)
        return 0;
    return (uint64_t) cred.pid;
}
