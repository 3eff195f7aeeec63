/*
 * What the library leaves in the heap and takes from it:
 *
 *   1. key material does not survive ava3_decoder_free (ava3.h: "Frees a
 *      decoder, wiping its key material"; issue 10, item 12);
 *   2. a forged header is refused before anything large is allocated
 *      (issue 10, item 10: under 1 MiB, whatever block size it claims).
 *
 *   heap_test VECTOR_FILE
 *
 * This program replaces the C library's allocation functions for the
 * whole process (the library's Rust allocator calls them too), to count
 * the bytes requested and to see every chunk given back. While the
 * scanner is armed, every chunk handed back to the allocator is searched
 * for the key material of the vector's file, computed here independently
 * with OpenSSL from the spec (sections 4.1, 4.2 and 5):
 *
 *   - the master key K;
 *   - K_enc, K_mac, K_scramble, K_shuffle;
 *   - the inner and outer SHA-256 midstates of HMAC keyed with K_mac (what
 *     an HMAC object holds: as good as K_mac itself);
 *   - the same midstates of each HKDF PRK (per-file and key-id).
 *
 * The scanner first proves it can find a planted copy (so this test can
 * fail), then arms around open, set_key, read_at, a FILE* and free, with
 * the decoder's life spanning a forged header, a wrong key and a good key.
 *
 * Built by tests/ffi.sh with -Werror and run without sanitizers or
 * valgrind (both replace the allocator themselves).
 */
#define _GNU_SOURCE
/* SHA256_Init/Update are the only OpenSSL calls that expose a midstate. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ava3.h"

#include <malloc.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void __libc_free(void *);
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_memalign(size_t, size_t);

#define NPAT 13
static uint8_t patterns[NPAT][32];
static const char *pattern_names[NPAT] = {
    "master key",       "K_enc",           "K_mac",          "K_scramble",
    "K_shuffle",        "HMAC(K_mac) inner midstate",        "HMAC(K_mac) outer midstate",
    "file PRK",         "file PRK inner midstate",           "file PRK outer midstate",
    "key-id PRK",       "key-id PRK inner midstate",         "key-id PRK outer midstate",
};
static atomic_int armed;
static atomic_long hits[NPAT];
static atomic_long scanned_chunks, scanned_bytes;

static void scan(const void *p, size_t n) {
    atomic_fetch_add(&scanned_chunks, 1);
    atomic_fetch_add(&scanned_bytes, (long)n);
    for (int i = 0; i < NPAT; i++) {
        if (n >= 32 && memmem(p, n, patterns[i], 32)) atomic_fetch_add(&hits[i], 1);
    }
}

static atomic_int counting;
static atomic_long requested_bytes, largest_request;

static void count(size_t n) {
    if (!atomic_load(&counting)) return;
    atomic_fetch_add(&requested_bytes, (long)n);
    long prev = atomic_load(&largest_request);
    while ((long)n > prev && !atomic_compare_exchange_weak(&largest_request, &prev, (long)n)) {
    }
}

void *malloc(size_t n) {
    count(n);
    return __libc_malloc(n);
}

void *calloc(size_t k, size_t n) {
    count(k * n);
    return __libc_calloc(k, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    count(n);
    void *p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    count(n);
    return __libc_memalign(align, n);
}

void free(void *p) {
    if (p && atomic_load(&armed)) scan(p, malloc_usable_size(p));
    __libc_free(p);
}

/* A realloc that moves every time, so that the block it leaves behind goes
 * through free() (glibc's own realloc would release it unseen). */
void *realloc(void *p, size_t n) {
    if (!p) return __libc_malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    count(n);
    void *q = __libc_malloc(n);
    if (!q) return NULL;
    size_t old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

static int failed;
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            failed++;                                                                              \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* HKDF-SHA256 in its two halves, by OpenSSL. */
static void hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, uint8_t prk[32]) {
    unsigned int len = 32;
    static const uint8_t zeros[32];
    if (!salt_len) salt = zeros, salt_len = 32; /* RFC 5869: absent salt = HashLen zeros */
    uint8_t *r = HMAC(EVP_sha256(), salt, (int)salt_len, ikm, 32, prk, &len);
    if (!r || len != 32) abort();
}

