/*  test_broker: what the broker test cases share.  */
#ifndef TEST_BROKER_H_INCLUDED
#define TEST_BROKER_H_INCLUDED

#include <sys/types.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "fake_agent.h"

//  Bound on every wait for something that should happen; never reached
//  unless something is broken
#define TB_WAIT_MS 10000

//  The cases, one ctest test each (tests/broker/CMakeLists.txt)
void test_e2e (void);
void test_lifecycle (void);
void test_filters (void);
void test_stuck (void);
void test_subscribers (void);
void test_filter_prefix (void);
void test_malformed (void);
void test_batch (void);
void test_batch_e2e (void);
void test_seq_gaps (void);
void test_max_agents (void);
void test_signals (void);
void test_config (void);
void test_logs (void);
void test_sub_cli (void);
void test_sub_bad_input (void);
void test_sub_batches (void);
void test_sub_batch_filters (void);
void test_sub_batch_malformed (void);
void test_sub_batch_pair (void);

//  Start agent_service MODE ARG with the agent sending to ingest as
//  (host, svc), heartbeats every 50 ms; its stdout goes to out_path
pid_t tb_spawn_service (const char *mode, const char *arg, const char *ingest,
                        const char *host, const char *svc, const char *out_path);

//  Start zwatch-sub --connect publish ARGS...; stdout to out_path
pid_t tb_spawn_sub (const char *publish, const char *const args [], const char *out_path);

//  An XPUB of the test's own on a free loopback port, standing in for a
//  broker's publish endpoint (its address into endpoint)
zsock_t *tb_raw_publisher (char *endpoint, size_t size);

//  Exit code of pid within TB_WAIT_MS; the test fails if it is still running
int tb_wait_exit (pid_t pid, const char *what);

//  Wait until the broker counts this many subscriptions (feed gets stats)
void tb_wait_subscribers (feed_t *feed, uint64_t count);

//  Check zwatch-sub --json output at path with json_lines.py against
//  docs/PROTOCOL.md; returns its canonical lines (caller frees)
char *tb_json_lines (const char *path);

//  The canonical line json_lines.py prints for this event
void tb_event_line (const zwatch_msg_t *msg, char *line, size_t size);

//  Split text into lines in place; returns how many (at most max)
int tb_split_lines (char *text, char **lines, int max);

//  Remove out_path and its .err; frees out_path
void tb_remove (char *out_path);

//  Publish [topic][body] on a raw (X)PUB, as a publisher that is not
//  zwatch's might
void tb_publish_raw (zsock_t *publisher, const char *topic, const void *body, size_t size);

//  True if str holds exactly text
bool tb_is (zwatch_str_t str, const char *text);

#endif
