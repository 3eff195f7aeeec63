/*
 * LiteRT (CompiledModel C API): run a protected .amr.ava3 model with no
 * plaintext on disk. The model is decrypted into the library's page-aligned
 * buffer and LiteRtCreateModelFromBuffer uses that buffer in place (no copy),
 * so the buffer lives until the model is destroyed, then is wiped and freed.
 * CPU only: the CPU accelerator is built into libLiteRt.so, no dispatch or
 * accelerator library is loaded.
 *
 * Build (libLiteRt.so from the ai-edge-litert wheel, which ships no header:
 * litert_c_api.h declares the functions used, from LiteRT's litert/c/):
 *
 *   LITERT=<site-packages>/ai_edge_litert
 *   cc -std=c11 -I<ava3>/ava3-decoder-ffi/include litert_load.c your_app.c \
 *      -L<ava3>/target/release -lava3_decoder "$LITERT/libLiteRt.so" \
 *      -Wl,-rpath,<ava3>/target/release:"$LITERT" -o your_app
 *
 * Run end to end by tests/runtimes/test_litert_c.py (driver
 * tests/runtimes/litert_e2e.c); compiled by examples/check.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ava3.h"
#include "litert_c_api.h"

/* Results: 0, an Ava3Result (1-22) from the ava3_* call that failed, or: */
enum {
    LOAD_ERR_NO_MEMORY = 100,
    LOAD_ERR_ENVIRONMENT = 101, /* LiteRtCreateEnvironment */
    LOAD_ERR_MODEL = 102,       /* LiteRtCreateModelFromBuffer: not a LiteRT model */
    LOAD_ERR_OPTIONS = 103,     /* LiteRtCreateOptions, _SetOptionsHardwareAccelerators */
    LOAD_ERR_COMPILE = 104,     /* LiteRtCreateCompiledModel */
    LOAD_ERR_SIGNATURE = 105,   /* not one static float32 input and output */
    LOAD_ERR_TENSOR_BUFFER = 106,
    LOAD_ERR_RUN = 107,         /* LiteRtRunCompiledModel */
    LOAD_ERR_SIZE = 108,        /* the caller's element count is not the tensor's */
};

typedef struct ProtectedLiteRt {
    Ava3Buffer *plaintext; /* freed last: the model points into it */
    LiteRtEnvironment env;
    LiteRtModel model;
    LiteRtOptions options;
    LiteRtCompiledModel compiled;
    LiteRtTensorBuffer input, output;
    size_t input_count, output_count; /* float32 elements */
} ProtectedLiteRt;

void protected_litert_close(ProtectedLiteRt *m);

static int litert_failed(int code, const char *what, LiteRtStatus s) {
    fprintf(stderr, "litert_load: %s failed: LiteRtStatus %d\n", what, (int)s);
    return code;
}

/* A host-memory buffer for a static float32 tensor; its element count. */
static int tensor_buffer(LiteRtEnvironment env, LiteRtTensor t, LiteRtTensorBuffer *out, size_t *count) {
    LiteRtRankedTensorType type;
    LiteRtStatus s = LiteRtGetRankedTensorType(t, &type);
    if (s != kLiteRtStatusOk) return litert_failed(LOAD_ERR_SIGNATURE, "LiteRtGetRankedTensorType", s);
    if (type.element_type != kLiteRtElementTypeFloat32) return LOAD_ERR_SIGNATURE;
    size_t n = 1;
    for (unsigned i = 0; i < type.layout.rank; i++) {
        if (type.layout.dimensions[i] < 0) return LOAD_ERR_SIGNATURE; /* dynamic */
        n *= (size_t)type.layout.dimensions[i];
    }
    s = LiteRtCreateManagedTensorBuffer(env, kLiteRtTensorBufferTypeHostMemory, &type, n * sizeof(float), out);
    if (s != kLiteRtStatusOk) return litert_failed(LOAD_ERR_TENSOR_BUFFER, "LiteRtCreateManagedTensorBuffer", s);
    *count = n;
    return 0;
}

/* Opens the model of signature 0, which must have one float32 input and
 * one float32 output of static shape. On success *out is to be freed with
 * protected_litert_close. */
