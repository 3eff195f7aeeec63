/*
 * Runs every vector of testdata/vectors through every entry point of
 * libava3_decoder and checks the outcome and the plaintext digest:
 * buffer + aligned decode, path + read_at, fd window + decode_to_buffer,
 * sequential read/seek, block streaming, memfd, FILE* (fread/fseek/ftell),
 * and read_at from 8 threads at once. Also the NULL guards, outputs left
 * untouched on failure, and the order rule: requirements and key are fixed
 * once a decoder hands out plaintext or a reader (AVA3_RESULT_REQUIREMENTS_
 * LOCKED), a stream callback calling back into its decoder.
 *
 *   ava3_test VECTOR_DIR [MIN_VECTORS]
 *
 * Built by tests/ffi.sh with -Wall -Wextra -Wpedantic -Werror, again with
 * -fsanitize=address,undefined, and run under valgrind.
 */
#define _GNU_SOURCE
#include "ava3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *vec, const char *what, ...) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, what);
    fprintf(stderr, "FAIL %s: ", vec);
    vfprintf(stderr, what, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

typedef struct {
    char name[256];
    char expect[64];
    uint8_t key[32];
    uint8_t payload[32];
    long long block;
    /* What the reader requires (spec 7.5): `require-*` lines. */
    int has_signer;
    uint8_t signer[32];
    /* Further require-signer lines (each trusts one more key). */
    int n_more;
    uint8_t more[3][32];
    char name_req[256];
    int has_name;
    long long min_version; /* -1: none */
    uint8_t *data;
    size_t len;
} Vector;

static int unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int load(const char *dir, const char *name, Vector *v) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *raw = malloc((size_t)size + 1);
    if (fread(raw, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(raw);
        return -1;
    }
    fclose(f);
    raw[size] = 0;
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->block = -1;
    v->min_version = -1;
    uint8_t *sep = memmem(raw, (size_t)size, "\n\n", 2);
    if (!sep) {
        free(raw);
        return -1;
    }
    *sep = 0;
    for (char *line = strtok((char *)raw, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "expect: ", 8)) snprintf(v->expect, sizeof v->expect, "%s", line + 8);
        else if (!strncmp(line, "key: ", 5)) unhex(line + 5, v->key, 32);
        else if (!strncmp(line, "payload: ", 9)) unhex(line + 9, v->payload, 32);
        else if (!strncmp(line, "block: ", 7)) v->block = atoll(line + 7);
        else if (!strncmp(line, "require-signer: ", 16)) {
            if (!v->has_signer) v->has_signer = !unhex(line + 16, v->signer, 32);
            else if (v->n_more < 3 && !unhex(line + 16, v->more[v->n_more], 32)) v->n_more++;
        }
        else if (!strncmp(line, "require-name: ", 14)) {
            v->has_name = 1;
            snprintf(v->name_req, sizeof v->name_req, "%s", line + 14);
        } else if (!strncmp(line, "require-min-version: ", 21)) v->min_version = atoll(line + 21);
    }
    v->len = (size_t)size - (size_t)(sep + 2 - raw);
    v->data = malloc(v->len ? v->len : 1);
    memcpy(v->data, sep + 2, v->len);
    free(raw);
    return 0;
}

static const char *outcome(Ava3Result r) {
    switch (r) {
    case AVA3_RESULT_OK: return "success";
    case AVA3_RESULT_NOT_AVA3: return "not ava3";
    case AVA3_RESULT_UNSUPPORTED_VERSION: return "unsupported version";
    case AVA3_RESULT_HEADER_FAILURE: return "header failure";
    case AVA3_RESULT_WRONG_KEY: return "wrong key";
    case AVA3_RESULT_BLOCK_FAILURE: return "block failure";
    case AVA3_RESULT_TRUNCATED: return "truncated";
    case AVA3_RESULT_TRAILER_FAILURE: return "trailer failure";
    case AVA3_RESULT_TRAILING_DATA: return "trailing data";
    case AVA3_RESULT_INTEGRITY_FAILURE: return "integrity failure";
    case AVA3_RESULT_BAD_SIGNATURE: return "bad signature";
    case AVA3_RESULT_UNKNOWN_SIGNER: return "unknown signer";
    case AVA3_RESULT_UNSIGNED: return "unsigned";
    case AVA3_RESULT_NAME_MISMATCH: return "name mismatch";
    case AVA3_RESULT_ROLLBACK: return "rollback";
    default: return "other";
    }
}

/* What a random-access decoder reports (spec 8.3): it checks the length
 * and the trailer when the key is set and does not read the keyless
 * digest. */
static const char *ra_expect(const Vector *v) {
    if (!strcmp(v->expect, "integrity failure")) return "success";
    if (!strcmp(v->name, "block_deleted") || !strcmp(v->name, "final_block_only_tag")) return "truncated";
    if (!strcmp(v->name, "final_block_twice")) return "trailing data";
    if (!strcmp(v->name, "header_from_other_file")) return "trailer failure";
    return v->expect;
}

typedef struct {
    EVP_MD_CTX *c;
} Sha;
static void sha_init(Sha *s) {
    s->c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(s->c, EVP_sha256(), NULL);
}
static void sha_update(Sha *s, const void *d, size_t n) { EVP_DigestUpdate(s->c, d, n); }
static void sha_final(Sha *s, uint8_t out[32]) {
    unsigned int n = 32;
    EVP_DigestFinal_ex(s->c, out, &n);
    EVP_MD_CTX_free(s->c);
}
static void sha(const uint8_t *d, size_t n, uint8_t out[32]) {
    Sha s;
    sha_init(&s);
    sha_update(&s, d, n);
    sha_final(&s, out);
}

/* Sets the key after a successful open; returns the first failure. (The
 * open must run before `d` is read: never pass both in one call.) */
