/*
 * What the library leaves in the heap and takes from it:
 *
 *   1. key material does not survive ava3_decoder_free (ava3.h: "Frees a
 *      decoder, wiping its key material");
 *   2. a forged header is refused before anything large is allocated
 *      (under 1 MiB, whatever block size it claims).
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
 *   - the same midstates of each HKDF PRK (per-file and key-id);
 *   - every round key of the expanded AES-256 key schedules of K_enc,
 *     K_scramble and K_shuffle (what an AES object holds; with VAES the
 *     cipher also keeps each round key broadcast to a whole register).
 *
 * The scanner first proves it can find a planted copy (so this test can
 * fail), then arms around open, set_key, read_at, a FILE* and free, with
 * the decoder's life spanning a forged header, a wrong key and a good key.
 *
 * Nor on any thread's stack: after free, the stack of every thread of
 * the process is searched for the same patterns, the main thread's
 * [stack] mapping whole (dead frames below the stack pointer included),
 * and for every other thread (the library's rayon workers, idle but
 * alive) the mapping that holds its stack pointer, read from
 * /proc/self/task/TID/syscall. The decoder runs 64 KiB deeper than the
 * scan, so that the scan's own frames cannot overwrite what the library
 * left, and the program re-executes itself with LD_BIND_NOW=1, so that
 * lazy binding cannot save a register holding a pattern on the stack. The
 * stack scan too first finds copies planted in a local buffer of the main
 * thread and of another thread, then sees them gone once wiped. (An
 * outside review found K_enc's key schedule, expanded per block, on these
 * stacks; before the fix this scan found, on the main stack, 2 copies of
 * K_enc, 1 of K_shuffle, 2 of each HMAC(K_mac) midstate and tens of round
 * keys of K_enc and K_shuffle, and on the workers' 1 or 2 copies of K_enc
 * and tens of its round keys.)
 *
 * Built by tests/ffi.sh with -Werror and run without sanitizers or
 * valgrind (both replace the allocator themselves).
 */
#define _GNU_SOURCE
/* SHA256_Init/Update are the only OpenSSL calls that expose a midstate. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ava3.h"

#include <dirent.h>
#include <malloc.h>
#include <openssl/aes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
/* The AES-256 key schedules (15 round keys of 16 bytes, in the byte order
 * AES-NI and ARMv8 keep them) of the three AES keys of a file. */
#define NSCHED 3
#define NROUND 15
static uint8_t schedules[NSCHED][NROUND][16];
static const char *schedule_names[NSCHED] = {"K_enc", "K_scramble", "K_shuffle"};
static const int schedule_pattern[NSCHED] = {1, 3, 4};

static atomic_int armed;
static atomic_long hits[NPAT];
static atomic_long schedule_hits[NSCHED];
static atomic_long scanned_chunks, scanned_bytes;

