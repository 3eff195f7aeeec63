/*
 * What a runtime that takes only a path does with the decoder's memfd, done
 * by hand with no runtime, so that it runs anywhere a static C program does
 * (the 5.10 and 6.1 kernel VMs of tests/device.sh, where there is no Python
 * and no libllama):
 *
 * - llama.cpp's mmap loader (llama-mmap.cpp): fopen(path, "rb"), fstat for
 *   the size, mmap(PROT_READ, MAP_SHARED | MAP_POPULATE) of fileno(),
 *   posix_madvise(WILLNEED), then munmap of page-aligned fragments it does
 *   not need (unmap_fragment), the rest still read;
 * - LiteRT's and MediaPipe's (MMAPAllocation, ExternalFileHandler):
 *   open(path, O_RDONLY), fstat, mmap(PROT_READ, MAP_SHARED);
 * - every byte mapped equals the plaintext; after the decoder's descriptor
 *   is closed the runtime's mapping and descriptor keep the memory;
 * - the seals hold through the path: a writable shared mapping, mprotect to
 *   writable, and writes, growing and shrinking through a descriptor
 *   reopened read-write are all refused; the descriptor is close-on-exec.
 *
 *   memfd_path MODEL.ava3 PLAINTEXT KEYHEX
 *
 * Prints "memfd-path: N passed, M failed" and the kernel release.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ava3.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s (errno: %s)\n", what, strerror(errno));
    }
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 4 || strlen(argv[3]) != 64) {
        fprintf(stderr, "usage: %s MODEL.ava3 PLAINTEXT KEYHEX\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    struct utsname u;
    uname(&u);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) sscanf(argv[3] + 2 * i, "%2hhx", &key[i]);
    size_t plen = 0;
    uint8_t *plain = read_all(argv[2], &plen);
    if (!plain || plen == 0) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);

    Ava3Decoder *d = NULL;
    Ava3Result r = ava3_decoder_open_path(argv[1], &d);
    if (r == AVA3_RESULT_OK) r = ava3_decoder_set_key(d, key, 32);
    int fd = -1;
    if (r == AVA3_RESULT_OK) r = ava3_decoder_decode_to_memfd(d, &fd);
    ava3_decoder_free(d);
    memset(key, 0, sizeof key);
    check(r == AVA3_RESULT_OK && fd >= 0, "decode_to_memfd");
    if (fd < 0) {
        printf("memfd-path: %d passed, %d failed (kernel %s %s)\n", passed, failed, u.release, u.machine);
        return 1;
    }
    int seals = fcntl(fd, F_GET_SEALS);
    check(seals >= 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) && (seals & F_SEAL_GROW) &&
              (seals & F_SEAL_SHRINK) && (seals & F_SEAL_SEAL),
          "sealed: write, grow, shrink, seal");
    check((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec (not inherited by programs it runs)");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    /* llama.cpp, LLAMA_LOAD_MODE_MMAP. */
    FILE *lf = fopen(path, "rb");
    check(lf != NULL, "llama.cpp: fopen(/proc/self/fd/N, rb)");
    uint8_t *lm = MAP_FAILED;
    size_t lsize = 0;
    if (lf) {
        struct stat st;
        int same = fstat(fileno(lf), &st) == 0 && (size_t)st.st_size == plen;
        check(same, "llama.cpp: fstat size is the plaintext's");
        /* (Compared only at the plaintext's size: a shorter mapping would
         * end the program with SIGBUS instead of a failed check.) */
        lsize = same ? plen : 0;
        if (lsize) lm = mmap(NULL, lsize, PROT_READ, MAP_SHARED | MAP_POPULATE, fileno(lf), 0);
        check(lm != MAP_FAILED, "llama.cpp: mmap(PROT_READ, MAP_SHARED | MAP_POPULATE)");
        if (lm != MAP_FAILED) {
            check(posix_madvise(lm, lsize, POSIX_MADV_WILLNEED) == 0, "llama.cpp: posix_madvise(WILLNEED)");
            check(!memcmp(lm, plain, plen), "llama.cpp: mapped bytes are the plaintext");
            /* (Refused because the descriptor is read-only, whatever the seals.) */
            check(mprotect(lm, page, PROT_READ | PROT_WRITE) != 0,
                  "mprotect of the read-only shared mapping to writable refused");
        }
    }
    /* LiteRT / MediaPipe. */
    int tfd = open(path, O_RDONLY | O_CLOEXEC);
    check(tfd >= 0, "LiteRT: open(/proc/self/fd/N, O_RDONLY)");
    uint8_t *tm = MAP_FAILED;
    if (tfd >= 0) {
        tm = mmap(NULL, plen, PROT_READ, MAP_SHARED, tfd, 0);
        struct stat st;
        int same = fstat(tfd, &st) == 0 && (size_t)st.st_size == plen;
        if (same) tm = mmap(NULL, plen, PROT_READ, MAP_SHARED, tfd, 0);
        check(same && tm != MAP_FAILED && !memcmp(tm, plain, plen), "LiteRT: mmap(PROT_READ, MAP_SHARED), bytes equal");
        check(mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0) == MAP_FAILED,
              "writable shared mapping of the read-only descriptor refused");
    }
    /* The seals hold for any descriptor the path gives, even read-write. */
    int wfd = open(path, O_RDWR | O_CLOEXEC);
    if (wfd >= 0) {
        check(pwrite(wfd, "x", 1, 0) < 0 && errno == EPERM, "write through a read-write reopen refused (EPERM)");
        check(ftruncate(wfd, (off_t)plen + 1) < 0 && errno == EPERM, "grow refused (EPERM)");
        check(ftruncate(wfd, 0) < 0 && errno == EPERM, "shrink refused (EPERM)");
        check(mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0) == MAP_FAILED,
              "writable shared mapping through a read-write reopen refused");
        close(wfd);
    } else {
        /* The memfd's mode lets its owner open it read-write; the seals,
         * not the open, are what must refuse. */
        check(0, "a read-write reopen of /proc/self/fd/N");
    }

    /* The decoder's descriptor closed: the path is gone, the runtimes'
     * mappings and descriptors keep the memory. */
    close(fd);
    if (lm != MAP_FAILED) {
        check(!memcmp(lm, plain, plen), "llama.cpp mapping intact after the decoder's fd is closed");
        /* unmap_fragment: whole pages in the middle go, the rest stays. */
        if (lsize > 3 * page) {
            check(munmap(lm + page, page) == 0, "llama.cpp: munmap of a fragment");
            check(!memcmp(lm, plain, page) && !memcmp(lm + 2 * page, plain + 2 * page, plen - 2 * page),
                  "llama.cpp: the rest of the mapping still the plaintext");
            munmap(lm, page);
            munmap(lm + 2 * page, lsize - 2 * page);
        } else {
            munmap(lm, lsize);
        }
    }
    if (lf) fclose(lf);
    if (tfd >= 0) close(tfd);
    if (tm != MAP_FAILED) {
        check(!memcmp(tm, plain, plen), "LiteRT mapping intact with every descriptor closed");
        munmap(tm, plen);
    }
    free(plain);
    printf("memfd-path: %d passed, %d failed (kernel %s %s)\n", passed, failed, u.release, u.machine);
    return failed ? 1 : 0;
}
