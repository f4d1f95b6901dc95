/*  zwatch_log: the agent's log lines, on stderr.

    The agent lives inside other people's services, so it does not use
    zsys logging: the first zsys call runs zsys_init, which installs
    CZMQ's SIGINT/SIGTERM handlers in the service. Set ZWATCH_QUIET=1 to
    silence warnings.
*/
#ifndef ZWATCH_LOG_H_INCLUDED
#define ZWATCH_LOG_H_INCLUDED

void zwatch_log_warning (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void zwatch_log_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

#endif
