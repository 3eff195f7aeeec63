/*
 * One load of a GGUF model by real llama.cpp, timed: from the first call
 * (open) to the logits of a first evaluation of 8 tokens, in this process,
 * and its peak RSS. tests/bench/llama-load.sh runs each path in a fresh
 * process, alternating, and prints the table.
 *
 *   llama_load MODE MODEL [KEYHEX]
 *
 * MODE
 *   plain-mmap   the plain GGUF by path, llama.cpp's default (lazy mmap)
 *   plain-read   the plain GGUF by path, read into memory (no mmap): the
 *                baseline decrypt-at-load is held to
 *   fileptr      the .ava3 through the C ABI's FILE*, as
 *                examples/llama_cpp/load_ava3.c does it (that function)
 *   memfd        the .ava3 decoded into the sealed memfd, then
 *                /proc/self/fd/N by path with mmap on
 *   memfd-read   the same memfd, read (no mmap)
 *   decode       only the decode into the memfd (no llama.cpp)
 *
 * Prints one line: MODE MILLISECONDS PEAK_RSS_KIB FIRST_LOGIT.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ava3.h"
#include "llama.h"

struct llama_model *load_protected_model(const char *path, const uint8_t key[32]);

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int memfd_of(const char *path, const uint8_t key[32]) {
    Ava3Decoder *d = NULL;
    int fd = -1;
    Ava3Result r = ava3_decoder_open_path(path, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_memfd(d, &fd);
    ava3_decoder_free(d);
    if (r != AVA3_RESULT_OK) fprintf(stderr, "ava3: result %d\n", (int)r);
    return r == AVA3_RESULT_OK ? fd : -1;
}

static struct llama_model *by_path(const char *path, enum llama_load_mode mode) {
    struct llama_model_params p = llama_model_default_params();
    p.load_mode = mode;
    return llama_model_load_from_file(path, p);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODE MODEL [KEYHEX]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    uint8_t key[32] = {0};
    if (argc > 3 && strlen(argv[3]) == 64)
        for (int i = 0; i < 32; i++) sscanf(argv[3] + 2 * i, "%2hhx", &key[i]);
    llama_log_set(quiet, NULL);
    llama_backend_init();

    double t0 = now_ms();
    struct llama_model *m = NULL;
    int fd = -1;
    char fdpath[64];
    if (!strcmp(mode, "plain-mmap")) {
        m = by_path(path, LLAMA_LOAD_MODE_MMAP);
    } else if (!strcmp(mode, "plain-read")) {
        m = by_path(path, LLAMA_LOAD_MODE_NONE);
    } else if (!strcmp(mode, "fileptr")) {
        m = load_protected_model(path, key);
    } else if (!strcmp(mode, "memfd") || !strcmp(mode, "memfd-read") || !strcmp(mode, "decode")) {
        fd = memfd_of(path, key);
        if (fd < 0) return 1;
        if (!strcmp(mode, "decode")) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("%s %.1f %ld 0\n", mode, now_ms() - t0, ru.ru_maxrss);
            return 0;
        }
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
        m = by_path(fdpath, !strcmp(mode, "memfd") ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    if (!m) {
        fprintf(stderr, "%s: the model did not load\n", mode);
        return 1;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = 64;
    /* One thread per core this process may use (taskset included): more
     * would spin against each other. */
    cpu_set_t cpus;
    int n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    cp.n_threads = cp.n_threads_batch = n;
    struct llama_context *ctx = llama_init_from_model(m, cp);
    llama_token prompt[8] = {1, 40, 75, 104, 111, 200, 33, 90};
    if (!ctx || llama_decode(ctx, llama_batch_get_one(prompt, 8)) != 0) {
        fprintf(stderr, "%s: the first evaluation failed\n", mode);
        return 1;
    }
    float first = llama_get_logits_ith(ctx, -1)[0];
    double ms = now_ms() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s %.1f %ld %.9g\n", mode, ms, ru.ru_maxrss, (double)first);
    llama_free(ctx);
    llama_model_free(m);
    if (fd >= 0) close(fd);
    llama_backend_free();
    return 0;
}
