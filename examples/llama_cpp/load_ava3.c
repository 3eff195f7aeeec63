/*
 * llama.cpp: load an AVA3-protected GGUF model through a FILE*, no
 * plaintext on disk.
 *
 *   cc load_ava3.c -I<ava3>/include -I<llama.cpp>/include -I<llama.cpp>/ggml/include \
 *      -lava3_decoder -lllama
 *
 * Written against llama.cpp as vendored by llama-cpp-python 0.3.36 (whose
 * `llama_model_params` has `load_mode`, not the older `use_mmap`). Run for
 * real by tests/llama-cpp.sh: built against that sdist's headers and
 * libllama, it loads a protected model whose logits must equal those of the
 * plain model, bit for bit.
 */
#include <stdio.h>
#include <stdint.h>

#include "ava3.h"
#include "llama.h"

struct llama_model *load_protected_model(const char *path, const uint8_t key[32]) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(path, &d);
    uint32_t kind = 0;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_payload_kind(d, &kind);
    if (r == AVA3_RESULT_OK && kind != AVA3_PAYLOAD_GGUF) r = AVA3_RESULT_INVALID_PARAMETER;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    FILE *f = NULL;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_fopen(d, 1 << 20, &f); /* 1 MiB stdio buffer */
    ava3_decoder_free(d);                                             /* the FILE keeps its own reference */
    if (r != AVA3_RESULT_OK) {
        char msg[128];
        ava3_result_message(r, msg, sizeof msg);
        fprintf(stderr, "ava3: %s\n", msg);
        return NULL;
    }
    struct llama_model_params params = llama_model_default_params();
    params.load_mode = LLAMA_LOAD_MODE_NONE; /* a cookie FILE has no descriptor to map */
    struct llama_model *model = llama_model_load_from_file_ptr(f, params);
    fclose(f);
    return model;
}