static void scan(const void *p, size_t n) {
    atomic_fetch_add(&scanned_chunks, 1);
    atomic_fetch_add(&scanned_bytes, (long)n);
    for (int i = 0; i < NPAT; i++) {
        if (n >= 32 && memmem(p, n, patterns[i], 32)) atomic_fetch_add(&hits[i], 1);
    }
    for (int s = 0; s < NSCHED; s++) {
        for (int r = 0; r < NROUND; r++) {
            if (n >= 16 && memmem(p, n, schedules[s][r], 16)) {
                atomic_fetch_add(&schedule_hits[s], 1);
                break;
            }
        }
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
    explicit_bzero(&c, sizeof c);
    explicit_bzero(block, sizeof block);
}

/* The expanded AES-256 key schedule of `key` by OpenSSL, as 15 round keys
 * in FIPS-197 byte order (OpenSSL keeps them as words, big-endian values
 * in its C code, bytes in its AES-NI code: both are accepted). */
static void key_schedule(const uint8_t key[32], uint8_t out[NROUND][16]) {
    AES_KEY k;
    if (AES_set_encrypt_key(key, 256, &k) != 0 || k.rounds != 14) abort();
    uint8_t *o = &out[0][0];
    memcpy(o, k.rd_key, NROUND * 16);
    if (memcmp(o, key, 32) != 0) {
        for (int w = 0; w < NROUND * 4; w++) {
            uint32_t v = k.rd_key[w];
            o[4 * w] = (uint8_t)(v >> 24);
            o[4 * w + 1] = (uint8_t)(v >> 16);
            o[4 * w + 2] = (uint8_t)(v >> 8);
            o[4 * w + 3] = (uint8_t)v;
        }
    }
    if (memcmp(o, key, 32) != 0) abort(); /* round keys 0 and 1 are the key */
    explicit_bzero(&k, sizeof k);
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
    for (int s = 0; s < NSCHED; s++) t += atomic_load(&schedule_hits[s]);
    return t;
}

static void report_hits(const char *when) {
    for (int i = 0; i < NPAT; i++) {
        long h = atomic_load(&hits[i]);
        CHECK(h == 0, "%s: %s found in %ld freed chunk(s)", when, pattern_names[i], h);
    }
    for (int s = 0; s < NSCHED; s++) {
        long h = atomic_load(&schedule_hits[s]);
        CHECK(h == 0, "%s: a round key of %s's AES schedule found in %ld freed chunk(s)", when,
              schedule_names[s], h);
    }
}

/* ---- Thread stacks ---- */

/* Occurrences of `pat` in [p, p + n). */
static long occurrences(const uint8_t *p, size_t n, const uint8_t *pat, size_t len) {
    long c = 0;
    while (n >= len) {
        const uint8_t *h = memmem(p, n, pat, len);
        if (!h) break;
        c++;
        n -= (size_t)(h - p) + 1;
        p = h + 1;
    }
    return c;
}

/* Where key material was found on stacks: [0] the main thread, [1] the
 * other threads. schedule: occurrences of any round key (16 bytes). */
struct stack_scan {
    long key[2][NPAT];
    long schedule[2][NSCHED];
    int threads;         /* other threads whose stack was scanned */
    long bytes[2];       /* bytes scanned */
};

/* The readable mapping of /proc/self/maps holding `addr`, or named `name`. */
static int find_mapping(uintptr_t addr, const char *name, uintptr_t *lo, uintptr_t *hi) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &a, &b, perms, &off) < 3 || perms[0] != 'r')
            continue;
        const char *path = line + off;
        while (*path == ' ') path++;
        if (name ? strncmp(path, name, strlen(name)) == 0 : (addr >= a && addr < b)) {
            *lo = a, *hi = b;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* The stack pointer of blocked thread `tid` (the second-to-last field of
 * /proc/self/task/TID/syscall); retried while the thread runs. */
static int thread_sp(long tid, uintptr_t *sp) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
    for (int tries = 0; tries < 500; tries++) {
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        char line[512];
        char *ok = fgets(line, sizeof line, f);
        fclose(f);
        if (!ok) return 0;
        if (strncmp(line, "running", 7) != 0) {
            char *tok[16];
            int n = 0;
            for (char *t = strtok(line, " \n"); t && n < 16; t = strtok(NULL, " \n")) tok[n++] = t;
            if (n < 3) return 0;
            *sp = (uintptr_t)strtoull(tok[n - 2], NULL, 16);
            return *sp != 0;
        }
        usleep(10000);
    }
    return 0;
}

static void scan_stack(struct stack_scan *r, int which, uintptr_t lo, uintptr_t hi) {
    const uint8_t *p = (const uint8_t *)lo;
    size_t n = hi - lo;
    r->bytes[which] += (long)n;
    for (int i = 0; i < NPAT; i++) r->key[which][i] += occurrences(p, n, patterns[i], 32);
    for (int s = 0; s < NSCHED; s++) {
        for (int k = 0; k < NROUND; k++) r->schedule[which][s] += occurrences(p, n, schedules[s][k], 16);
    }
}

