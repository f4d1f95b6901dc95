/*  test_security: what the security test cases share.  */
#ifndef TEST_SECURITY_H_INCLUDED
#define TEST_SECURITY_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "broker_proc.h"
#include "sec_feed.h"

#define WAIT_MS         10000           //  bound on waits; only reached when broken
#define BROKER_HOST     "broker-host"   //  host ID of the broker's own agent
#define SELF_EVENTS     "ev/" BROKER_HOST "/zwatch-broker/"
#define AUTH_FAILED     SELF_EVENTS "HANDSHAKE_FAILED_AUTH"
#define SVC             "svc-sec"

//  A CURVE broker with its certificates, and a subscriber it allows
typedef struct {
    char *dir;                  //  temporary; holds every certificate
    char *broker_key;           //  the broker's public key
    char *agents;               //  --agents-allow: "agent" (host web-01), "free" (no host)
    char *subscribers;          //  --subscribers-allow: "reader"
    broker_proc_t *broker;
    sec_feed_t *feed;           //  "reader", subscribed to everything
    const char *const *agent_env;   //  more "NAME=value" for ts_agent, or NULL
} setup_t;

//  The cases, one ctest test each (tests/security/CMakeLists.txt)
void test_allowed (void);
void test_unknown_agent (void);
void test_subscribers (void);
void test_host_mismatch (void);
void test_reload (void);
void test_sighup (void);
void test_setter (void);
void test_wire (void);
void test_ip_lists (void);
void test_late_monitor (void);
void test_bad_keys (void);
void test_keygen (void);

//  True if str holds exactly text
bool ts_str_is (zwatch_str_t str, const char *text);

//  "dir/name"; caller frees
char *ts_path (const char *dir, const char *name);

//  Exit code of pid within WAIT_MS; the test fails if it is still running
int ts_exit (pid_t pid);

//  stderr of a process started with tu_spawn (out_path + ".err"); caller frees
char *ts_errors (const char *out_path);

//  Run a program to its end; returns its exit code, *out and *errors
int ts_run (const char *const argv [], const char *const env [], char **out, char **errors);

//  zwatch-keygen [--host H] dir/name; returns the public key it prints
char *ts_keygen (const char *dir, const char *name, const char *host);

//  Write text to dir/name; returns the path
char *ts_write (const char *dir, const char *name, const char *text);

//  Copy the public certificate dir/name into to_dir
void ts_allow (const char *dir, const char *name, const char *to_dir);

char *ts_temp_dir (void);

void ts_remove_dir (char **dir_p);

//  Certificates, a CURVE broker (plus extra args), a feed that has seen stats
setup_t *ts_setup_new (const char *const extra []);

void ts_setup_destroy (setup_t **setup_p);

//  agent_service MODE ARG as (host, SVC) sending to endpoint, with the
//  certificate dir/cert (NULL: no CURVE); *out_path gets its stdout path
pid_t ts_agent (setup_t *setup, const char *endpoint, const char *host, const char *cert,
      const char *mode, const char *arg, char **out_path);

//  Run the agent to its end; returns its stderr (caller frees)
char *ts_agent_run (setup_t *setup, const char *endpoint, const char *host, const char *cert,
      const char *mode);

//  Start agent_service idle as (host, SVC) and wait until it says on stderr
//  that the broker refused it (so it lived that long, whatever the load).
//  Returns its pid, still running; *out_path as ts_agent
pid_t ts_agent_refused (setup_t *setup, const char *endpoint, const char *host, const char *cert,
      char **out_path);

//  Kill an agent from ts_agent_refused; returns its stderr (caller frees)
char *ts_agent_kill (pid_t pid, char *out_path);

//  Stats until auth_failures equals the HANDSHAKE_FAILED_AUTH events seen
//  (the clients that caused them are gone); returns that count
uint64_t ts_wait_auth_failures_seen (sec_feed_t *feed);

//  The next HANDSHAKE_FAILED_AUTH event: from the broker's own agent, on
//  its socket labelled label, with the ZAP status
void ts_check_auth_event (sec_feed_t *feed, pid_t broker_pid, const char *label);

//  Read stats until the feed has seen topic count times (agent up/gone...)
void ts_wait_seen (sec_feed_t *feed, const char *topic, size_t count);

//  zwatch-sub ARGS with env; *out_path gets its stdout path
pid_t ts_sub_spawn (const char *const args [], const char *const env [], char **out_path);

int ts_port (const char *endpoint);

#endif