/* The vector's requirements, in the order a device would set them. */
static Ava3Result require(Ava3Decoder *d, const Vector *v) {
    Ava3Result r = AVA3_RESULT_OK;
    if (r == AVA3_RESULT_OK && v->has_signer) r = ava3_decoder_trust_signer(d, v->signer, 32);
    for (int i = 0; r == AVA3_RESULT_OK && i < v->n_more; i++)
        r = ava3_decoder_trust_signer(d, v->more[i], 32);
    if (r == AVA3_RESULT_OK && v->has_name)
        r = ava3_decoder_require_name(d, (const uint8_t *)v->name_req, strlen(v->name_req));
    if (r == AVA3_RESULT_OK && v->min_version >= 0)
        r = ava3_decoder_require_min_version(d, (uint64_t)v->min_version);
    return r;
}

static Ava3Result keyed(Ava3Result opened, Ava3Decoder **d, const Vector *v) {
    if (opened != AVA3_RESULT_OK) return opened;
    Ava3Result r = require(*d, v);
    if (r != AVA3_RESULT_OK) return r;
    return ava3_decoder_set_key(*d, v->key, 32);
}

/* The requirements are fixed when set_key unlocks the file: set before
 * it, they reach the vector's outcome (through decode_aligned), and the
 * authenticated metadata is reported; once the key is set, another
 * requirement is refused (REQUIREMENTS_LOCKED) and changes nothing. */
static void requirements_fixed_at_the_key(const Vector *v, const char *want) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_buffer(v->data, v->len, &d);
    if (r == AVA3_RESULT_OK) r = require(d, v);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, v->key, 32);
    if (r == AVA3_RESULT_OK) {
        check(ava3_decoder_require_min_version(d, UINT64_MAX) == AVA3_RESULT_REQUIREMENTS_LOCKED, v->name,
              "a requirement after set_key is refused");
        check(ava3_decoder_trust_signer(d, v->key, 32) == AVA3_RESULT_REQUIREMENTS_LOCKED, v->name,
              "a signer after set_key is refused");
        /* Blocks are checked when read. */
        Ava3Buffer *b = NULL;
        r = ava3_decoder_decode_aligned(d, &b);
        ava3_buffer_free(b);
    }
    check(!strcmp(outcome(r), want), v->name, "requirements before set_key: got %s, want %s", outcome(r), want);
    if (r == AVA3_RESULT_OK) {
        /* The authenticated name, version, D and signer. */
        char name[300];
        size_t nlen = 99;
        uint64_t version = 99;
        uint8_t dsha[32], sid[16];
        check(ava3_decoder_model_name(d, (uint8_t *)name, sizeof name, &nlen) == AVA3_RESULT_OK, v->name, "model name");
        check(!v->has_name || (nlen == strlen(v->name_req) && !strcmp(name, v->name_req)), v->name, "model name value");
        size_t need = 0;
        Ava3Result small = ava3_decoder_model_name(d, NULL, 0, &need);
        check(need == nlen && small == AVA3_RESULT_INVALID_PARAMETER, v->name, "model name size query");
        check(ava3_decoder_model_version(d, &version) == AVA3_RESULT_OK, v->name, "model version");
        check(v->min_version < 0 || version >= (uint64_t)v->min_version, v->name, "model version value");
        check(ava3_decoder_plaintext_sha256(d, dsha, 32) == AVA3_RESULT_OK &&
                  (strcmp(v->expect, "success") || !memcmp(dsha, v->payload, 32)),
              v->name, "recorded plaintext sha256");
        Ava3Result sr = ava3_decoder_signer_id(d, sid, 16);
        check(v->has_signer ? sr == AVA3_RESULT_OK : sr == AVA3_RESULT_INVALID_PARAMETER, v->name, "signer id");
    }
    ava3_decoder_free(d);
}

typedef struct {
    Sha ctx;
    uint64_t next;
    int in_order;
} StreamState;

static int on_block(void *user, uint64_t offset, const uint8_t *data, size_t len) {
    StreamState *s = user;
    if (offset != s->next) s->in_order = 0;
    s->next = offset + len;
    sha_update(&s->ctx, data, len);
    return 0;
}

typedef struct {
    const Ava3Decoder *d;
    const uint8_t *plain;
    uint64_t len;
    unsigned seed;
    int errors;
} ThreadArg;

static void *reader_thread(void *p) {
    ThreadArg *a = p;
    uint8_t buf[70000];
    for (int i = 0; i < 40; i++) {
        a->seed = a->seed * 1103515245u + 12345u;
        uint64_t off = a->len ? (a->seed >> 4) % a->len : 0;
        size_t want = (size_t)((a->seed >> 8) % sizeof buf);
        size_t got = 0;
        if (ava3_decoder_read_at(a->d, off, buf, want, &got) != AVA3_RESULT_OK) {
            a->errors++;
            continue;
        }
        size_t expect = (size_t)(a->len - off < want ? a->len - off : want);
        if (got != expect || memcmp(buf, a->plain + off, got) != 0) a->errors++;
    }
    return NULL;
}

static char tmpdir[256];