static void hkdf_expand32(const uint8_t prk[32], const char *info, uint8_t out[32]) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(ctx, out, 32, params) != 1) abort();
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

/* The SHA-256 state after one 64-byte block (key XOR pad), as the eight
 * 32-bit words in memory order: what an HMAC object keeps. */
static void midstate(const uint8_t key[32], uint8_t pad, uint8_t out[32]) {
    uint8_t block[64];
    memset(block, pad, sizeof block);
    for (int i = 0; i < 32; i++) block[i] ^= key[i];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, block, sizeof block);
    memcpy(out, c.h, 32);
}

static uint8_t *read_vector(const char *path, size_t *len, uint8_t key[32]) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *raw = malloc((size_t)size);
    if (fread(raw, 1, (size_t)size, f) != (size_t)size) abort();
    fclose(f);
    uint8_t *sep = memmem(raw, (size_t)size, "\n\n", 2);
    const char *k = memmem(raw, (size_t)size, "key: ", 5);
    if (!sep || !k) abort();
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(k + 5 + 2 * i, "%2x", &v) != 1) abort();
        key[i] = (uint8_t)v;
    }
    *len = (size_t)size - (size_t)(sep + 2 - raw);
    uint8_t *data = malloc(*len);
    memcpy(data, sep + 2, *len);
    memset(raw, 0, (size_t)size);
    free(raw);
    return data;
}

static long total_hits(void) {
    long t = 0;
    for (int i = 0; i < NPAT; i++) t += atomic_load(&hits[i]);
    return t;
}

