/*  test_security: bad keys, directories and addresses; zwatch-keygen.  */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "test_security.h"
#include "zwatch_curve.h"

//  zwatch-broker ARGS exits 2 with exactly this one line on stderr
static void
s_broker_refuses (const char *const args [], const char *line)
{
    char *errors = NULL;
    CHECK_INT_EQ (broker_proc_run (args, WAIT_MS, &errors), 2);
    if (strcmp (errors, line) != 0) {
        fprintf (stderr, "expected: %sgot:      %s", line, errors);
        exit (1);
    }
    free (errors);
}

//  A tool (zwatch-sub, agent_service) with args and env exits code with
//  expected on stderr
static void
s_tool_refuses (const char *name, const char *const args [], const char *const env [],
                int code, const char *expected)
{
    const char *argv [16];
    char *bin = tu_bin (name);
    size_t count = 0;
    argv [count++] = bin;
    for (size_t index = 0; args [index]; index++)
        argv [count++] = args [index];
    argv [count] = NULL;
    char *out, *errors;
    CHECK_INT_EQ (ts_run (argv, env, &out, &errors), code);
    if (!strstr (errors, expected)) {
        fprintf (stderr, "%s: expected '%s' in: %s\n", name, expected, errors);
        exit (1);
    }
    free (out);
    free (errors);
    free (bin);
}

//  Bad certificates, directories and addresses: one clear line, exit 2
//  (the agent fails to start rather than send in clear)
void
test_bad_keys (void)
{
    char *dir = ts_temp_dir ();
    char *key = ts_keygen (dir, "good", NULL);
    char *other = ts_keygen (dir, "other", NULL);
    char *good_secret = ts_path (dir, "good_secret");
    char *public = ts_path (dir, "good");
    char *secret_text = tu_read_file (good_secret);
    CHECK (secret_text);
    //  A secret file whose public key is another's
    char *swapped = strdup (secret_text);
    memcpy (strstr (swapped, key), other, 40);
    char *mismatched = ts_write (dir, "mismatched", swapped);
    //  A secret key that is not Z85
    char *damaged_text = strdup (secret_text);
    char *secret_line = strstr (damaged_text, "secret-key = \"");
    CHECK (secret_line);
    memcpy (secret_line + 14, "~~~~~", 5);
    char *damaged = ts_write (dir, "damaged", damaged_text);
    char *garbage = ts_write (dir, "garbage", "this is not a certificate\n");
    char *missing = ts_path (dir, "missing");
    char *line = NULL;

    const char *a1 [] = { "--curve-secret", missing, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: cannot read certificate '%s': "
                     "No such file or directory\n", missing) > 0);
    s_broker_refuses (a1, line);
    free (line);
    const char *a2 [] = { "--curve-secret", public, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", public) > 0);
    s_broker_refuses (a2, line);
    free (line);
    const char *a3 [] = { "--curve-secret", garbage, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", garbage) > 0);
    s_broker_refuses (a3, line);
    free (line);
    const char *a4 [] = { "--curve-secret", mismatched, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s': public-key "
                     "does not belong to secret-key\n", mismatched) > 0);
    s_broker_refuses (a4, line);
    free (line);
    const char *a5 [] = { "--curve-secret", damaged, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s': secret-key is "
                     "not a 40-character Z85 key\n", damaged) > 0);
    s_broker_refuses (a5, line);
    free (line);
    const char *a6 [] = { "--agents-allow", dir, NULL };
    s_broker_refuses (a6, "zwatch-broker: --agents-allow needs --curve-secret (the broker's "
                          "certificate)\n");
    const char *a7 [] = { "--curve-secret", good_secret, "--subscribers-allow", missing, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --subscribers-allow '%s': not a directory\n",
                     missing) > 0);
    s_broker_refuses (a7, line);
    free (line);
    const char *a8 [] = { "--allow-ip", "300.1.2.3", NULL };
    s_broker_refuses (a8, "zwatch-broker: bad address for --allow-ip: '300.1.2.3' (expected an "
                          "IP address, e.g. 10.0.0.7)\n");
    const char *a9 [] = { "--allow-ip", "10.0.0.1", "--deny-ip", "10.0.0.2", NULL };
    s_broker_refuses (a9, "zwatch-broker: --allow-ip and --deny-ip exclude each other (with an "
                          "allow list, every other address is denied)\n");
    //  The same settings from the config file
    char *config_text = NULL;
    CHECK (asprintf (&config_text, "broker\n    curve-secret = \"%s\"\n    deny-ip = ::1\n",
                     garbage) > 0);
    char *config = ts_write (dir, "broker.cfg", config_text);
    const char *a10 [] = { "--config", config, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", garbage) > 0);
    s_broker_refuses (a10, line);
    free (line);

    //  zwatch-sub: usage errors, exit 2
    const char *s1 [] = { "--server-key", "short", NULL };
    s_tool_refuses ("zwatch-sub", s1, NULL, 2,
                    "zwatch-sub: server key 'short' is not a 40-character Z85 public key");
    const char *s2 [] = { "--cert", good_secret, NULL };
    s_tool_refuses ("zwatch-sub", s2, NULL, 2, "zwatch-sub: --cert needs --server-key");
    const char *s3 [] = { "--server-key", key, "--cert", public, NULL };
    CHECK (asprintf (&line, "zwatch-sub: certificate '%s' has no curve secret-key", public) > 0);
    s_tool_refuses ("zwatch-sub", s3, NULL, 2, line);
    free (line);

    //  The agent refuses to start (agent_service exits 5 when
    //  zwatch_agent_new fails) and says why
    char *key_env = NULL, *cert_env = NULL;
    CHECK (asprintf (&key_env, "ZWATCH_CURVE_SERVER_KEY=%s", key) > 0);
    CHECK (asprintf (&cert_env, "ZWATCH_CURVE_CERT=%s", garbage) > 0);
    const char *idle [] = { "idle", "0", NULL };
    const char *e1 [] = { key_env, cert_env, NULL };
    CHECK (asprintf (&line, "zwatch: E: zwatch_agent_new: ZWATCH_CURVE_CERT: certificate '%s' "
                     "has no curve secret-key", garbage) > 0);
    s_tool_refuses ("agent_service", idle, e1, 5, line);
    free (line);
    const char *e2 [] = { "ZWATCH_CURVE_SERVER_KEY=0123456789", NULL };
    s_tool_refuses ("agent_service", idle, e2, 5, "zwatch: E: zwatch_agent_new: "
                    "ZWATCH_CURVE_SERVER_KEY: server key '0123456789' is not a 40-character Z85 "
                    "public key");
    const char *e3 [] = { cert_env, "ZWATCH_CURVE_SERVER_KEY=", NULL };
    s_tool_refuses ("agent_service", idle, e3, 5, "zwatch: E: zwatch_agent_new: "
                    "ZWATCH_CURVE_CERT is set but ZWATCH_CURVE_SERVER_KEY (the broker's public "
                    "key) is not");

    free (key_env);
    free (cert_env);
    free (config);
    free (config_text);
    free (missing);
    free (garbage);
    free (damaged);
    free (damaged_text);
    free (mismatched);
    free (swapped);
    free (secret_text);
    free (public);
    free (good_secret);
    free (other);
    free (key);
    ts_remove_dir (&dir);
}