static void run_vector(const Vector *v) {
    const char *want = ra_expect(v);
    int success = !strcmp(want, "success");
    requirements_fixed_at_the_key(v, want);
    uint8_t digest[32];
    uint8_t *plain = NULL;
    uint64_t plen = 0;

    /* 1. buffer + decode_aligned */
    {
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_buffer(v->data, v->len, &d), &d, v);
        Ava3Buffer *b = NULL;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_aligned(d, &b);
        check(!strcmp(outcome(r), want), v->name, "buffer/aligned: got %s, want %s", outcome(r), want);
        if (r == AVA3_RESULT_OK) {
            const uint8_t *p = ava3_buffer_data(b);
            size_t n = ava3_buffer_len(b);
            check(((uintptr_t)p % 4096) == 0, v->name, "aligned buffer not page-aligned");
            sha(p, n, digest);
            check(!memcmp(digest, v->payload, 32), v->name, "aligned: plaintext digest");
            plain = malloc(n ? n : 1);
            memcpy(plain, p, n);
            plen = n;
            uint64_t size = 0;
            check(ava3_decoder_plaintext_size(d, &size) == AVA3_RESULT_OK && size == n, v->name, "plaintext size");
        } else if (r == AVA3_RESULT_BLOCK_FAILURE) {
            uint64_t idx = 0;
            ava3_decoder_failed_block(d, &idx);
            check((long long)idx == v->block, v->name, "failed block %llu, want %lld", (unsigned long long)idx, v->block);
            check(b == NULL, v->name, "buffer returned on failure");
        }
        ava3_buffer_free(b);
        /* The header is readable before a key, for a file that opened. */
        if (d) {
            uint8_t id[16];
            uint32_t kind = 99;
            check(ava3_decoder_key_id(d, id, 16) == AVA3_RESULT_OK, v->name, "key id");
            check(ava3_decoder_payload_kind(d, &kind) == AVA3_RESULT_OK && kind <= 3, v->name, "payload kind");
        }
        ava3_decoder_free(d);
    }

    /* 2. path + read_at in odd-sized pieces */
    char path[512];
    snprintf(path, sizeof path, "%s/v.ava3", tmpdir);
    {
        FILE *f = fopen(path, "wb");
        fwrite(v->data, 1, v->len, f);
        fclose(f);
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_path(path, &d), &d, v);
        Sha ctx;
        sha_init(&ctx);
        uint64_t off = 0;
        uint8_t buf[7777];
        while (r == AVA3_RESULT_OK) {
            size_t got = 0;
            r = ava3_decoder_read_at(d, off, buf, sizeof buf, &got);
            if (r != AVA3_RESULT_OK || got == 0) break;
            sha_update(&ctx, buf, got);
            off += got;
        }
        sha_final(&ctx, digest);
        check(!strcmp(outcome(r), want), v->name, "path/read_at: got %s, want %s", outcome(r), want);
        if (success) check(!memcmp(digest, v->payload, 32), v->name, "read_at: plaintext digest");
        ava3_decoder_free(d);
    }

    /* 3. fd window (model inside a bigger file) + decode_to_buffer, and the
     * sequential read/seek. */
    {
        char wpath[512];
        snprintf(wpath, sizeof wpath, "%s/w.bin", tmpdir);
        FILE *f = fopen(wpath, "wb");
        uint8_t junk[1000];
        memset(junk, 0x5a, sizeof junk);
        fwrite(junk, 1, 1000, f);
        fwrite(v->data, 1, v->len, f);
        fwrite(junk, 1, 500, f);
        fclose(f);
        int fd = open(wpath, O_RDONLY);
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_fd(fd, 1000, v->len, &d), &d, v);
        close(fd); /* the decoder holds its own descriptor */
        uint64_t size = 0;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_plaintext_size(d, &size);
        uint8_t *out = malloc(size ? size : 1);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_buffer(d, out, size);
        check(!strcmp(outcome(r), want), v->name, "fd/decode_to_buffer: got %s, want %s", outcome(r), want);
        if (r == AVA3_RESULT_OK) {
            sha(out, size, digest);
            check(!memcmp(digest, v->payload, 32), v->name, "fd: plaintext digest");
            check(ava3_decoder_decode_to_buffer(d, out, size + 1) == AVA3_RESULT_INVALID_PARAMETER, v->name, "wrong size accepted");
            if (size > 10) {
                size_t got = 0;
                uint8_t b10[10];
                check(ava3_decoder_seek(d, size - 10) == AVA3_RESULT_OK, v->name, "seek");
                check(ava3_decoder_read(d, b10, 10, &got) == AVA3_RESULT_OK && got == 10 && !memcmp(b10, out + size - 10, 10), v->name, "read after seek");
                check(ava3_decoder_read(d, b10, 10, &got) == AVA3_RESULT_OK && got == 0, v->name, "read at end");
                got = 99;
                check(ava3_decoder_read_at(d, size + 12345, b10, 10, &got) == AVA3_RESULT_OK && got == 0,
                      v->name, "read_at past the end: OK with 0 bytes, as ava3.h says");
            }
        }
        free(out);
        ava3_decoder_free(d);
    }

    /* 4. streaming by block */
    {
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_buffer(v->data, v->len, &d), &d, v);
        StreamState s;
        sha_init(&s.ctx);
        s.next = 0;
        s.in_order = 1;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_stream(d, on_block, &s);
        sha_final(&s.ctx, digest);
        check(!strcmp(outcome(r), want), v->name, "stream: got %s, want %s", outcome(r), want);
        check(s.in_order, v->name, "stream: blocks out of order");
        /* Everything released before a block failure is the vector's payload. */
        if (success || !strcmp(want, "block failure"))
            check(!memcmp(digest, v->payload, 32), v->name, "stream: released plaintext digest");
        ava3_decoder_free(d);
    }

    /* 5. memfd: sealed, read back by descriptor */
    {
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_path(path, &d), &d, v);
        int fd = -1;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_memfd(d, &fd);
        check(!strcmp(outcome(r), want), v->name, "memfd: got %s, want %s", outcome(r), want);
        if (r == AVA3_RESULT_OK) {
            uint8_t *back = malloc(plen ? plen : 1);
            ssize_t n = pread(fd, back, plen, 0);
            check(n == (ssize_t)plen, v->name, "memfd: short read");
            sha(back, plen, digest);
            check(!memcmp(digest, v->payload, 32), v->name, "memfd: plaintext digest");
            int seals = fcntl(fd, F_GET_SEALS);
            check(seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW), v->name, "memfd not sealed");
            check(pwrite(fd, "x", 1, 0) < 0, v->name, "memfd writable");
            check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, v->name, "memfd: descriptor not read-only");
            if (plen > 0) {
                /* As LiteRtCreateModelFromFd and llama.cpp's mmap loader map
                 * it: read-only and shared. Before Linux 6.7 this fails with
                 * EPERM on a writable descriptor sealed with F_SEAL_WRITE. */
                void *m = mmap(NULL, plen, PROT_READ, MAP_SHARED, fd, 0);
                check(m != MAP_FAILED, v->name, "memfd: mmap(PROT_READ, MAP_SHARED): %s", strerror(errno));
                if (m != MAP_FAILED) {
                    check(!memcmp(m, plain, plen), v->name, "memfd: mapped plaintext");
                    munmap(m, plen);
                }
                check(mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED, v->name,
                      "memfd: mapped writable and shared");
                /* A path-only loader reopens /proc/self/fd/N and maps that. */
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                int fd2 = open(proc, O_RDONLY | O_CLOEXEC);
                check(fd2 >= 0, v->name, "memfd: reopen %s: %s", proc, strerror(errno));
                if (fd2 >= 0) {
                    m = mmap(NULL, plen, PROT_READ, MAP_SHARED, fd2, 0);
                    check(m != MAP_FAILED && !memcmp(m, plain, plen), v->name, "memfd: mapped through /proc");
                    if (m != MAP_FAILED) munmap(m, plen);
                    close(fd2);
                }
            }
            free(back);
            close(fd);
        } else {
            check(fd == -1, v->name, "memfd: descriptor written on failure");
        }
        ava3_decoder_free(d);
    }

    /* 6. FILE*: fread in uneven pieces, then fseek/ftell */
    {
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_buffer(v->data, v->len, &d), &d, v);
        FILE *f = NULL;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_fopen(d, 1 << 20, &f);
        if (r == AVA3_RESULT_OK) {
            ava3_decoder_free(d); /* the FILE keeps what it needs */
            d = NULL;
            Sha ctx;
            sha_init(&ctx);
            uint8_t buf[100000];
            size_t step = 1, total = 0, n;
            errno = 0;
            while ((n = fread(buf, 1, step, f)) > 0) {
                sha_update(&ctx, buf, n);
                total += n;
                step = step * 3 + 1;
                if (step > sizeof buf) step = 4093;
            }
            sha_final(&ctx, digest);
            if (!success) {
                /* Opened, then a block fails: fread stops with EBADMSG. */
                check(ferror(f) && errno == EBADMSG, v->name, "FILE: want a read error with EBADMSG");
                check(!strcmp(want, "block failure"), v->name, "FILE: opened, want %s", want);
                fclose(f);
                ava3_decoder_free(d);
                goto done_file;
            }
            check(!ferror(f), v->name, "FILE: read error");
            check(total == plen && !memcmp(digest, v->payload, 32), v->name, "FILE: plaintext digest");
            check(ftell(f) == (long)plen, v->name, "FILE: ftell at end");
            if (plen > 100) {
                check(fseek(f, -100, SEEK_END) == 0 && ftell(f) == (long)plen - 100, v->name, "FILE: fseek end");
                check(fread(buf, 1, 100, f) == 100 && !memcmp(buf, plain + plen - 100, 100), v->name, "FILE: tail");
                check(fseek(f, 7, SEEK_SET) == 0 && fread(buf, 1, 50, f) == 50 && !memcmp(buf, plain + 7, 50), v->name, "FILE: fseek set");
                check(fseek(f, 3, SEEK_CUR) == 0 && ftell(f) == 60, v->name, "FILE: fseek cur");
            }
            /* Past the end, also to a block multiple: EOF, not an error. */
            if (v->block > 0) {
                long past = (long)(((plen / (size_t)v->block) + 2) * (size_t)v->block);
                clearerr(f);
                check(fseek(f, past, SEEK_SET) == 0, v->name, "FILE: fseek past the end");
                errno = 0;
                check(fread(buf, 1, sizeof buf, f) == 0 && feof(f) && !ferror(f), v->name,
                      "FILE: fread past the end must be EOF (errno %d)", errno);
            }
            fclose(f);
        } else {
            check(!strcmp(outcome(r), want), v->name, "FILE: got %s, want %s", outcome(r), want);
        }
        ava3_decoder_free(d);
    }
