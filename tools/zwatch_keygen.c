/*  zwatch-keygen: make a CURVE certificate for a broker, an agent or a
    subscriber (docs/SECURITY.md).

    Writes NAME (the public certificate, to copy into the broker's
    --agents-allow or --subscribers-allow directory) and NAME_secret (the
    keypair, mode 0600, for --curve-secret, $ZWATCH_CURVE_CERT or --cert)
    with zcert, then reads the secret file back with the reader agents use.
    Prints the public key on stdout: the broker's is what agents need in
    $ZWATCH_CURVE_SERVER_KEY. Exit codes: 0 ok, 1 cannot write, 2 usage.
*/

#include <getopt.h>
#include <czmq.h>
#include "zwatch.h"
#include "zwatch_curve.h"

#define PROGRAM         "zwatch-keygen"
#define EXIT_RUNTIME    1
#define EXIT_USAGE      2

static void
s_usage (void)
{
    printf (
        "Usage: " PROGRAM " [--host H] [--force] NAME\n"
        "Make a CURVE certificate: NAME (public, for the broker's allow directories)\n"
        "and NAME_secret (the keypair; keep it private). Prints the public key.\n"
        "\n"
        "  --host H     bind the certificate to host ID H: an agent using it may only\n"
        "               send events with host H\n"
        "  --relay      a relay certificate (metadata role = relay), for a child broker\n"
        "               (--parent-cert): it may forward messages of any host, with via\n"
        "  --force      overwrite NAME and NAME_secret if they exist\n"
        "  -h, --help   show this help and exit\n"
        "  --version    show the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 cannot write the files, 2 usage error.\n");
}

static int
s_usage_error (const char *format, const char *arg)
{
    fprintf (stderr, PROGRAM ": ");
    fprintf (stderr, format, arg);
    fprintf (stderr, " (see --help)\n");
    return EXIT_USAGE;
}

int
main (int argc, char *argv [])
{
    static const struct option options [] = {
        { "host",  required_argument, NULL, 'H' },
        { "force", no_argument,       NULL, 'f' },
        { "relay", no_argument,       NULL, 'R' },
        { "help",  no_argument,       NULL, 'h' },
        { "version", no_argument,     NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *host = NULL;
    bool force = false, relay = false;
    opterr = 0;
    while (true) {
        int option = getopt_long (argc, argv, ":h", options, NULL);
        if (option == -1)
            break;
        switch (option) {
            case 'H':
                if (!zwatch_name_valid (optarg, strlen (optarg), ZWATCH_HOST_MAX))
                    return s_usage_error ("invalid host ID '%s' (1-64 characters of "
                                          "A-Za-z0-9._-)", optarg);
                host = optarg;
                break;
            case 'f':
                force = true;
                break;
            case 'R':
                relay = true;
                break;
            case 'h':
                s_usage ();
                return 0;
            case 'V':
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                return 0;
            case ':':
                return s_usage_error ("option '%s' needs a value", argv [optind - 1]);
            default:
                return s_usage_error ("unknown option '%s'", argv [optind - 1]);
        }
    }
    //  A relay speaks for the hosts behind it: no one host
    if (relay && host)
        return s_usage_error ("%s", "--relay and --host exclude each other");
    if (optind != argc - 1)
        return s_usage_error ("%s", optind < argc? "give exactly one NAME": "missing NAME");
    const char *name = argv [optind];
    if (!*name)
        return s_usage_error ("%s", "NAME is empty");
    char secret_path [PATH_MAX];
    if (snprintf (secret_path, sizeof (secret_path), "%s_secret", name) >= (int) sizeof (secret_path))
        return s_usage_error ("NAME '%.64s...' is too long", name);
    //  Replacing a key by accident locks out everyone who trusts it
    if (!force && (zsys_file_exists (name) || zsys_file_exists (secret_path))) {
        fprintf (stderr, PROGRAM ": '%s' or '%s' exists; use --force to replace it\n",
                 name, secret_path);
        return EXIT_RUNTIME;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, PROGRAM ": cannot make a keypair (libzmq without CURVE?)\n");
        return EXIT_RUNTIME;
    }
    if (host)
        zcert_set_meta (cert, "host", "%s", host);
    if (relay)
        zcert_set_meta (cert, "role", "relay");
    if (zcert_save (cert, name) != 0) {
        fprintf (stderr, PROGRAM ": cannot write '%s' and '%s': %s\n", name, secret_path,
                 strerror (errno));
        zcert_destroy (&cert);
        return EXIT_RUNTIME;
    }
    //  What we wrote must be what agents will read
    char public_key [ZWATCH_CURVE_KEY_LEN + 1], secret_key [ZWATCH_CURVE_KEY_LEN + 1];
    char error [512] = "the secret file does not read back";
    int rc = zwatch_curve_load (secret_path, public_key, secret_key, error, sizeof (error));
    if (rc == 0 && strcmp (public_key, zcert_public_txt (cert)) != 0)
        rc = -1;
    zcert_destroy (&cert);
    explicit_bzero (secret_key, sizeof (secret_key));
    if (rc != 0) {
        fprintf (stderr, PROGRAM ": %s\n", error);
        return EXIT_RUNTIME;
    }
    printf ("%s\n", public_key);
    return 0;
}
