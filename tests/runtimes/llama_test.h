/*
 * What the llama.cpp test programs (llama_e2e.c, llama_path.c) share: the
 * check counters, a log callback that keeps only errors, and one fixed
 * prompt's logits. Test code only: static functions, one program each.
 */
#ifndef AVA3_LLAMA_TEST_H
#define AVA3_LLAMA_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* Runs a fixed prompt; returns the logits of its last token (malloc'd). */
static float *logits_of(struct llama_model *m, int32_t *n_vocab) {
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = 64;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    struct llama_context *ctx = llama_init_from_model(m, cp);
    if (!ctx) return NULL;
    llama_token prompt[] = {1, 40, 75, 104, 111, 200};
    float *out = NULL;
    if (llama_decode(ctx, llama_batch_get_one(prompt, 6)) == 0) {
        *n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
        out = malloc(sizeof(float) * (size_t)*n_vocab);
        memcpy(out, llama_get_logits_ith(ctx, -1), sizeof(float) * (size_t)*n_vocab);
    }
    llama_free(ctx);
    return out;
}

#endif