done_file:

    /* 7. read_at from 8 threads at once */
    if (success && plen > 0) {
        Ava3Decoder *d = NULL;
        Ava3Result r = keyed(ava3_decoder_open_path(path, &d), &d, v);
        check(r == AVA3_RESULT_OK, v->name, "threads: open");
        pthread_t t[8];
        ThreadArg a[8];
        for (int i = 0; i < 8; i++) {
            a[i] = (ThreadArg){d, plain, plen, (unsigned)(i * 7919 + 1), 0};
            pthread_create(&t[i], NULL, reader_thread, &a[i]);
        }
        int errors = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(t[i], NULL);
            errors += a[i].errors;
        }
        check(errors == 0, v->name, "threads: %d mismatches", errors);
        ava3_decoder_free(d);
    }
    free(plain);
}

static void guards(void) {
    Ava3Decoder *d = NULL;
    size_t n = 0;
    uint8_t buf[4];
    check(ava3_decoder_open_path(NULL, &d) == AVA3_RESULT_NULL_PARAMETER, "guards", "open_path(NULL)");
    check(ava3_decoder_open_path("/nonexistent/x.ava3", &d) == AVA3_RESULT_IO && d == NULL, "guards", "missing file");
    check(ava3_decoder_open_buffer(NULL, 10, &d) == AVA3_RESULT_NULL_PARAMETER, "guards", "open_buffer(NULL, 10)");
    check(ava3_decoder_open_buffer(buf, 4, NULL) == AVA3_RESULT_NULL_PARAMETER, "guards", "open_buffer out NULL");
    check(ava3_decoder_read_at(NULL, 0, buf, 4, &n) == AVA3_RESULT_NULL_PARAMETER, "guards", "read_at(NULL)");
    check(ava3_decoder_set_key(NULL, buf, 4) == AVA3_RESULT_NULL_PARAMETER, "guards", "set_key(NULL)");
    check(ava3_decoder_stream(NULL, NULL, NULL) == AVA3_RESULT_NULL_PARAMETER, "guards", "stream(NULL)");
    ava3_decoder_free(NULL);
    ava3_buffer_free(NULL);
    check(ava3_buffer_data(NULL) == NULL && ava3_buffer_len(NULL) == 0, "guards", "buffer NULL");
    char msg[128];
    size_t full = ava3_result_message(AVA3_RESULT_WRONG_KEY, msg, sizeof msg);
    check(full == strlen(msg) && strstr(msg, "wrong key") != NULL, "guards", "message");
    char tiny[5];
    ava3_result_message(AVA3_RESULT_WRONG_KEY, tiny, sizeof tiny);
    check(strlen(tiny) == 4, "guards", "message truncation");
    check(ava3_result_message(AVA3_RESULT_OK, NULL, 0) == 7, "guards", "message length only");
    check(!strcmp(ava3_version(), AVA3_VERSION_STRING), "guards", "version macro");

    /* Lengths past PTRDIFF_MAX describe no object: rejected, never used. */
    check(ava3_decoder_open_buffer(buf, SIZE_MAX, &d) == AVA3_RESULT_INVALID_PARAMETER && d == NULL, "guards",
          "open_buffer(len = SIZE_MAX)");
}

