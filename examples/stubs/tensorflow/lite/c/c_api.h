/* Stub for examples/check.sh: the TfLite C API declarations
 * examples/litert/tflite_model_create.c uses. */
#include <stddef.h>
typedef struct TfLiteModel TfLiteModel;
TfLiteModel *TfLiteModelCreate(const void *model_data, size_t model_size);
void TfLiteModelDelete(TfLiteModel *model);
