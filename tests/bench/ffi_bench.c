/* Throughput of the C ABI entry points on one file, for BENCHMARKS.md.
 *   ffi_bench FILE.ava3 KEYHEX RUNS
 * Prints the median wall time of: decode_to_buffer, read_at (4 MiB
 * sequential chunks), decode_to_memfd, FILE* fread with a 1 MiB stdio buffer. */
#define _GNU_SOURCE
#include "ava3.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static Ava3Decoder *open_keyed(const char *path, const uint8_t *key) {
    Ava3Decoder *d = NULL;
    if (ava3_decoder_open_path(path, &d) || ava3_decoder_set_key(d, key, 32)) {
        fprintf(stderr, "open failed\n");
        exit(1);
    }
    return d;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    uint8_t key[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(argv[2] + 2 * i, "%2x", &v);
        key[i] = (uint8_t)v;
    }
    int runs = atoi(argv[3]);
    const char *names[4] = {"decode_to_buffer", "read_at 4 MiB chunks", "decode_to_memfd", "FILE* fread, 1 MiB buffer"};
    double t[4][32];
    for (int r = 0; r < runs && r < 32; r++) {
        for (int m = 0; m < 4; m++) {
            double s = now();
            Ava3Decoder *d = open_keyed(argv[1], key);
            uint64_t size = 0;
            ava3_decoder_plaintext_size(d, &size);
            if (m == 0) {
                uint8_t *buf = malloc(size);
                if (ava3_decoder_decode_to_buffer(d, buf, size)) exit(1);
                free(buf);
            } else if (m == 1) {
                uint8_t *buf = malloc(size);
                size_t chunk = 4 << 20, got = 0;
                for (uint64_t off = 0; off < size; off += got)
                    if (ava3_decoder_read_at(d, off, buf + off, chunk, &got) || got == 0) exit(1);
                free(buf);
            } else if (m == 2) {
                int fd = -1;
                if (ava3_decoder_decode_to_memfd(d, &fd)) exit(1);
                close(fd);
            } else {
                FILE *f = NULL;
                if (ava3_decoder_fopen(d, 1 << 20, &f)) exit(1);
                uint8_t *buf = malloc(1 << 20);
                size_t n, total = 0;
                while ((n = fread(buf, 1, 1 << 20, f)) > 0) total += n;
                if (total != size) exit(1);
                free(buf);
                fclose(f);
            }
            ava3_decoder_free(d);
            t[m][r] = now() - s;
        }
    }
    for (int m = 0; m < 4; m++) {
        qsort(t[m], (size_t)runs, sizeof(double), cmp);
        printf("ffi %s: median %.3f s\n", names[m], t[m][runs / 2]);
    }
    return 0;
}