/* Arguments that must fail cleanly on an open, keyed decoder. */
static void limits(const Vector *v) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_buffer(v->data, v->len, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, v->key, 32);
    check(r == AVA3_RESULT_OK, v->name, "limits: open");
    uint8_t small[16];
    size_t n = 99;
    check(ava3_decoder_read_at(d, 0, small, SIZE_MAX, &n) == AVA3_RESULT_INVALID_PARAMETER && n == 99, v->name,
          "read_at(len = SIZE_MAX) into a small buffer");
    check(ava3_decoder_read_at(d, 0, small, (size_t)PTRDIFF_MAX + 1, &n) == AVA3_RESULT_INVALID_PARAMETER, v->name,
          "read_at(len = PTRDIFF_MAX + 1)");
    FILE *f = NULL;
    check(ava3_decoder_fopen(d, SIZE_MAX / 2, &f) == AVA3_RESULT_INVALID_PARAMETER && f == NULL, v->name,
          "fopen with a huge buffer is an error, not an abort");
    check(ava3_decoder_fopen(d, ((size_t)256 << 20) + 1, &f) == AVA3_RESULT_INVALID_PARAMETER && f == NULL, v->name,
          "fopen just over the documented cap");
    ava3_decoder_free(d);
}


/* ---- The order rule: requirements, then the key, then readers. ---- */

/* The directory the vector files really live in (the valgrind run passes
 * a sample of symlinks, which may not hold the forged vectors). */
static int load_named(const char *dir, const char *name, Vector *v) {
    char p[1024], real[PATH_MAX];
    snprintf(p, sizeof p, "%s/success_v2_signed", dir);
    if (!realpath(p, real)) return -1;
    return load(dirname(real), name, v);
}

/* Reads a FILE* to its end: 0 and the digest and length of what it gave,
 * or the errno of a read error. */
static int read_file_all(FILE *f, uint8_t digest[32], size_t *total) {
    Sha ctx;
    sha_init(&ctx);
    uint8_t buf[4099];
    size_t n;
    *total = 0;
    errno = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha_update(&ctx, buf, n);
        *total += n;
    }
    int err = ferror(f) ? (errno ? errno : -1) : 0;
    sha_final(&ctx, digest);
    return err;
}

static int locked_everywhere(Ava3Decoder *d, const Vector *v) {
    return ava3_decoder_trust_signer(d, v->signer, 32) == AVA3_RESULT_REQUIREMENTS_LOCKED &&
           ava3_decoder_require_name(d, (const uint8_t *)"x", 1) == AVA3_RESULT_REQUIREMENTS_LOCKED &&
           ava3_decoder_require_min_version(d, 99) == AVA3_RESULT_REQUIREMENTS_LOCKED &&
           ava3_decoder_set_key(d, v->key, 32) == AVA3_RESULT_REQUIREMENTS_LOCKED;
}

static int on_block_nop(void *user, uint64_t offset, const uint8_t *data, size_t len) {
    (void)offset;
    (void)data;
    *(size_t *)user += len;
    return 0;
}

/* set_key locks the key and the requirements, before and after each call
 * that hands out plaintext or a reader; a refused call changes nothing. */
