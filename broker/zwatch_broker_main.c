/*  zwatch-broker: flags and settings, then the broker until SIGINT/SIGTERM.

    Exit codes: 0 after a signal (or --help, --version), 1 on a runtime
    error such as a failed bind, 2 on a usage error (bad flag, bad value,
    bad endpoint, unreadable config file). A usage error is one line on
    stderr starting "zwatch-broker: ", and nothing else is written; once
    the settings are good, everything is a log line on stderr
    (zwatch_log: --log-format text or json), errors too. stdout stays
    empty.
*/

#include "zwatch_broker_config.h"
#include "zwatch_broker.h"
#include "zwatch_hangup.h"
#include "zwatch_log.h"

int
main (int argc, char *argv [])
{
    int exit_code;
    zwatch_broker_config_t *config = zwatch_broker_config_new (argc, argv, &exit_code);
    if (!config)
        return exit_code;

    //  One log format for our lines, the agent's and zsys's (whose own go
    //  to stdout, with a date of their own)
    zwatch_log_start ("zwatch-broker", config->log_format);
    //  CZMQ's own handler sets zsys_interrupted on SIGINT and SIGTERM
    zsys_init ();
    FILE *stream = zwatch_log_zsys_stream ();
    if (stream)
        zsys_set_logstream (stream);
    else
        zsys_set_logstream (stderr);
    //  SIGHUP reloads (zwatch_broker_run) instead of ending the broker
    if (zwatch_hangup_install () != 0)
        zwatch_log_warning ("cannot catch SIGHUP (%s): it ends the broker", strerror (errno));
    zwatch_broker_t *broker = zwatch_broker_new (config);
    exit_code = 0;
    if (!broker) {
        zwatch_log_error ("cannot create sockets: %s", zmq_strerror (zmq_errno ()));
        exit_code = ZWATCH_BROKER_EXIT_RUNTIME;
    }
    else
    if (zwatch_broker_bind (broker) != 0) {
        //  An endpoint libzmq cannot parse is a usage error, like a bad flag
        exit_code = errno == EINVAL? ZWATCH_BROKER_EXIT_USAGE: ZWATCH_BROKER_EXIT_RUNTIME;
        zwatch_log_error ("%s", zwatch_broker_error (broker));
    }
    else
    if (zwatch_broker_run (broker) != 0) {
        zwatch_log_error ("%s", zwatch_broker_error (broker));
        exit_code = ZWATCH_BROKER_EXIT_RUNTIME;
    }
    zwatch_broker_destroy (&broker);
    zwatch_broker_config_destroy (&config);
    return exit_code;
}