static void report_hits(const char *when) {
    for (int i = 0; i < NPAT; i++) {
        long h = atomic_load(&hits[i]);
        CHECK(h == 0, "%s: %s found in %ld freed chunk(s)", when, pattern_names[i], h);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTOR_FILE\n", argv[0]);
        return 2;
    }
    uint8_t key[32];
    size_t len;
    uint8_t *file = read_vector(argv[1], &len, key);
    if (!file || len < 128) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    const uint8_t *salt = file + 32;

    /* The key material, from the spec. */
    uint8_t prk[32], id_prk[32];
    hkdf_extract(salt, 32, key, prk);
    hkdf_extract(NULL, 0, key, id_prk);
    memcpy(patterns[0], key, 32);
    hkdf_expand32(prk, "AVA3-v1 enc", patterns[1]);
    hkdf_expand32(prk, "AVA3-v1 mac", patterns[2]);
    hkdf_expand32(prk, "AVA3-v1 scramble", patterns[3]);
    hkdf_expand32(prk, "AVA3-v1 shuffle", patterns[4]);
    midstate(patterns[2], 0x36, patterns[5]);
    midstate(patterns[2], 0x5c, patterns[6]);
    memcpy(patterns[7], prk, 32);
    midstate(prk, 0x36, patterns[8]);
    midstate(prk, 0x5c, patterns[9]);
    memcpy(patterns[10], id_prk, 32);
    midstate(id_prk, 0x36, patterns[11]);
    midstate(id_prk, 0x5c, patterns[12]);

    /* 1. The scanner finds what is there: plant each pattern in a chunk. */
    atomic_store(&armed, 1);
    for (int i = 0; i < NPAT; i++) {
        uint8_t *planted = malloc(4096);
        memset(planted, 0x11, 4096);
        memcpy(planted + 1000 + i, patterns[i], 32);
        free(planted);
    }
    atomic_store(&armed, 0);
    for (int i = 0; i < NPAT; i++) {
        CHECK(atomic_load(&hits[i]) == 1, "self-test: a planted %s was not found", pattern_names[i]);
        atomic_store(&hits[i], 0);
    }
    atomic_store(&scanned_chunks, 0);
    atomic_store(&scanned_bytes, 0);

    /* 2. A decoder's whole life, armed: a forged header (right key id, one
     * MAC bit flipped), a wrong key, then the right key, reads, a FILE*. */
    uint8_t *forged = malloc(len);
    memcpy(forged, file, len);
    forged[127] ^= 1;
    uint8_t wrong[32];
    for (int i = 0; i < 32; i++) wrong[i] = (uint8_t)(0x20 + i);

    atomic_store(&armed, 1);
    Ava3Decoder *d = NULL;
    CHECK(ava3_decoder_open_buffer(forged, len, &d) == AVA3_RESULT_OK, "open forged");
    CHECK(ava3_decoder_set_key(d, key, 32) == AVA3_RESULT_HEADER_FAILURE, "forged header refused");
    ava3_decoder_free(d);
    d = NULL;

    CHECK(ava3_decoder_open_buffer(file, len, &d) == AVA3_RESULT_OK, "open");
    CHECK(ava3_decoder_set_key(d, wrong, 32) == AVA3_RESULT_WRONG_KEY, "wrong key refused");
    CHECK(ava3_decoder_set_key(d, key, 32) == AVA3_RESULT_OK, "set_key");
    uint64_t size = 0;
    CHECK(ava3_decoder_plaintext_size(d, &size) == AVA3_RESULT_OK && size > 0, "size");
    uint8_t *plain = malloc(size);
    size_t got = 0;
    CHECK(ava3_decoder_read_at(d, 0, plain, size, &got) == AVA3_RESULT_OK && got == size, "read_at");
    FILE *fp = NULL;
    CHECK(ava3_decoder_fopen(d, 1 << 16, &fp) == AVA3_RESULT_OK, "fopen");
    if (fp) {
        uint8_t chunk[5000];
        size_t n = fread(chunk, 1, sizeof chunk, fp);
        CHECK(n == (size < sizeof chunk ? size : sizeof chunk), "fread");
        fseek(fp, (long)(size / 2), SEEK_SET);
        n = fread(chunk, 1, sizeof chunk, fp);
        CHECK(n > 0, "fread after fseek");
        fclose(fp);
    }
    ava3_decoder_free(d);
    atomic_store(&armed, 0);

    long chunks = atomic_load(&scanned_chunks);
    CHECK(chunks > 0, "the library freed nothing while armed: the scan saw nothing");
    report_hits("after ava3_decoder_free");
    printf("heap_test: scanned %ld freed chunks (%ld bytes) for %d key patterns: %ld found\n", chunks,
           atomic_load(&scanned_bytes), NPAT, total_hits());
    /* 3. A forged header that claims the largest block size (16 MiB) and a
     * 1 TiB model, with the right key id: refused by set_key before the
     * 16 MiB pad and shuffle tables are built. */
    uint8_t hdr[128];
    memcpy(hdr, file, 128);
    uint32_t bs = 1u << 24;
    uint64_t plen = 1ull << 40;
    memcpy(hdr + 16, &bs, 4); /* le32 on every target this runs on */
    memcpy(hdr + 24, &plen, 8);
    atomic_store(&requested_bytes, 0);
    atomic_store(&largest_request, 0);
    d = NULL;
    CHECK(ava3_decoder_open_buffer(hdr, sizeof hdr, &d) == AVA3_RESULT_OK, "open forged 16 MiB header");
    atomic_store(&counting, 1);
    Ava3Result r = ava3_decoder_set_key(d, key, 32);
    atomic_store(&counting, 0);
    CHECK(r == AVA3_RESULT_HEADER_FAILURE, "forged 16 MiB header: set_key gives %u", r);
    long req = atomic_load(&requested_bytes);
    CHECK(req < (1 << 20), "forged 16 MiB header: set_key allocated %ld bytes (limit 1 MiB)", req);
    printf("heap_test: set_key on a forged header claiming 16 MiB blocks allocated %ld bytes "
           "(largest request %ld)\n",
           req, atomic_load(&largest_request));
    ava3_decoder_free(d);

    memset(plain, 0, size);
    free(plain);
    free(forged);
    free(file);
    printf("%d passed, %d failed\n", failed ? 0 : 2, failed ? 1 : 0);
    return failed ? 1 : 0;
}