static void lock_after_each_handout(const Vector *v) {
    static const char *const kinds[] = {"fopen", "read_at", "read", "stream", "decode_to_buffer", "decode_aligned",
                                        "decode_to_memfd"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const char *what = kinds[k];
        Ava3Decoder *d = NULL;
        Ava3Result r = ava3_decoder_open_buffer(v->data, v->len, &d);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_trust_signer(d, v->signer, 32);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, v->key, 32);
        check(r == AVA3_RESULT_OK, "order", "%s: open: %s", what, outcome(r));
        if (r != AVA3_RESULT_OK) {
            ava3_decoder_free(d);
            continue;
        }
        /* set_key fixed the key and the requirements; metadata reads and
         * failed calls work as before. */
        uint64_t size = 0, version = 0, idx = 0;
        size_t nlen = 0;
        char name[300];
        uint8_t sid[16], dsha[32], one[1];
        Ava3CacheStats st;
        check(ava3_decoder_plaintext_size(d, &size) == AVA3_RESULT_OK &&
                  ava3_decoder_model_name(d, (uint8_t *)name, sizeof name, &nlen) == AVA3_RESULT_OK &&
                  ava3_decoder_model_version(d, &version) == AVA3_RESULT_OK &&
                  ava3_decoder_plaintext_sha256(d, dsha, 32) == AVA3_RESULT_OK &&
                  ava3_decoder_signer_id(d, sid, 16) == AVA3_RESULT_OK &&
                  ava3_decoder_failed_block(d, &idx) == AVA3_RESULT_OK &&
                  ava3_decoder_cache_stats(d, &st) == AVA3_RESULT_OK && ava3_decoder_seek(d, 0) == AVA3_RESULT_OK,
              "order", "%s: metadata", what);
        check(ava3_decoder_decode_to_buffer(d, one, size == 1 ? 0 : 1) == AVA3_RESULT_INVALID_PARAMETER, "order",
              "%s: a wrong-size decode fails", what);
        check(locked_everywhere(d, v), "order", "%s: key and requirements not locked by set_key", what);
        uint8_t *out = malloc(size ? size : 1);
        FILE *f = NULL;
        int fd = -1;
        size_t got = 0, streamed = 0;
        Ava3Buffer *b = NULL;
        switch (k) {
        case 0: r = ava3_decoder_fopen(d, 0, &f); break;
        case 1: r = ava3_decoder_read_at(d, 0, out, size, &got); break;
        case 2: r = ava3_decoder_read(d, out, size, &got); break;
        case 3: r = ava3_decoder_stream(d, on_block_nop, &streamed); break;
        case 4: r = ava3_decoder_decode_to_buffer(d, out, size); break;
        case 5: r = ava3_decoder_decode_aligned(d, &b); break;
        default: r = ava3_decoder_decode_to_memfd(d, &fd); break;
        }
        check(r == AVA3_RESULT_OK, "order", "%s: hand-out: %s", what, outcome(r));
        check(locked_everywhere(d, v), "order", "%s: key and requirements not locked after a hand-out", what);
        /* Unchanged: the same key, the same requirements, still reading. */
        uint64_t size2 = 0;
        check(ava3_decoder_plaintext_size(d, &size2) == AVA3_RESULT_OK && size2 == size &&
                  ava3_decoder_signer_id(d, sid, 16) == AVA3_RESULT_OK,
              "order", "%s: state changed by a refused call", what);
        memset(out, 0, size ? size : 1);
        check(ava3_decoder_read_at(d, 0, out, size, &got) == AVA3_RESULT_OK && got == size, "order",
              "%s: read_at after the refusal", what);
        uint8_t digest[32];
        sha(out, size, digest);
        check(!memcmp(digest, v->payload, 32), "order", "%s: plaintext after the refusal", what);
        if (f) {
            size_t total = 0;
            check(read_file_all(f, digest, &total) == 0 && total == size && !memcmp(digest, v->payload, 32), "order",
                  "%s: the FILE* after the refusal", what);
            fclose(f);
        }
        if (fd >= 0) close(fd);
        ava3_buffer_free(b);
        free(out);
        ava3_decoder_free(d);
    }
}

/* A requirement after set_key and fopen is refused, and the FILE* works
 * as before: it was made under the policy fixed at set_key (none), and
 * nothing may seem to reach it. */
static void requirement_after_fopen(const Vector *file, const Vector *signed_v) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_buffer(file->data, file->len, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, file->key, 32);
    uint64_t size = 0;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_plaintext_size(d, &size);
    uint8_t *plain = malloc(size ? size : 1);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_buffer(d, plain, size);
    check(r == AVA3_RESULT_OK, file->name, "after fopen: open: %s", outcome(r));
    ava3_decoder_free(d);
    d = NULL;
    /* A fresh decoder: set_key, fopen, then the requirement. */
    FILE *f = NULL;
    r = ava3_decoder_open_buffer(file->data, file->len, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, file->key, 32);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_fopen(d, 1 << 16, &f);
    check(r == AVA3_RESULT_OK, file->name, "after fopen: fopen: %s", outcome(r));
    if (r == AVA3_RESULT_OK) {
        r = ava3_decoder_trust_signer(d, signed_v->signer, 32);
        check(r == AVA3_RESULT_REQUIREMENTS_LOCKED, file->name, "trust_signer after fopen: got %d, want %d", (int)r,
              (int)AVA3_RESULT_REQUIREMENTS_LOCKED);
        check(ava3_decoder_require_min_version(d, 1000) == AVA3_RESULT_REQUIREMENTS_LOCKED, file->name,
              "require_min_version after fopen");
        uint8_t digest[32], want[32];
        size_t total = 0;
        sha(plain, size, want);
        check(read_file_all(f, digest, &total) == 0 && total == size && !memcmp(digest, want, 32), file->name,
              "the FILE* made before the refused requirement reads as before");
        fclose(f);
        /* The decoder is as it was: no signer required, a key set. */
        f = NULL;
        check(ava3_decoder_fopen(d, 0, &f) == AVA3_RESULT_OK, file->name, "fopen after the refusal");
        check(f && read_file_all(f, digest, &total) == 0 && !memcmp(digest, want, 32), file->name,
              "second FILE* after the refusal");
        if (f) fclose(f);
        uint8_t sid[16];
        check(ava3_decoder_signer_id(d, sid, 16) == AVA3_RESULT_INVALID_PARAMETER, file->name,
              "no signer was added by the refused call");
    }
    free(plain);
    ava3_decoder_free(d);
}

/* A requirement set before fopen applies to the FILE*: opened on the
 * genuine signed file, which is then re-sealed in place by a master-key
 * holder (block 1 replaced, keyless digest recomputed), the FILE* refuses
 * the re-sealed block (EBADMSG); one made without the requirement does
 * not. */
