/*
 * reproducer.c - the main() of a fuzz target built without an engine
 * (MMSIM_FUZZ_ENGINE=none): feeds each file named on the command line,
 * and every regular file under each directory named (recursively, in
 * name order), to LLVMFuzzerTestOneInput() once.
 *
 * This is how ctest replays corpus/<target>/ (regress/ included) in every
 * normal build, and how a crash file is reproduced under a debugger or a
 * sanitizer without libFuzzer or AFL++. Each input is copied into a
 * buffer of exactly its size, so ASan catches a read past its end.
 * Arguments starting with '-' are ignored, so a libFuzzer command line
 * (-runs=0, -max_len=...) works unchanged.
 *
 * Exit status: 0 when every input ran (a finding aborts, with the file
 * named on stderr just before), 1 when a path cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Optional, as in libFuzzer: a target may define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long nr_inputs;
static int verbose;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        fprintf(stderr, "reproducer: %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            uint8_t *b;

            cap = cap ? cap * 2 : 4096;
            b = realloc(buf, cap);
            if (!b) {
                fprintf(stderr, "reproducer: out of memory\n");
                free(buf);
                fclose(f);
                return 1;
            }
            buf = b;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "reproducer: %s: read error\n", path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);

    /* An exact-size copy: reading past the input is an ASan report. */
    {
        uint8_t *exact = malloc(len ? len : 1);

        if (!exact) {
            free(buf);
            return 1;
        }
        if (len)
            memcpy(exact, buf, len);
        free(buf);
        if (verbose)
            fprintf(stderr, "Running: %s (%zu bytes)\n", path, len);
        else
            fprintf(stderr, "%s\n", path);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    nr_inputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (stat(path, &st)) {
        fprintf(stderr, "reproducer: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? run_file(path) : 0;

    d = opendir(path);
    if (!d) {
        fprintf(stderr, "reproducer: %s: %s\n", path, strerror(errno));
        return 1;
    }
    while ((e = readdir(d))) {
        size_t len;
        char *full;

        if (e->d_name[0] == '.')
            continue; /* ., .., and hidden files such as .gitkeep */
        len = strlen(path) + strlen(e->d_name) + 2;
        full = malloc(len);
        if (!full) {
            rc = 1;
            break;
        }
        snprintf(full, len, "%s/%s", path, e->d_name);
        if (n == cap) {
            char **p;

            cap = cap ? cap * 2 : 64;
            p = realloc(names, cap * sizeof(*names));
            if (!p) {
                free(full);
                rc = 1;
                break;
            }
            names = p;
        }
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, paths = 0;

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            verbose = 1;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        paths++;
        rc |= run_path(argv[i]);
    }
    if (!paths) {
        fprintf(stderr,
                "usage: %s [-v] FILE|DIR...\n"
                "Runs each file, and every file under each directory, "
                "through the fuzz target once.\n",
                argv[0]);
        return 2;
    }
    fprintf(stderr, "reproducer: %lu inputs ran%s\n", nr_inputs,
            rc ? " (some paths could not be read)" : "");
    return rc;
}
