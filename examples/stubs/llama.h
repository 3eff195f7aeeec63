/* Stub for examples/check.sh: the two llama.cpp declarations
 * examples/llama_cpp/load_ava3.c uses, as llama.h declares them. */
#include <stdbool.h>
#include <stdio.h>
struct llama_model;
struct llama_model_params { bool use_mmap; };
struct llama_model_params llama_model_default_params(void);
struct llama_model *llama_model_load_from_file_ptr(FILE *file, struct llama_model_params params);
