/*
 * The part of LiteRT's C API that litert_load.c uses, declared here because
 * no registry package ships LiteRT's C headers: the ai-edge-litert 2.3.0
 * wheel (and ai-edge-litert-nightly 2.4.0.dev20261026) ship libLiteRt.so and
 * no header; the tensorflow 2.21.0 wheel has neither litert/c/ nor
 * tensorflow/lite/c/.
 *
 * Source: https://github.com/google-ai-edge/LiteRT (Apache-2.0), files
 *   litert/c/litert_common.h          LiteRtStatus, handles, LiteRtHwAccelerators,
 *                                     LiteRtHwAcceleratorSet, LiteRtParamIndex,
 *                                     LiteRtTensorBufferLockMode
 *   litert/c/litert_layout.h          LiteRtLayout, LITERT_TENSOR_MAX_RANK
 *   litert/c/litert_model_types.h     LiteRtElementType, LiteRtRankedTensorType
 *   litert/c/litert_tensor_buffer_types.h  LiteRtTensorBufferType
 *   litert/c/litert_environment.h, litert_model.h, litert_options.h,
 *   litert_compiled_model.h, litert_tensor_buffer.h   the functions
 * at commit 19a1585ff7c66779793d339fa7f85fc5a58f4db0 ("Bump LiteRT SDK
 * versions to 2.3.0", 2026-08-14, litert/version.bzl
 * LITERT_EXPERIMENTAL_VERSION = "2.3.0"). The copy of the repository used
 * (main up to 2026-08-21) has no v2.3.0 tag, its last release tag being
 * v2.2.0, and the wheel was built from a later commit (its libLiteRt.so
 * exports 4 builder/metrics functions that copy lacks). Every declaration
 * and constant below is the same at v2.2.0 (145c7523ff08), at 19a1585ff7c6
 * and at main of 2026-08-21 (f67457790c9c), and every function is exported
 * by the 2.3.0 wheel's libLiteRt.so (nm -D). Only the enum constants used
 * are listed; their values are those of the source. Declarations only, no
 * code; C11.
 */
#ifndef AVA3_EXAMPLE_LITERT_C_API_H
#define AVA3_EXAMPLE_LITERT_C_API_H

#include <stddef.h>
#include <stdint.h>

/* litert_common.h */
typedef enum {
    kLiteRtStatusOk = 0,
} LiteRtStatus;

typedef struct LiteRtEnvironmentT *LiteRtEnvironment;
typedef struct LiteRtModelT *LiteRtModel;
typedef struct LiteRtSignatureT *LiteRtSignature;
typedef struct LiteRtTensorT *LiteRtTensor;
typedef struct LiteRtOptionsT *LiteRtOptions;
typedef struct LiteRtCompiledModelT *LiteRtCompiledModel;
typedef struct LiteRtTensorBufferT *LiteRtTensorBuffer;

typedef enum LiteRtHwAccelerators {
    kLiteRtHwAcceleratorCpu = 1 << 0,
    _kLiteRtHwAcceleratorNegativeDummy = -1, /* keeps the source's int type */
} LiteRtHwAccelerators;
typedef int LiteRtHwAcceleratorSet;
typedef size_t LiteRtParamIndex;

typedef enum {
    kLiteRtTensorBufferLockModeRead = 0,
    kLiteRtTensorBufferLockModeWrite = 1,
} LiteRtTensorBufferLockMode;

/* litert_layout.h, litert_model_types.h: 68 and 72 bytes (asserted there). */
#define LITERT_TENSOR_MAX_RANK 8
typedef struct {
    unsigned int rank : 7;
    unsigned int has_strides : 1;
    int32_t dimensions[LITERT_TENSOR_MAX_RANK];
    uint32_t strides[LITERT_TENSOR_MAX_RANK];
} LiteRtLayout;

typedef enum {
    kLiteRtElementTypeFloat32 = 1,
} LiteRtElementType;

typedef struct {
    LiteRtElementType element_type;
    LiteRtLayout layout;
} LiteRtRankedTensorType;