static void requirement_before_fopen(const Vector *genuine, const Vector *forged) {
    check(genuine->len == forged->len, forged->name, "same length as the genuine file");
    if (genuine->len != forged->len) return;
    /* What the re-sealed file decodes to without a signer. */
    uint8_t forged_digest[32] = {0};
    {
        Ava3Decoder *d = NULL;
        uint64_t size = 0;
        Ava3Result r = ava3_decoder_open_buffer(forged->data, forged->len, &d);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, forged->key, 32);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_plaintext_size(d, &size);
        uint8_t *plain = malloc(size ? size : 1);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_buffer(d, plain, size);
        check(r == AVA3_RESULT_OK, forged->name, "decodes without a signer: %s", outcome(r));
        sha(plain, size, forged_digest);
        free(plain);
        ava3_decoder_free(d);
    }
    for (int with_signer = 1; with_signer >= 0; with_signer--) {
        char path[512];
        snprintf(path, sizeof path, "%s/swap.ava3", tmpdir);
        FILE *w = fopen(path, "wb");
        fwrite(genuine->data, 1, genuine->len, w);
        fclose(w);
        Ava3Decoder *d = NULL;
        Ava3Result r = ava3_decoder_open_path(path, &d);
        if (r == AVA3_RESULT_OK && with_signer) r = ava3_decoder_trust_signer(d, genuine->signer, 32);
        if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, genuine->key, 32);
        FILE *f = NULL;
        if (r == AVA3_RESULT_OK) r = ava3_decoder_fopen(d, 1 << 20, &f);
        check(r == AVA3_RESULT_OK, forged->name, "before fopen (signer %d): open: %s", with_signer, outcome(r));
        /* The same inode, rewritten in place. */
        int fd = open(path, O_WRONLY);
        check(fd >= 0 && pwrite(fd, forged->data, forged->len, 0) == (ssize_t)forged->len, forged->name, "rewrite");
        if (fd >= 0) close(fd);
        if (f) {
            uint8_t digest[32];
            size_t total = 0;
            int err = read_file_all(f, digest, &total);
            if (with_signer) {
                uint64_t idx = 0;
                ava3_decoder_failed_block(d, &idx);
                check(err == EBADMSG && idx == 1, forged->name,
                      "FILE* under a signer set before fopen: want EBADMSG at block 1, got errno %d, block %llu", err,
                      (unsigned long long)idx);
            } else {
                check(err == 0 && !memcmp(digest, forged_digest, 32), forged->name,
                      "FILE* without a signer reads the re-sealed file (errno %d)", err);
            }
            fclose(f);
        }
        ava3_decoder_free(d);
        unlink(path);
    }
}

/* ---- A stream callback that calls back into its own decoder. ---- */

typedef struct {
    Ava3Decoder *d;
    const Vector *v;
    Sha ctx;
    int calls;
    int refused;
} Reentry;

static int reentrant_block(void *user, uint64_t offset, const uint8_t *data, size_t len) {
    Reentry *e = user;
    (void)offset;
    /* Forbidden by the header (a non-const call during a stream), made
     * harmless: each is refused and frees nothing the stream uses. */
    Ava3Result a = ava3_decoder_require_min_version(e->d, 1000);
    Ava3Result b = ava3_decoder_set_key(e->d, e->v->key, 32);
    Ava3Result c = ava3_decoder_trust_signer(e->d, e->v->signer, 32);
    if (a == AVA3_RESULT_REQUIREMENTS_LOCKED && b == AVA3_RESULT_REQUIREMENTS_LOCKED &&
        c == AVA3_RESULT_REQUIREMENTS_LOCKED)
        e->refused++;
    e->calls++;
    sha_update(&e->ctx, data, len);
    return 0;
}

static void stream_reentry(const Vector *v) {
    Ava3Decoder *d = NULL;
    Ava3Result r = keyed(ava3_decoder_open_buffer(v->data, v->len, &d), &d, v);
    check(r == AVA3_RESULT_OK, v->name, "reentry: open: %s", outcome(r));
    if (r != AVA3_RESULT_OK) {
        ava3_decoder_free(d);
        return;
    }
    Reentry e = {d, v, {0}, 0, 0};
    sha_init(&e.ctx);
    r = ava3_decoder_stream(d, reentrant_block, &e);
    uint8_t digest[32];
    sha_final(&e.ctx, digest);
    check(r == AVA3_RESULT_OK, v->name, "reentry: stream: %s", outcome(r));
    check(e.calls > 1 && e.refused == e.calls, v->name, "reentry: %d of %d callbacks refused", e.refused, e.calls);
    check(!memcmp(digest, v->payload, 32), v->name, "reentry: streamed plaintext");
    /* The decoder still reads, under the same requirements. */
    uint8_t buf[64], sid[16];
    size_t got = 0;
    check(ava3_decoder_read_at(d, 0, buf, sizeof buf, &got) == AVA3_RESULT_OK &&
              ava3_decoder_signer_id(d, sid, 16) == AVA3_RESULT_OK,
          v->name, "reentry: decoder after the stream");
    ava3_decoder_free(d);
}

/* ---- Outputs are written only on success. ---- */

