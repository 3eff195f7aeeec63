/*
 * llama.cpp end to end, with the real libllama: the same tiny model loaded
 * from the plain GGUF by path and from the AVA3 file through the decoder's
 * FILE* (examples/llama_cpp/load_ava3.c, linked in as it is), one prompt
 * through both, and the logits must be bit-identical. A wrong key and a
 * file with one flipped byte must both fail to load.
 *
 *   llama_e2e PLAIN.gguf MODEL.ava3 TAMPERED.ava3 KEYHEX
 *
 * Built and run by tests/llama-cpp.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"
#include "llama_test.h"

struct llama_model *load_protected_model(const char *path, const uint8_t key[32]);

int main(int argc, char **argv) {
    if (argc != 5 || strlen(argv[4]) != 64) {
        fprintf(stderr, "usage: %s PLAIN.gguf MODEL.ava3 TAMPERED.ava3 KEYHEX\n", argv[0]);
        return 2;
    }
    uint8_t key[32], wrong[32] = {0};
    for (int i = 0; i < 32; i++) sscanf(argv[4] + 2 * i, "%2hhx", &key[i]);
    llama_log_set(quiet, NULL);
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.load_mode = LLAMA_LOAD_MODE_NONE;
    struct llama_model *plain = llama_model_load_from_file(argv[1], mp);
    struct llama_model *prot = load_protected_model(argv[2], key);
    check(plain != NULL, "plain model loads by path");
    check(prot != NULL, "protected model loads through the AVA3 FILE*");
    if (plain && prot) compare_models(plain, prot, "llama.cpp");
    llama_model_free(plain);
    llama_model_free(prot);
    struct llama_model *bad = load_protected_model(argv[2], wrong);
    check(bad == NULL, "a wrong key loads nothing");
    llama_model_free(bad);
    bad = load_protected_model(argv[3], key);
    check(bad == NULL, "a flipped byte in a block loads nothing");
    llama_model_free(bad);
    llama_backend_free();
    printf("llama.cpp: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
