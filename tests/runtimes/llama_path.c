/*
 * llama.cpp loading a protected model BY PATH, with mmap on: the decoder
 * decrypts into its sealed memfd (ava3_decoder_decode_to_memfd), and the real
 * libllama opens "/proc/self/fd/N" with LLAMA_LOAD_MODE_MMAP, as it would a
 * plain file. The plain GGUF is loaded from its own path the same way; one
 * prompt through both, and the logits must be bit-identical. Also checked:
 * the memfd is sealed and read-only, and llama.cpp really mapped it (a
 * shared read-only mapping of the memfd's inode in /proc/self/maps).
 *
 *   llama_path PLAIN.gguf MODEL.ava3 KEYHEX
 *
 * Built and run by tests/llama-cpp.sh.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#include "ava3.h"
#include "llama.h"
#include "llama_test.h"

/* The sealed memfd holding the plaintext of MODEL.ava3, or -1. */
static int protected_memfd(const char *path, const uint8_t key[32]) {
    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(path, &d);
    uint32_t kind = 0;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_payload_kind(d, &kind);
    if (r == AVA3_RESULT_OK && kind != AVA3_PAYLOAD_GGUF) r = AVA3_RESULT_INVALID_PARAMETER;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    int fd = -1;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_memfd(d, &fd);
    ava3_decoder_free(d); /* the memfd does not need the decoder */
    if (r != AVA3_RESULT_OK) {
        char msg[128];
        ava3_result_message(r, msg, sizeof msg);
        fprintf(stderr, "ava3: %s\n", msg);
        return -1;
    }
    return fd;
}

/* 1 if /proc/self/maps has a shared read-only mapping of inode `ino`
 * whose name starts with `prefix`. */
static int mapped(ino_t ino, const char *prefix) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char perms[8], name[4096] = "";
        unsigned long long inode = 0;
        if (sscanf(line, "%*s %7s %*s %*s %llu %4095[^\n]", perms, &inode, name) < 2) continue;
        const char *n = name;
        while (*n == ' ') n++;
        found = inode == (unsigned long long)ino && !strcmp(perms, "r--s") &&
                !strncmp(n, prefix, strlen(prefix));
    }
    fclose(f);
    return found;
}

int main(int argc, char **argv) {
    if (argc != 4 || strlen(argv[3]) != 64) {
        fprintf(stderr, "usage: %s PLAIN.gguf MODEL.ava3 KEYHEX\n", argv[0]);
        return 2;
    }
    uint8_t key[32];
    for (int i = 0; i < 32; i++) sscanf(argv[3] + 2 * i, "%2hhx", &key[i]);
    llama_log_set(quiet, NULL);
    llama_backend_init();

    int fd = protected_memfd(argv[2], key);
    check(fd >= 0, "the decoder makes a memfd");
    if (fd < 0) {
        printf("llama.cpp path: %d passed, %d failed\n", passed, failed);
        return 1;
    }
    int seals = fcntl(fd, F_GET_SEALS);
    check(seals >= 0 && (seals & (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) ==
                            (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) &&
              (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)),
          "the memfd is sealed (write, grow, shrink, seal)");
    check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "the descriptor is read-only");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct stat mst, pst;
    check(fstat(fd, &mst) == 0 && stat(argv[1], &pst) == 0 && mst.st_size == pst.st_size,
          "the memfd holds as many bytes as the plain model");

    struct llama_model_params mp = llama_model_default_params();
    mp.load_mode = LLAMA_LOAD_MODE_MMAP;
    struct llama_model *plain = llama_model_load_from_file(argv[1], mp);
    struct llama_model *prot = llama_model_load_from_file(path, mp);
    check(plain != NULL, "plain model loads by its path (mmap)");
    check(prot != NULL, "protected model loads by /proc/self/fd/N (mmap)");
    check(mapped(pst.st_ino, "/"), "llama.cpp maps the plain model");
    check(mapped(mst.st_ino, "/memfd:"), "llama.cpp maps the memfd (shared, read-only)");
    if (plain && prot) {
        char label[96];
        snprintf(label, sizeof label, "llama.cpp path %s (mmap)", path);
        compare_models(plain, prot, label);
    }
    llama_model_free(plain);
    llama_model_free(prot); /* the runtime is done with the path: now the fd may go */
    close(fd);
    llama_backend_free();
    printf("llama.cpp path: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