#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
_Static_assert(sizeof(LiteRtLayout) == 68, "LiteRtLayout size");
_Static_assert(offsetof(LiteRtLayout, dimensions) == 4, "LiteRtLayout.dimensions");
_Static_assert(offsetof(LiteRtLayout, strides) == 36, "LiteRtLayout.strides");
_Static_assert(sizeof(LiteRtRankedTensorType) == 72, "LiteRtRankedTensorType size");
_Static_assert(offsetof(LiteRtRankedTensorType, layout) == 4, "LiteRtRankedTensorType.layout");
#endif

/* litert_tensor_buffer_types.h */
typedef enum {
    kLiteRtTensorBufferTypeHostMemory = 1,
} LiteRtTensorBufferType;

/* litert_environment_options.h defines LiteRtEnvOption (24 bytes); only a
 * NULL pointer to it is passed here, so it stays incomplete. */
typedef struct LiteRtEnvOption LiteRtEnvOption;

/* litert_environment.h */
LiteRtStatus LiteRtCreateEnvironment(int num_options, const LiteRtEnvOption *options,
                                     LiteRtEnvironment *environment);
void LiteRtDestroyEnvironment(LiteRtEnvironment environment);

/* litert_model.h */
LiteRtStatus LiteRtCreateModelFromBuffer(LiteRtEnvironment environment, const void *buffer_addr,
                                         size_t buffer_size, LiteRtModel *model);
void LiteRtDestroyModel(LiteRtModel model);
LiteRtStatus LiteRtGetModelSignature(LiteRtModel model, LiteRtParamIndex signature_index,
                                     LiteRtSignature *signature);
LiteRtStatus LiteRtGetNumSignatureInputs(LiteRtSignature signature, LiteRtParamIndex *num_inputs);
LiteRtStatus LiteRtGetNumSignatureOutputs(LiteRtSignature signature, LiteRtParamIndex *num_outputs);
LiteRtStatus LiteRtGetSignatureInputTensorByIndex(LiteRtSignature signature,
                                                  LiteRtParamIndex input_idx, LiteRtTensor *tensor);
LiteRtStatus LiteRtGetSignatureOutputTensorByIndex(LiteRtSignature signature,
                                                   LiteRtParamIndex output_idx, LiteRtTensor *tensor);
LiteRtStatus LiteRtGetRankedTensorType(LiteRtTensor tensor, LiteRtRankedTensorType *ranked_tensor_type);

/* litert_options.h */
LiteRtStatus LiteRtCreateOptions(LiteRtOptions *options);
void LiteRtDestroyOptions(LiteRtOptions options);
LiteRtStatus LiteRtSetOptionsHardwareAccelerators(LiteRtOptions options,
                                                  LiteRtHwAcceleratorSet hardware_accelerators);

/* litert_compiled_model.h */
LiteRtStatus LiteRtCreateCompiledModel(LiteRtEnvironment environment, LiteRtModel model,
                                       LiteRtOptions compilation_options,
                                       LiteRtCompiledModel *compiled_model);
LiteRtStatus LiteRtRunCompiledModel(LiteRtCompiledModel compiled_model,
                                    LiteRtParamIndex signature_index, size_t num_input_buffers,
                                    LiteRtTensorBuffer *input_buffers, size_t num_output_buffers,
                                    LiteRtTensorBuffer *output_buffers);
void LiteRtDestroyCompiledModel(LiteRtCompiledModel compiled_model);

/* litert_tensor_buffer.h */
LiteRtStatus LiteRtCreateManagedTensorBuffer(LiteRtEnvironment env, LiteRtTensorBufferType buffer_type,
                                             const LiteRtRankedTensorType *tensor_type,
                                             size_t buffer_size, LiteRtTensorBuffer *buffer);
LiteRtStatus LiteRtLockTensorBuffer(LiteRtTensorBuffer tensor_buffer, void **host_mem_addr,
                                    LiteRtTensorBufferLockMode lock_mode);
LiteRtStatus LiteRtUnlockTensorBuffer(LiteRtTensorBuffer buffer);
void LiteRtDestroyTensorBuffer(LiteRtTensorBuffer buffer);

#endif /* AVA3_EXAMPLE_LITERT_C_API_H */
