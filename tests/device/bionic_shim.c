/*
 * LD_PRELOAD for the host (x86_64 glibc) that lets the x86_64 *Android*
 * build of libava3_decoder.so (and libava3_jni.so), as packaged in the .aar,
 * run here: it supplies the few bionic-only symbols the library imports and
 * gives bionic's meaning to the two calls whose glibc meaning differs.
 * Used by tests/device.sh to run the C ABI test program and the .aar's own
 * Java class against the packaged Android libraries. Not bionic: it checks
 * the link (relocations, the unwinder built without the NDK, exports,
 * imports), not Android's C library.
 *
 * BIONIC_SHIM_LIB names the Android library; calls from it (found with
 * dladdr on the return address) get bionic semantics, everyone else glibc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int from_android(const void *ret) {
    static char want[4096];
    static int init;
    if (!init) {
        const char *p = getenv("BIONIC_SHIM_LIB");
        if (!p || !realpath(p, want)) want[0] = 0;
        init = 1;
    }
    Dl_info info;
    char got[4096];
    return want[0] && dladdr(ret, &info) && info.dli_fname && realpath(info.dli_fname, got) && !strcmp(got, want);
}

/* bionic: the errno accessor. */
int *__errno(void) { return &errno; }

/* bionic: system properties; none here. */
int __system_property_get(const char *name, char *value) {
    (void)name;
    value[0] = 0;
    return 0;
}

/* bionic's sysconf names (<bits/sysconf.h>) where they differ from glibc's. */
long sysconf(int name) {
    static long (*real)(int);
    if (!real) real = (long (*)(int))dlsym(RTLD_NEXT, "sysconf");
    if (from_android(__builtin_return_address(0))) {
        switch (name) {
        case 0x27: /* _SC_PAGESIZE */
        case 0x28: name = _SC_PAGESIZE; break;
        case 0x48: name = _SC_GETPW_R_SIZE_MAX; break;
        case 0x60: name = _SC_NPROCESSORS_CONF; break;
        case 0x61: name = _SC_NPROCESSORS_ONLN; break;
        default: errno = EINVAL; return -1;
        }
    }
    return real(name);
}

/* bionic's strerror_r is the POSIX one (returns int); glibc's symbol is GNU's. */
extern int __xpg_strerror_r(int, char *, size_t);
char *strerror_r(int e, char *buf, size_t len) {
    static char *(*real)(int, char *, size_t);
    if (!real) real = (char *(*)(int, char *, size_t))dlsym(RTLD_NEXT, "strerror_r");
    if (from_android(__builtin_return_address(0))) return (char *)(intptr_t)__xpg_strerror_r(e, buf, len);
    return real(e, buf, len);
}

/* bionic's funopen over glibc's fopencookie (64-bit off_t on x86_64 Android). */
typedef struct {
    void *cookie;
    int (*read)(void *, char *, int);
    off_t (*seek)(void *, off_t, int);
    int (*close)(void *);
} Funopen;

static ssize_t f_read(void *c, char *buf, size_t n) {
    Funopen *f = c;
    return f->read(f->cookie, buf, n > 0x7fffffff ? 0x7fffffff : (int)n);
}
static int f_seek(void *c, off64_t *pos, int whence) {
    Funopen *f = c;
    off_t r = f->seek(f->cookie, *pos, whence);
    if (r < 0) return -1;
    *pos = r;
    return 0;
}
static int f_close(void *c) {
    Funopen *f = c;
    int r = f->close ? f->close(f->cookie) : 0;
    free(f);
    return r;
}

FILE *funopen(const void *cookie, int (*readfn)(void *, char *, int), int (*writefn)(void *, const char *, int),
              off_t (*seekfn)(void *, off_t, int), int (*closefn)(void *)) {
    if (writefn) {
        errno = EINVAL;
        return NULL;
    }
    Funopen *f = malloc(sizeof *f);
    if (!f) return NULL;
    *f = (Funopen){(void *)cookie, readfn, seekfn, closefn};
    cookie_io_functions_t io = {.read = readfn ? f_read : NULL, .seek = seekfn ? f_seek : NULL, .close = f_close};
    FILE *file = fopencookie(f, "r", io);
    if (!file) free(f);
    return file;
}
