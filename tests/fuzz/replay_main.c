/*  replay_main: runs the fuzz target over corpus files, without libFuzzer.
    Every input that ever crashed the decoder lives in the corpus, so this
    is the regression test for them, in every build.  */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_run_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    static uint8_t data [1 << 20];
    size_t size = fread (data, 1, sizeof (data), file);
    fclose (file);
    LLVMFuzzerTestOneInput (data, size);
    return 0;
}

int
main (int argc, char *argv [])
{
    int files = 0;
    for (int arg = 1; arg < argc; arg++) {
        DIR *dir = opendir (argv [arg]);
        if (!dir) {
            if (s_run_file (argv [arg]) != 0) {
                fprintf (stderr, "replay: cannot read %s\n", argv [arg]);
                return 1;
            }
            files++;
            continue;
        }
        struct dirent *entry;
        while ((entry = readdir (dir))) {
            if (entry->d_name [0] == '.')
                continue;
            char path [4096];
            snprintf (path, sizeof (path), "%s/%s", argv [arg], entry->d_name);
            if (s_run_file (path) == 0)
                files++;
        }
        closedir (dir);
    }
    printf ("replay: %d inputs, no crash\n", files);
    return files > 0? 0: 1;
}
