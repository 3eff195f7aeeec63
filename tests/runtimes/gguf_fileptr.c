/*
 * The llama.cpp FILE* path, driven by a GGUF reader in C: opens an
 * .amg.ava3 through ava3_decoder_fopen (what llama_model_load_from_file_ptr
 * receives), parses the GGUF header, metadata and tensor table with
 * fread/fseek/ftell, then reads every tensor in the table's order and again
 * in reverse order, comparing each with the plaintext model. Prints the
 * block cache's hit rate and the bytes decrypted against the file size.
 *
 *   gguf_fileptr MODEL.amg.ava3 KEYHEX MODEL.amg
 */
#define _GNU_SOURCE
#include "ava3.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            failures++;                                                                            \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

static uint64_t rd(FILE *f, size_t n) {
    uint64_t v = 0;
    if (fread(&v, 1, n, f) != n) {
        fprintf(stderr, "short read at %ld\n", ftell(f));
        exit(1);
    }
    return v;
}

static void skip_string(FILE *f) { fseek(f, (long)rd(f, 8), SEEK_CUR); }

static char *read_string(FILE *f) {
    uint64_t n = rd(f, 8);
    char *s = malloc(n + 1);
    if (fread(s, 1, n, f) != n) exit(1);
    s[n] = 0;
    return s;
}

static size_t scalar_size(uint32_t t) {
    switch (t) {
    case 0: case 1: case 7: return 1;   /* u8 i8 bool */
    case 2: case 3: return 2;           /* u16 i16 */
    case 4: case 5: case 6: return 4;   /* u32 i32 f32 */
    case 10: case 11: case 12: return 8; /* u64 i64 f64 */
    default: return 0;
    }
}

static uint64_t alignment = 32;

static void skip_value(FILE *f, uint32_t t, const char *key) {
    if (t == 8) {
        skip_string(f);
    } else if (t == 9) {
        uint32_t et = (uint32_t)rd(f, 4);
        uint64_t n = rd(f, 8);
        for (uint64_t i = 0; i < n; i++) skip_value(f, et, "");
    } else {
        size_t s = scalar_size(t);
        if (!s) {
            fprintf(stderr, "unknown GGUF type %u\n", t);
            exit(1);
        }
        uint64_t v = rd(f, s);
        if (!strcmp(key, "general.alignment")) alignment = v;
    }
}

typedef struct {
    char *name;
    uint64_t offset, size;
} Tensor;

static int by_offset(const void *a, const void *b) {
    const Tensor *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    uint8_t key[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(argv[2] + 2 * i, "%2x", &v);
        key[i] = (uint8_t)v;
    }
    FILE *plain = fopen(argv[3], "rb");
    fseek(plain, 0, SEEK_END);
    long plain_size = ftell(plain);

    Ava3Decoder *d = NULL;
    CHECK(ava3_decoder_open_path(argv[1], &d) == AVA3_RESULT_OK, "open");
    uint32_t kind = 0;
    ava3_decoder_payload_kind(d, &kind);
    CHECK(kind == AVA3_PAYLOAD_GGUF, "payload kind %u", kind);
    CHECK(ava3_decoder_set_key(d, key, 32) == AVA3_RESULT_OK, "key");
    FILE *f = NULL;
    CHECK(ava3_decoder_fopen(d, 1 << 20, &f) == AVA3_RESULT_OK, "fopen");
    if (failures) return 1;

    CHECK(rd(f, 4) == 0x46554747, "GGUF magic");
    uint32_t version = (uint32_t)rd(f, 4);
    uint64_t n_tensors = rd(f, 8), n_kv = rd(f, 8);
    for (uint64_t i = 0; i < n_kv; i++) {
        char *k = read_string(f);
        uint32_t t = (uint32_t)rd(f, 4);
        skip_value(f, t, k);
        free(k);
    }
    Tensor *ts = calloc(n_tensors, sizeof *ts);
    for (uint64_t i = 0; i < n_tensors; i++) {
        ts[i].name = read_string(f);
        uint32_t nd = (uint32_t)rd(f, 4);
        for (uint32_t j = 0; j < nd; j++) rd(f, 8);
        rd(f, 4); /* type */
        ts[i].offset = rd(f, 8);
    }
    uint64_t data_start = ((uint64_t)ftell(f) + alignment - 1) / alignment * alignment;
    /* Sizes from the next offset (the table order is kept for reading). */
    Tensor *sorted = malloc(n_tensors * sizeof *sorted);
    memcpy(sorted, ts, n_tensors * sizeof *ts);
    qsort(sorted, n_tensors, sizeof *sorted, by_offset);
    for (uint64_t i = 0; i < n_tensors; i++) {
        uint64_t end = i + 1 < n_tensors ? sorted[i + 1].offset : (uint64_t)plain_size - data_start;
        for (uint64_t j = 0; j < n_tensors; j++)
            if (ts[j].offset == sorted[i].offset) ts[j].size = end - sorted[i].offset;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t k = 0; k < n_tensors; k++) {
            Tensor *t = &ts[pass == 0 ? k : n_tensors - 1 - k];
            uint8_t *a = malloc(t->size), *b = malloc(t->size);
            CHECK(fseek(f, (long)(data_start + t->offset), SEEK_SET) == 0, "fseek %s", t->name);
            CHECK(ftell(f) == (long)(data_start + t->offset), "ftell %s", t->name);
            CHECK(fread(a, 1, t->size, f) == t->size, "fread %s", t->name);
            fseek(plain, (long)(data_start + t->offset), SEEK_SET);
            CHECK(fread(b, 1, t->size, plain) == t->size, "plain %s", t->name);
            CHECK(!memcmp(a, b, t->size), "tensor %s differs", t->name);
            free(a);
            free(b);
        }
    }
    fclose(f);
    Ava3CacheStats s;
    ava3_decoder_cache_stats(d, &s);
    printf("GGUF v%u: %llu tensors, %llu metadata pairs, data at %llu, file %ld bytes\n", version,
           (unsigned long long)n_tensors, (unsigned long long)n_kv, (unsigned long long)data_start, plain_size);
    printf("block cache: %llu hits, %llu misses (hit rate %.1f%%); decrypted %llu bytes = %.2fx the file\n",
           (unsigned long long)s.hits, (unsigned long long)s.misses,
           100.0 * (double)s.hits / (double)(s.hits + s.misses ? s.hits + s.misses : 1),
           (unsigned long long)s.bytes_decrypted, (double)s.bytes_decrypted / (double)plain_size);
    for (uint64_t i = 0; i < n_tensors; i++) free(ts[i].name);
    free(ts);
    free(sorted);
    fclose(plain);
    ava3_decoder_free(d);
    printf("gguf-fileptr: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
