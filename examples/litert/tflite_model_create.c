/*
 * LiteRT / TFLite C API: build a model from the library's page-aligned
 * plaintext buffer. The buffer must outlive the model and its interpreters.
 *
 *   cc tflite_model_create.c -I<ava3>/include -I<tensorflow> -lava3_decoder -ltensorflowlite_c
 *
 * Compiled here (examples/check.sh) with -fsyntax-only against a stub of the
 * TfLite declarations it uses. The same buffer path is run for real by
 * tests/runtimes/test_runtimes.py with the ai-edge-litert interpreter.
 */
#include <stdint.h>
#include <stdio.h>

#include "ava3.h"
#include "tensorflow/lite/c/c_api.h"

typedef struct {
    Ava3Buffer *plaintext; /* free after TfLiteModelDelete */
    TfLiteModel *model;
} ProtectedModel;

int load_protected_tflite(const char *path, const uint8_t key[32], ProtectedModel *out) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(path, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    Ava3Buffer *b = NULL;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_aligned(d, &b);
    ava3_decoder_free(d);
    if (r != AVA3_RESULT_OK) return -(int)r;
    TfLiteModel *m = TfLiteModelCreate(ava3_buffer_data(b), ava3_buffer_len(b));
    if (!m) {
        ava3_buffer_free(b);
        return -100;
    }
    out->plaintext = b;
    out->model = m;
    return 0;
}

void unload_protected_tflite(ProtectedModel *pm) {
    TfLiteModelDelete(pm->model);
    ava3_buffer_free(pm->plaintext); /* wiped, then freed */
}