//  zwatch-keygen: what it writes is what zcert and the agents read
void
test_keygen (void)
{
    char *dir = ts_temp_dir ();
    char *key = ts_keygen (dir, "web", "web-01");
    CHECK (zwatch_curve_key_valid (key));
    char *public = ts_path (dir, "web"), *secret = ts_path (dir, "web_secret");
    struct stat info;
    CHECK (stat (secret, &info) == 0 && (info.st_mode & 0777) == 0600);
    zcert_t *cert = zcert_load (public);
    CHECK (cert);
    CHECK_STR_EQ (zcert_public_txt (cert), key);
    CHECK_STR_EQ (zcert_meta (cert, "host"), "web-01");
    zcert_destroy (&cert);
    char public_key [41], secret_key [41], error [300];
    CHECK_INT_EQ (zwatch_curve_load (secret, public_key, secret_key, error, sizeof (error)), 0);
    CHECK_STR_EQ (public_key, key);

    char *bin = tu_bin ("zwatch-keygen");
    char *out, *errors, *line = NULL;
    const char *again [] = { bin, public, NULL };
    CHECK_INT_EQ (ts_run (again, NULL, &out, &errors), 1);
    CHECK (asprintf (&line, "zwatch-keygen: '%s' or '%s' exists; use --force to replace it\n",
                     public, secret) > 0);
    CHECK_STR_EQ (errors, line);
    CHECK_STR_EQ (out, "");
    free (out);
    free (errors);
    const char *force [] = { bin, "--force", public, NULL };
    CHECK_INT_EQ (ts_run (force, NULL, &out, &errors), 0);
    CHECK (strlen (out) == 41 && strncmp (out, key, 40) != 0);
    free (out);
    free (errors);
    const char *bad_host [] = { bin, "--host", "a/b", public, NULL };
    CHECK_INT_EQ (ts_run (bad_host, NULL, &out, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-keygen: invalid host ID 'a/b' (1-64 characters of "
                          "A-Za-z0-9._-) (see --help)\n");
    free (out);
    free (errors);
    const char *no_name [] = { bin, NULL };
    CHECK_INT_EQ (ts_run (no_name, NULL, &out, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-keygen: missing NAME (see --help)\n");
    free (out);
    free (errors);
    const char *help [] = { bin, "--help", NULL };
    CHECK_INT_EQ (ts_run (help, NULL, &out, &errors), 0);
    CHECK (strstr (out, "Usage: zwatch-keygen [--host H] [--force] NAME"));
    free (out);
    free (errors);

    free (line);
    free (bin);
    free (secret);
    free (public);
    free (key);
    ts_remove_dir (&dir);
}
