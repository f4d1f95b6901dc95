//  Follows the fleet through libzwatch-client: prints connections as they
//  come and gaps as they happen, then the agents, for 10 seconds.
//  Build: cc client_follow.c -o client_follow $(pkg-config --cflags --libs zwatch-client)
#include <stdio.h>
#include <time.h>
#include <zwatch_client.h>

int main (void)
{
    zwatch_client_t *client = zwatch_client_new (NULL, NULL);   //  tcp://127.0.0.1:5571 and :5572
    if (!client || zwatch_client_start (client) != 0) {
        perror ("zwatch_client");
        return 1;
    }
    time_t until = time (NULL) + 10;
    while (time (NULL) < until) {
        const zwatch_change_t *change = zwatch_client_next (client, 1000);
        if (change && change->kind == ZWATCH_CHANGE_CONNECTION_UP)
            printf ("%s/%s %s -> %s\n", change->host, change->svc, change->sock, change->peer);
        if (change && change->kind == ZWATCH_CHANGE_GAP)
            printf ("%s/%s lost %llu events\n", change->host, change->svc,
                    (unsigned long long) change->lost);
    }
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        printf ("%s/%s pid %llu\n", zwatch_client_agent_host (agent),
                zwatch_client_agent_svc (agent),
                (unsigned long long) zwatch_client_agent_pid (agent));
    zwatch_client_destroy (&client);
    return 0;
}