static void outputs_only_on_success(const Vector *v) {
    const char *n = "outputs";
    Ava3Decoder *d = NULL;
    check(ava3_decoder_open_buffer(v->data, v->len, &d) == AVA3_RESULT_OK, n, "open");
    size_t len = 12345;
    uint8_t buf[64];
    memset(buf, 0x77, sizeof buf);
    /* Before the key: nothing known, nothing written. */
    check(ava3_decoder_model_name(d, buf, sizeof buf, &len) == AVA3_RESULT_INVALID_PARAMETER && len == 12345, n,
          "model_name before the key wrote *out_len");
    uint64_t u = 777;
    check(ava3_decoder_model_version(d, &u) == AVA3_RESULT_INVALID_PARAMETER && u == 777, n, "model_version");
    check(ava3_decoder_plaintext_sha256(d, buf, 32) == AVA3_RESULT_INVALID_PARAMETER && buf[0] == 0x77, n,
          "plaintext_sha256");
    check(ava3_decoder_signer_id(d, buf, 16) == AVA3_RESULT_INVALID_PARAMETER && buf[0] == 0x77, n, "signer_id");
    Ava3Buffer *b = (Ava3Buffer *)&u; /* a sentinel, never dereferenced */
    check(ava3_decoder_decode_aligned(d, &b) == AVA3_RESULT_INVALID_PARAMETER && b == (Ava3Buffer *)&u, n,
          "decode_aligned");
    int fd = -7;
    check(ava3_decoder_decode_to_memfd(d, &fd) == AVA3_RESULT_INVALID_PARAMETER && fd == -7, n, "decode_to_memfd");
    FILE *f = (FILE *)&u;
    check(ava3_decoder_fopen(d, 0, &f) == AVA3_RESULT_INVALID_PARAMETER && f == (FILE *)&u, n, "fopen");
    check(ava3_decoder_key_id(d, buf, 15) == AVA3_RESULT_INVALID_PARAMETER && buf[0] == 0x77, n, "key_id");
    Ava3Decoder *d2 = (Ava3Decoder *)&u;
    check(ava3_decoder_open_buffer(buf, 8, &d2) != AVA3_RESULT_OK && d2 == (Ava3Decoder *)&u, n,
          "open_buffer of junk");
    check(ava3_decoder_set_key(d, v->key, 32) == AVA3_RESULT_OK, n, "set_key");
    /* The finding: a NULL buffer with a non-zero capacity wrote *out_len. */
    len = 12345;
    Ava3Result r = ava3_decoder_model_name(d, NULL, 5, &len);
    check(r == AVA3_RESULT_NULL_PARAMETER && len == 12345, n, "model_name(d, NULL, 5, &len): %d, wrote len = %zu",
          (int)r, len);
    len = 12345;
    r = ava3_decoder_model_name(d, buf, SIZE_MAX, &len);
    check(r == AVA3_RESULT_INVALID_PARAMETER && len == 12345, n, "model_name(cap past PTRDIFF_MAX): %d, len = %zu",
          (int)r, len);
    len = 12345;
    check(ava3_decoder_model_name(NULL, buf, sizeof buf, &len) == AVA3_RESULT_NULL_PARAMETER && len == 12345, n,
          "model_name(NULL decoder) wrote len");
    len = 12345;
    /* The documented exception: too small a buffer gives the length. */
    check(ava3_decoder_model_name(d, buf, 3, &len) == AVA3_RESULT_INVALID_PARAMETER && len == strlen(v->name_req) &&
              buf[0] == 0x77,
          n, "model_name: too small a buffer gives only *out_len");
    size_t got = 999;
    check(ava3_decoder_read_at(d, 0, NULL, 4, &got) == AVA3_RESULT_NULL_PARAMETER && got == 999, n, "read_at NULL");
    check(ava3_decoder_read(d, NULL, 4, &got) == AVA3_RESULT_NULL_PARAMETER && got == 999, n, "read NULL");
    ava3_decoder_free(d);
}

static void order_rule(const char *dir) {
    Vector signed_v, forged, unsigned_v;
    if (load_named(dir, "success_v2_signed", &signed_v)) {
        check(0, "order", "cannot load success_v2_signed");
        return;
    }
    if (load_named(dir, "forged_block_keyless_recomputed", &forged) ||
        load_named(dir, "success_v2_unsigned_name_version", &unsigned_v)) {
        check(0, "order", "cannot load the forged or the unsigned vector");
        free(signed_v.data);
        return;
    }
    lock_after_each_handout(&signed_v);
    requirement_after_fopen(&unsigned_v, &signed_v);
    requirement_after_fopen(&forged, &signed_v);
    requirement_before_fopen(&signed_v, &forged);
    stream_reentry(&signed_v);
    outputs_only_on_success(&signed_v);
    free(signed_v.data);
    free(forged.data);
    free(unsigned_v.data);
}

/* Says how this kernel treats a shared read-only mapping of a memfd sealed
 * with F_SEAL_WRITE through its own writable descriptor: refused before
 * Linux 6.7 (as on every Android GKI kernel), allowed since. The kernel VM
 * test (tests/device/kernel-vm.sh) checks that it runs where it is refused,
 * so that the memfd checks above meet the old rule. */
static void memfd_kernel_probe(void) {
    struct utsname u;
    uname(&u);
    int fd = memfd_create("ava3-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 4096) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0) {
        printf("memfd probe: kernel %s %s: cannot set up (%s)\n", u.release, u.machine, strerror(errno));
        if (fd >= 0) close(fd);
        return;
    }
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("memfd probe: kernel %s %s: shared read-only map of a write-sealed writable memfd: %s\n", u.release,
           u.machine, m == MAP_FAILED ? (errno == EPERM ? "EPERM (before 6.7)" : strerror(errno)) : "allowed (6.7+)");
    if (m != MAP_FAILED) munmap(m, 4096);
    close(fd);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s VECTOR_DIR [MIN_VECTORS]\n", argv[0]);
        return 2;
    }
    /* The whole set has more than 40; a sample (valgrind) says how many. */
    int min_vectors = argc == 3 ? atoi(argv[2]) : 40;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ava3-ctest-XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    memfd_kernel_probe();
    guards();
    order_rule(argv[1]);
    DIR *dir = opendir(argv[1]);
    if (!dir) return 2;
    struct dirent *e;
    int count = 0;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        Vector v;
        if (load(argv[1], e->d_name, &v)) {
            check(0, e->d_name, "cannot parse vector");
            continue;
        }
        run_vector(&v);
        if (!strcmp(v.expect, "success") && v.len > 0 && !strcmp(v.name, "success_3_blocks_partial")) limits(&v);
        free(v.data);
        count++;
    }
    closedir(dir);
    char p[512];
    snprintf(p, sizeof p, "%s/v.ava3", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/w.bin", tmpdir);
    unlink(p);
    rmdir(tmpdir);
    check(count >= min_vectors, "main", "only %d vectors", count);
    printf("(%d vectors)\nc-abi: %d passed, %d failed\n", count, passed, failed);
    return failed ? 1 : 0;
}