/* Searches the stack of every thread of the process. Fails the test if a
 * stack cannot be found. */
static void scan_stacks(struct stack_scan *r) {
    memset(r, 0, sizeof *r);
    uintptr_t lo, hi;
    if (!find_mapping(0, "[stack]", &lo, &hi)) {
        CHECK(0, "no [stack] mapping in /proc/self/maps");
        return;
    }
    scan_stack(r, 0, lo, hi);
    long self = syscall(SYS_gettid);
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        CHECK(0, "cannot list /proc/self/task");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        long tid = strtol(e->d_name, NULL, 10);
        if (tid <= 0 || tid == self) continue;
        uintptr_t sp = 0;
        if (!thread_sp(tid, &sp) || !find_mapping(sp, NULL, &lo, &hi)) {
            CHECK(0, "cannot find the stack of thread %ld", tid);
            continue;
        }
        scan_stack(r, 1, lo, hi);
        r->threads++;
    }
    closedir(d);
}

static long stack_total(const struct stack_scan *r, int which) {
    long t = 0;
    for (int i = 0; i < NPAT; i++) t += r->key[which][i];
    for (int s = 0; s < NSCHED; s++) t += r->schedule[which][s];
    return t;
}

/* Fails for every pattern found on a stack. */
static void report_stacks(const char *when, const struct stack_scan *r) {
    static const char *where[2] = {"the main thread's stack", "the other threads' stacks"};
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < NPAT; i++) {
            CHECK(r->key[w][i] == 0, "%s: %s found %ld time(s) on %s", when, pattern_names[i],
                  r->key[w][i], where[w]);
        }
        for (int s = 0; s < NSCHED; s++) {
            CHECK(r->schedule[w][s] == 0, "%s: round keys of %s's AES schedule found %ld time(s) on %s",
                  when, schedule_names[s], r->schedule[w][s], where[w]);
        }
    }
    printf("heap_test: %s: scanned the main stack (%ld bytes) and %d other thread stack(s) (%ld "
           "bytes): %ld + %ld key pattern(s) found\n",
           when, r->bytes[0], r->threads, r->bytes[1], stack_total(r, 0), stack_total(r, 1));
}

/* A local buffer holding every pattern and every key schedule. */
#define PLANT_LEN (NPAT * 40 + NSCHED * NROUND * 16 + 64)
static void plant(uint8_t *buf) {
    memset(buf, 0x11, PLANT_LEN);
    for (int i = 0; i < NPAT; i++) memcpy(buf + 3 + 40 * i, patterns[i], 32);
    memcpy(buf + 5 + 40 * NPAT, schedules, sizeof schedules);
}

/* Every pattern and schedule found on stack `w` (0 main, 1 others). */
static void check_planted(const char *where, const struct stack_scan *r, int w) {
    for (int i = 0; i < NPAT; i++) {
        CHECK(r->key[w][i] >= 1, "stack self-test: %s planted on %s was not found", pattern_names[i],
              where);
        CHECK(r->key[1 - w][i] == 0, "stack self-test: %s planted on %s found elsewhere",
              pattern_names[i], where);
    }
    for (int s = 0; s < NSCHED; s++) {
        CHECK(r->schedule[w][s] >= NROUND, "stack self-test: %s's schedule planted on %s: %ld of %d "
              "round keys found", schedule_names[s], where, r->schedule[w][s], NROUND);
    }
}