int protected_litert_open(const char *path, const uint8_t key[32], ProtectedLiteRt **out) {
    ProtectedLiteRt *m = calloc(1, sizeof *m);
    if (!m) return LOAD_ERR_NO_MEMORY;
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(path, &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_aligned(d, &m->plaintext);
    ava3_decoder_free(d);
    if (r != AVA3_RESULT_OK) {
        free(m);
        return (int)r;
    }

    int rc = 0;
    LiteRtStatus s;
    LiteRtSignature sig;
    LiteRtParamIndex n_in = 0, n_out = 0;
    LiteRtTensor t_in, t_out;
    if ((s = LiteRtCreateEnvironment(0, NULL, &m->env)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_ENVIRONMENT, "LiteRtCreateEnvironment", s);
    else if ((s = LiteRtCreateModelFromBuffer(m->env, ava3_buffer_data(m->plaintext),
                                              ava3_buffer_len(m->plaintext), &m->model)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_MODEL, "LiteRtCreateModelFromBuffer", s);
    else if ((s = LiteRtCreateOptions(&m->options)) != kLiteRtStatusOk ||
             (s = LiteRtSetOptionsHardwareAccelerators(m->options, kLiteRtHwAcceleratorCpu)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_OPTIONS, "creating the CPU options", s);
    else if ((s = LiteRtCreateCompiledModel(m->env, m->model, m->options, &m->compiled)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_COMPILE, "LiteRtCreateCompiledModel", s);
    else if ((s = LiteRtGetModelSignature(m->model, 0, &sig)) != kLiteRtStatusOk ||
             (s = LiteRtGetNumSignatureInputs(sig, &n_in)) != kLiteRtStatusOk ||
             (s = LiteRtGetNumSignatureOutputs(sig, &n_out)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_SIGNATURE, "reading signature 0", s);
    else if (n_in != 1 || n_out != 1)
        rc = LOAD_ERR_SIGNATURE;
    else if ((s = LiteRtGetSignatureInputTensorByIndex(sig, 0, &t_in)) != kLiteRtStatusOk ||
             (s = LiteRtGetSignatureOutputTensorByIndex(sig, 0, &t_out)) != kLiteRtStatusOk)
        rc = litert_failed(LOAD_ERR_SIGNATURE, "reading the signature's tensors", s);
    else if ((rc = tensor_buffer(m->env, t_in, &m->input, &m->input_count)) == 0)
        rc = tensor_buffer(m->env, t_out, &m->output, &m->output_count);
    if (rc != 0) {
        protected_litert_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* Copies `in` into the input tensor, runs the model, copies the output
 * tensor into `out`. The counts are float32 elements. */
int protected_litert_run(ProtectedLiteRt *m, const float *in, size_t in_count, float *out, size_t out_count) {
    if (in_count != m->input_count || out_count != m->output_count) return LOAD_ERR_SIZE;
    void *host;
    LiteRtStatus s = LiteRtLockTensorBuffer(m->input, &host, kLiteRtTensorBufferLockModeWrite);
    if (s != kLiteRtStatusOk) return litert_failed(LOAD_ERR_TENSOR_BUFFER, "LiteRtLockTensorBuffer", s);
    memcpy(host, in, in_count * sizeof(float));
    if ((s = LiteRtUnlockTensorBuffer(m->input)) != kLiteRtStatusOk)
        return litert_failed(LOAD_ERR_TENSOR_BUFFER, "LiteRtUnlockTensorBuffer", s);

    s = LiteRtRunCompiledModel(m->compiled, 0, 1, &m->input, 1, &m->output);
    if (s != kLiteRtStatusOk) return litert_failed(LOAD_ERR_RUN, "LiteRtRunCompiledModel", s);

    if ((s = LiteRtLockTensorBuffer(m->output, &host, kLiteRtTensorBufferLockModeRead)) != kLiteRtStatusOk)
        return litert_failed(LOAD_ERR_TENSOR_BUFFER, "LiteRtLockTensorBuffer", s);
    memcpy(out, host, out_count * sizeof(float));
    if ((s = LiteRtUnlockTensorBuffer(m->output)) != kLiteRtStatusOk)
        return litert_failed(LOAD_ERR_TENSOR_BUFFER, "LiteRtUnlockTensorBuffer", s);
    return 0;
}

/* Frees everything, the plaintext last (wiped by ava3_buffer_free). NULL is allowed. */
void protected_litert_close(ProtectedLiteRt *m) {
    if (!m) return;
    if (m->input) LiteRtDestroyTensorBuffer(m->input);
    if (m->output) LiteRtDestroyTensorBuffer(m->output);
    if (m->compiled) LiteRtDestroyCompiledModel(m->compiled);
    if (m->options) LiteRtDestroyOptions(m->options);
    if (m->model) LiteRtDestroyModel(m->model);
    if (m->env) LiteRtDestroyEnvironment(m->env);
    ava3_buffer_free(m->plaintext);
    free(m);
}
