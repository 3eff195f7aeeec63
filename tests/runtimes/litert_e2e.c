/*
 * Driver of examples/litert/litert_load.c against the real libLiteRt.so
 * (tests/runtimes/test_litert_c.py builds and runs it):
 *
 *   litert_e2e MODEL.amr.ava3 KEY_HEX IN_COUNT OUT_COUNT INPUTS.f32 OUTPUTS.f32
 *
 * INPUTS.f32 holds k inputs of IN_COUNT float32 each; the model is opened
 * once and run on each; OUTPUTS.f32 receives the k outputs of OUT_COUNT
 * float32, written only when every step succeeded. The exit status is the
 * example's result (0, an Ava3Result 1-22, or its LOAD_ERR_* 100-108);
 * 200 for a usage or file error of the driver itself.
 */
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

/* Defined in examples/litert/litert_load.c. */
typedef struct ProtectedLiteRt ProtectedLiteRt;
int protected_litert_open(const char *path, const uint8_t key[32], ProtectedLiteRt **out);
int protected_litert_run(ProtectedLiteRt *m, const float *in, size_t in_count, float *out, size_t out_count);
void protected_litert_close(ProtectedLiteRt *m);

enum { DRIVER_ERROR = 200 };

static int parse_key(const char *hex, uint8_t key[32]) {
    size_t n = strlen(hex);
    if (n < 64 || (n > 64 && !(n == 65 && hex[64] == '\n'))) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        key[i] = (uint8_t)v;
    }
    return hex[64] == '\0' || hex[64] == '\n' ? 0 : -1;
}

int main(int argc, char **argv) {
    uint8_t key[32];
    if (argc != 7 || parse_key(argv[2], key) != 0) {
        fprintf(stderr, "usage: %s MODEL.amr.ava3 KEY_HEX IN_COUNT OUT_COUNT INPUTS.f32 OUTPUTS.f32\n", argv[0]);
        return DRIVER_ERROR;
    }
    size_t in_count = strtoul(argv[3], NULL, 10), out_count = strtoul(argv[4], NULL, 10);
    float *in = in_count && out_count ? malloc(in_count * sizeof(float)) : NULL;
    FILE *f = in ? fopen(argv[5], "rb") : NULL;
    if (!f) {
        free(in);
        return DRIVER_ERROR;
    }
    float *outs = NULL;
    size_t runs = 0;
    ProtectedLiteRt *m = NULL;
    int rc = protected_litert_open(argv[1], key, &m);
    if (rc != 0) fprintf(stderr, "litert_e2e: load failed: %d\n", rc);
    while (rc == 0 && fread(in, sizeof(float), in_count, f) == in_count) {
        float *grown = realloc(outs, (runs + 1) * out_count * sizeof(float));
        if (!grown) {
            rc = DRIVER_ERROR;
            break;
        }
        outs = grown;
        rc = protected_litert_run(m, in, in_count, outs + runs * out_count, out_count);
        if (rc != 0) fprintf(stderr, "litert_e2e: run %zu failed: %d\n", runs, rc);
        runs++;
    }
    protected_litert_close(m);
    fclose(f);
    if (rc == 0) {
        FILE *o = fopen(argv[6], "wb");
        size_t written = o ? fwrite(outs, sizeof(float) * out_count, runs, o) : 0;
        if (!o || fclose(o) != 0 || written != runs) rc = DRIVER_ERROR;
        else printf("litert_e2e: %zu runs, %zu -> %zu float32\n", runs, in_count, out_count);
    }
    free(in);
    free(outs);
    return rc;
}