static __attribute__((noinline)) void plant_on_main_stack(void) {
    uint8_t buf[PLANT_LEN];
    plant(buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    struct stack_scan r;
    scan_stacks(&r);
    check_planted("the main stack", &r, 0);
    explicit_bzero(buf, sizeof buf);
    scan_stacks(&r);
    report_stacks("stack self-test: once the main stack's copy was wiped", &r);
}

static sem_t planted, wipe, wiped, leave;

static void *planter(void *arg) {
    (void)arg;
    uint8_t buf[PLANT_LEN];
    plant(buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    sem_post(&planted);
    while (sem_wait(&wipe) != 0) {
    }
    explicit_bzero(buf, sizeof buf);
    sem_post(&wiped);
    while (sem_wait(&leave) != 0) {
    }
    return NULL;
}

static void plant_on_thread_stack(void) {
    pthread_t t;
    if (sem_init(&planted, 0, 0) || sem_init(&wipe, 0, 0) || sem_init(&wiped, 0, 0) ||
        sem_init(&leave, 0, 0) || pthread_create(&t, NULL, planter, NULL))
        abort();
    while (sem_wait(&planted) != 0) {
    }
    struct stack_scan r;
    scan_stacks(&r);
    CHECK(r.threads >= 1, "stack self-test: the planting thread's stack was not scanned");
    check_planted("a thread's stack", &r, 1);
    sem_post(&wipe);
    while (sem_wait(&wiped) != 0) {
    }
    scan_stacks(&r);
    report_stacks("stack self-test: once the thread's copy was wiped", &r);
    sem_post(&leave);
    pthread_join(t, NULL);
}

/* Wipes what this program's own computations (OpenSSL's) left below. */
static __attribute__((noinline)) void wipe_own_stack(void) {
    uint8_t area[256 * 1024];
    explicit_bzero(area, sizeof area);
    __asm__ volatile("" : : "r"(area) : "memory");
}

/* Runs `f` 64 KiB deeper than the caller: the stack scans, called from
 * main, then cannot overwrite what the library left on the main stack. */
static __attribute__((noinline)) void run_deep(void (*f)(void)) {
    volatile uint8_t pad[64 * 1024];
    pad[0] = 0;
    pad[sizeof pad - 1] = 0;
    f();
    __asm__ volatile("" : : "r"(pad) : "memory");
}

/* The vector: its key, its bytes, and the PRKs (static, not on the stack
 * the test searches). */
static uint8_t key[32], prk[32], id_prk[32];
static uint8_t *file;
static size_t len;

/* 2. A decoder's whole life, armed: a forged header (right key id, one MAC
 * bit flipped), a wrong key, then the right key, reads, a FILE*. */
static void decoder_life(void) {
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
    memset(plain, 0, size);
    free(plain);
    free(forged);
}

/* 4. A forged header that claims the largest block size (16 MiB) and a
 * 1 TiB model, with the right key id: refused by set_key before the
 * 16 MiB pad and shuffle tables are built. */
static long forged_request, forged_largest;
static void forged_16mib_header(void) {
    uint8_t hdr[128];
    memcpy(hdr, file, 128);
    uint32_t bs = 1u << 24;
    uint64_t plen = 1ull << 40;
    memcpy(hdr + 16, &bs, 4); /* le32 on every target this runs on */
    memcpy(hdr + 24, &plen, 8);
    atomic_store(&requested_bytes, 0);
    atomic_store(&largest_request, 0);
    Ava3Decoder *d = NULL;
    CHECK(ava3_decoder_open_buffer(hdr, sizeof hdr, &d) == AVA3_RESULT_OK, "open forged 16 MiB header");
    atomic_store(&counting, 1);
    Ava3Result r = ava3_decoder_set_key(d, key, 32);
    atomic_store(&counting, 0);
    CHECK(r == AVA3_RESULT_HEADER_FAILURE, "forged 16 MiB header: set_key gives %u", r);
    forged_request = atomic_load(&requested_bytes);
    forged_largest = atomic_load(&largest_request);
    ava3_decoder_free(d);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTOR_FILE\n", argv[0]);
        return 2;
    }
    /* The dynamic linker's lazy binding saves every vector register on the
     * stack at the first call of each C library function, and a register
     * may still hold what this program just copied (a planted pattern):
     * bind every symbol at start-up instead. */
    if (!getenv("LD_BIND_NOW")) {
        setenv("LD_BIND_NOW", "1", 1);
        execv("/proc/self/exe", argv);
        perror("execv /proc/self/exe");
        return 2;
    }
    file = read_vector(argv[1], &len, key);
    if (!file || len < 128) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    const uint8_t *salt = file + 32;

    /* The key material, from the spec. */
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
    for (int s = 0; s < NSCHED; s++) key_schedule(patterns[schedule_pattern[s]], schedules[s]);
    wipe_own_stack();

    /* 1. The scanners find what is there: plant each pattern in a chunk
     * (heap), then in a local buffer of the main thread and of another
     * thread (stacks). */
    atomic_store(&armed, 1);
    for (int i = 0; i < NPAT; i++) {
        uint8_t *planted = malloc(4096);
        memset(planted, 0x11, 4096);
        memcpy(planted + 1000 + i, patterns[i], 32);
        free(planted);
    }
    for (int s = 0; s < NSCHED; s++) {
        for (int k = 0; k < NROUND; k++) {
            uint8_t *planted = malloc(4096);
            memset(planted, 0x11, 4096);
            memcpy(planted + 2000 + k, schedules[s][k], 16);
            free(planted);
        }
    }
    atomic_store(&armed, 0);
    for (int i = 0; i < NPAT; i++) {
        CHECK(atomic_load(&hits[i]) == 1, "self-test: a planted %s was not found", pattern_names[i]);
        atomic_store(&hits[i], 0);
    }
    for (int s = 0; s < NSCHED; s++) {
        /* The planted K_enc, K_scramble, K_shuffle hold round keys 0 and 1. */
        CHECK(atomic_load(&schedule_hits[s]) == NROUND + 1,
              "self-test: %ld of %d planted round keys of %s found", atomic_load(&schedule_hits[s]),
              NROUND + 1, schedule_names[s]);
        atomic_store(&schedule_hits[s], 0);
    }
    atomic_store(&scanned_chunks, 0);
    atomic_store(&scanned_bytes, 0);
    struct stack_scan before;
    scan_stacks(&before);
    report_stacks("stacks before any decoder", &before);
    plant_on_main_stack();
    plant_on_thread_stack();

    /* 2. The decoder's life, deeper on the stack than the scans below. */
    run_deep(decoder_life);

    long chunks = atomic_load(&scanned_chunks);
    CHECK(chunks > 0, "the library freed nothing while armed: the scan saw nothing");
    report_hits("after ava3_decoder_free");
    printf("heap_test: scanned %ld freed chunks (%ld bytes) for %d key patterns and %d key schedules: "
           "%ld found\n",
           chunks, atomic_load(&scanned_bytes), NPAT, NSCHED, total_hits());

    /* 3. No thread's stack keeps key material either: the main thread's,
     * and the library's worker threads' (the FILE* read decodes blocks on
     * the rayon pool, whose threads live on). */
    struct stack_scan after;
    scan_stacks(&after);
    CHECK(after.threads >= 1, "no worker thread of the library was found: the scan saw only main");
    report_stacks("stacks after ava3_decoder_free", &after);

    /* 4. The forged header claiming 16 MiB blocks. */
    run_deep(forged_16mib_header);
    CHECK(forged_request < (1 << 20), "forged 16 MiB header: set_key allocated %ld bytes (limit 1 MiB)",
          forged_request);
    printf("heap_test: set_key on a forged header claiming 16 MiB blocks allocated %ld bytes "
           "(largest request %ld)\n",
           forged_request, forged_largest);
    scan_stacks(&after);
    report_stacks("stacks after a forged header", &after);

    free(file);
    printf("%d passed, %d failed\n", failed ? 0 : 3, failed ? 1 : 0);
    return failed ? 1 : 0;
}
