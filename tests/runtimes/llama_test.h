/*
 * What the llama.cpp test programs (llama_e2e.c, llama_path.c) share: the
 * check counters, a log callback that keeps only errors, one fixed
 * prompt's logits, and the comparison of a protected model with the plain
 * one. Test code only: static functions, one program each.
 */
#ifndef AVA3_LLAMA_TEST_H
#define AVA3_LLAMA_TEST_H

#include <math.h>
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

/* The protected model must be the plain one: the same parameter count and,
 * for the fixed prompt, finite, non-zero and bit-identical logits. Prints
 * one line starting with `label`. */
static void compare_models(struct llama_model *plain, struct llama_model *prot, const char *label) {
    check(llama_model_n_params(plain) == llama_model_n_params(prot), "same parameter count");
    int32_t n1 = 0, n2 = 0;
    float *a = logits_of(plain, &n1), *b = logits_of(prot, &n2);
    check(a && b && n1 == n2 && n1 > 0, "both models decode the prompt");
    if (a && b && n1 == n2) {
        int finite = 1, nonzero = 0;
        for (int32_t i = 0; i < n1; i++) {
            if (!isfinite(a[i])) finite = 0;
            if (a[i] != 0.0f) nonzero = 1;
        }
        int same = !memcmp(a, b, sizeof(float) * (size_t)n1);
        check(finite && nonzero, "logits are finite and not all zero");
        check(same, "logits are bit-identical");
        printf("%s: %d logits, first %.6f, bit-identical: %s\n", label, n1, (double)b[0], same ? "yes" : "no");
    }
    free(a);
    free(b);
}

#endif
